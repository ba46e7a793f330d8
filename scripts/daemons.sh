#!/usr/bin/env bash
# Start virtlogd and libvirtd when they do not answer (machines without systemd: CI, containers).
set -euo pipefail

# Where no udev runs, /dev/kvm keeps the kernel's 0600 root:root. QEMU (libvirt-qemu) then cannot open
# it, and libvirt throws its capability cache away and re-probes QEMU on every call (seconds each).
# Give it what Debian's udev rule gives it, before libvirtd starts; never where udev manages /dev.
kvm_device_like_udev() {
  [ -c /dev/kvm ] || return 0
  [ -S /run/udev/control ] && return 0
  getent group kvm >/dev/null || groupadd --system kvm
  if id libvirt-qemu >/dev/null 2>&1 && ! id -nG libvirt-qemu | tr ' ' '\n' | grep -qx kvm; then
    usermod -a -G kvm libvirt-qemu
  fi
  if [ "$(stat -c '%G %a' /dev/kvm)" != "kvm 660" ]; then
    chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
    echo "daemons: no udev here; /dev/kvm set to root:kvm 0660 as udev would (else libvirt re-probes QEMU on every call)"
  fi
}
kvm_device_like_udev

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
