#!/usr/bin/env bash
# The file-system benchmark of issue 4 in one command: installs fio and GlusterFS, builds the
# release binary, and runs `radonfs bench fs` (RadonFS, GlusterFS and the local disk, side by
# side). Arguments go to `radonfs bench fs`, e.g. `bench/fs.sh --quick` or `bench/fs.sh --json`.
# Runs as root: it drops caches, mounts, and starts glusterd.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-dependencies.sh --bench
swift build -c release --product radonfs
exec .build/release/radonfs bench fs "$@"
