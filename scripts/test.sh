#!/usr/bin/env bash
# The second command: installs what the tests need, builds everything, and runs the whole test
# suite. The suite starts real daemons on loopback and mounts the real FUSE file system, so it
# runs as root (or with /dev/fuse usable by the user).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-dependencies.sh --test
swift build --build-tests
# One test at a time: the suites start whole clusters, and on a 2-core machine clusters started
# side by side starve each other into time-outs that say nothing about the code.
swift test --skip-build --no-parallel "$@"
