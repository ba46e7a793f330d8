#!/usr/bin/env bash
# Package the lab's Debian image (tests/lab/kvmlab, cached under KVMLAB_CACHE/images) as a local vagrant-libvirt
# box: no download. The image is a bare ext4 filesystem booted with its own kernel and initrd, so the box carries
# both and its Vagrantfile boots them directly (libvirt.kernel/initrd/cmd_line); root logs in with the lab's key.
#   scripts/vagrant_box.sh [OUTPUT.box]     default .cache/vagrant/kvmops-<image>.box; prints the box's path
#   vagrant box add --name kvmops/debian-bookworm "$(scripts/vagrant_box.sh)"
# An existing box of the same image is reused. The image is built first when the cache has none (kvmlab build).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${KVMOPS_PYTHON:-.venv/bin/python}

# the cached image of the current recipe: disk, kernel, initrd, kernel command line (one per line)
mapfile -t image < <("$python" - <<'PY'
import sys
sys.path.insert(0, 'tests/lab')
from kvmlab import Lab
image = Lab().debian_image()
print(image.disk, image.kernel, image.initrd, image.cmdline, sep='\n')
PY
)
disk=${image[0]} kernel=${image[1]} initrd=${image[2]} cmdline=${image[3]}
name=$(basename "$(dirname "$disk")")
box=${1:-.cache/vagrant/kvmops-$name.box}
if [ -s "$box" ]; then
    echo "$box"
    exit 0
fi
mkdir -p "$(dirname "$box")"
work=$(mktemp -d "$(dirname "$box")/.box-XXXXXX")
trap 'rm -rf "$work"' EXIT

# qcow2 keeps only the used blocks (about 0.9 GiB of the 4 GiB disk); uncompressed: compressing costs a minute
# of CPU here and the box is unpacked once
qemu-img convert -O qcow2 "$disk" "$work/box.img"
cp "$kernel" "$work/vmlinuz"
cp "$initrd" "$work/initrd.img"
size=$(( $(stat -c %s "$disk") / 1073741824 ))
printf '{"provider": "libvirt", "format": "qcow2", "virtual_size": %d}\n' "$size" > "$work/metadata.json"
cat > "$work/Vagrantfile" <<RUBY
# The kvmops.kvm lab's Debian image ($name) as a vagrant-libvirt box. The disk is a bare ext4 filesystem (no
# partition table, no boot loader): QEMU boots the kernel and initrd of this box directly. They are read from
# the box's directory under VAGRANT_HOME, which the QEMU user (libvirt-qemu) must be able to reach.
Vagrant.configure("2") do |config|
  config.ssh.username = "root"
  config.vm.provider :libvirt do |libvirt|
    libvirt.kernel = File.join(__dir__, "vmlinuz")
    libvirt.initrd = File.join(__dir__, "initrd.img")
    libvirt.cmd_line = "$cmdline"
    libvirt.disk_bus = "virtio"
  end
end
RUBY
tar -cf "$work/box.tar" -C "$work" metadata.json Vagrantfile box.img vmlinuz initrd.img
mv "$work/box.tar" "$box"
echo "$box"
