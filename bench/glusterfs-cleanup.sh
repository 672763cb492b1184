#!/usr/bin/env bash
# Removes what an interrupted `radonfs bench fs` may leave of its GlusterFS target when it was
# killed too hard to tear down itself: the mount, the volume `radonfs-bench`, and its bricks.
# glusterd itself is left running if it runs (stop it by its pid if you started it).
# Usage: bench/glusterfs-cleanup.sh [WORK_DIR]   (WORK_DIR as given to --work-dir, or the
# /tmp/radonfs-bench-fs-* directory the run printed)
set -uo pipefail

volume=radonfs-bench
for work in "${1:-}" /tmp/radonfs-bench-fs-*; do
    [[ -n "$work" && -d "$work/glusterfs" ]] || continue
    if mountpoint -q "$work/glusterfs/mnt"; then
        umount "$work/glusterfs/mnt" || umount -l "$work/glusterfs/mnt"
    fi
done
if gluster --mode=script volume list 2>/dev/null | grep -qx "$volume"; then
    gluster --mode=script volume stop "$volume" force
    gluster --mode=script volume delete "$volume"
fi
for work in "${1:-}" /tmp/radonfs-bench-fs-*; do
    [[ -n "$work" && -d "$work/glusterfs" ]] && rm -rf "$work/glusterfs"
done
exit 0
