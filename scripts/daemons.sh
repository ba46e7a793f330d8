#!/usr/bin/env bash
# Start virtlogd and libvirtd when they do not answer (machines without systemd: CI, containers).
set -euo pipefail
if virsh -q -c qemu:///system version >/dev/null 2>&1; then
  exit 0
fi
if ! pgrep -x virtlogd >/dev/null; then virtlogd -d; fi
if ! pgrep -x libvirtd >/dev/null; then libvirtd -d; fi
for _ in $(seq 1 50); do
  virsh -q -c qemu:///system version >/dev/null 2>&1 && exit 0
  sleep 0.2
done
echo "daemons: libvirtd does not answer on qemu:///system" >&2
exit 1
