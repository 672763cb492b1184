#!/usr/bin/env bash
# The first command: installs what RadonFS needs, builds it (release), and starts a local
# cluster — a metadata service, six storage daemons (layout 4+2, disks as directories) and a
# FUSE mount — under ./run/cluster. Extra arguments go to `radonfs up`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-dependencies.sh
swift build -c release --product radonfs
exec .build/release/radonfs up --dir "${RADONFS_DIR:-run/cluster}" "$@"
