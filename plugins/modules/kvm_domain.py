#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: kvm_domain
short_description: Manage libvirt guests through their whole lifecycle, idempotently
version_added: 0.1.0
description:
  - Defines, starts, stops, changes and removes libvirt guests (domains).
  - The desired guest is compared with the live one by meaning and only for what you specify. Memory is
    compared in MiB whatever unit you use; disks are matched by target, else by path or volume; NICs by MAC,
    else by position. A MAC you do not give is generated once and kept on every later run; UUIDs, PCI
    addresses and other values libvirt chose are kept.
  - On a running guest, NICs (attach, detach, source, link state), virtio/SCSI disks (attach, detach),
    CD-ROM media, memory up to O(max_memory) and vCPUs up to O(max_vcpus) change live and in the
    persistent definition. Anything else changes the persistent definition and returns
    RV(restart_required=true), or restarts the guest gracefully with O(restart=true).
  - All input is checked against the host (networks, bridges, files, MACs of other guests, memory, vCPU
    and CPU-model limits, firmware, usable KVM) before anything changes.
author:
  - kvmops.kvm maintainers (@kvmops)
extends_documentation_fragment:
  - kvmops.kvm.connection
  - kvmops.kvm.connection.attributes
options:
  name:
    description: Name of the guest (letters, digits, C(.), C(_), C(+), C(-)).
    type: str
    required: true
  state:
    description:
      - V(running) - defined and running (a paused guest is resumed).
      - V(shutdown) - defined and off after a graceful ACPI shutdown; waits up to O(shutdown_timeout),
        then fails unless O(force=true), which powers it off.
      - V(destroyed) - defined and powered off at once.
      - V(paused) - defined, running and paused.
      - V(present) - defined; the power state is left as it is.
      - V(absent) - powered off and undefined (with its UEFI NVRAM, managed save and snapshot metadata).
        Disks are kept unless O(remove_storage=true).
    type: str
    choices: [running, shutdown, destroyed, paused, present, absent]
    default: running
  autostart:
    description: Start the guest when the host boots. Left as it is when not given.
    type: bool
  type:
    description:
      - The hypervisor. V(auto) picks V(kvm) when hardware virtualization is usable (the CPU has VT-x or
        AMD-V, kvm_intel/kvm_amd drives /dev/kvm and the kernel creates a VM), else V(qemu) (emulation),
        with a warning. V(auto) leaves an existing guest's type as it is.
      - V(kvm) fails before anything changes when KVM is not usable, saying why.
    type: str
    choices: [auto, kvm, qemu]
    default: auto
  memory:
    description:
      - Memory of the guest, in MiB as a number or with a unit (V(512MiB), V(2GiB), V(1G)).
      - 1024 MiB when a guest is created without it.
    type: raw
  max_memory:
    description:
      - The most memory the guest can get while running (the balloon ceiling); O(memory) can change live
        up to it. Defaults to O(memory). Changing it needs a restart.
    type: raw
  vcpus:
    description: Virtual CPUs the guest runs with; 1 when created without it. Can rise live up to O(max_vcpus).
    type: int
  max_vcpus:
    description: The most vCPUs the guest can get while running. Defaults to O(vcpus).
    type: int
  cpu:
    description: The CPU the guest sees. Checked against what the host offers for O(type).
    type: dict
    suboptions:
      mode:
        description: How the guest CPU is defined.
        type: str
        choices: [host-passthrough, host-model, custom, maximum]
      model:
        description: The CPU model for O(cpu.mode=custom), for example V(Westmere).
        type: str
  machine:
    description: Machine type, for example V(pc), V(q35) or a versioned one; aliases are resolved to the
      versioned name the host's QEMU uses, so V(q35) and V(pc-q35-7.2) compare equal there.
    type: str
  firmware:
    description: V(bios) (SeaBIOS) or V(uefi) (OVMF, with its own NVRAM, removed with the guest).
    type: str
    choices: [bios, uefi]
  boot:
    description: Boot devices in order. Defaults to V(hd) (and V(cdrom) when a CD-ROM is given) for a new
      guest without O(kernel).
    type: list
    elements: str
    choices: [hd, cdrom, network]
  kernel:
    description: A kernel on the host for direct kernel boot.
    type: path
  initrd:
    description: An initrd on the host for direct kernel boot.
    type: path
  cmdline:
    description: The kernel command line for direct kernel boot (the C(-append) of plain QEMU).
    type: str
  disks:
    description:
      - The guest's disks. The list is the whole set, so disks not in it are detached (their files are kept).
      - Each disk is a file (O(disks[].path)) or a volume of a storage pool (O(disks[].pool) and
        O(disks[].volume)). A missing one is created when O(disks[].size) is given (or as an overlay with
        O(disks[].backing)).
    type: list
    elements: dict
    suboptions:
      name:
        description: A label for the disk in messages; defaults to its volume or path.
        type: str
      path:
        description: Path of the disk file or block device on the host.
        type: str
      pool:
        description: Storage pool holding O(disks[].volume).
        type: str
      volume:
        description: Volume name in O(disks[].pool).
        type: str
      size:
        description: Size of a disk to create when it is missing, a number in GiB or with a unit (V(10G), V(512MiB)).
        type: raw
      backing:
        description: Base image for a missing disk, created as a qcow2 overlay on it.
        type: str
      format:
        description: Image format; detected for existing files, V(qcow2) for new ones.
        type: str
        choices: [qcow2, raw]
      bus:
        description: Disk bus; V(virtio) when not given. Only virtio and SCSI disks attach and detach live.
        type: str
        choices: [virtio, sata, scsi, ide]
      target:
        description: Device name in the guest (V(vda), V(sdb)); the first free one of the bus when not given.
        type: str
      cache:
        description: QEMU cache mode.
        type: str
        choices: [none, writethrough, writeback, directsync, unsafe, default]
      readonly:
        description: Attach read-only.
        type: bool
  cdrom:
    description:
      - An ISO on the host to put in the guest's CD-ROM drive; an empty string ejects it. A running guest's
        media changes live. Left as it is when not given.
    type: str
  interfaces:
    description:
      - The guest's NICs, in order. The list is the whole set. Exactly one of O(interfaces[].network),
        O(interfaces[].bridge) or O(interfaces[].direct) per NIC.
    type: list
    elements: dict
    suboptions:
      network:
        description: A libvirt network (see M(kvmops.kvm.kvm_network)).
        type: str
      bridge:
        description: An existing host bridge.
        type: str
      direct:
        description:
          - A host device for macvtap (bridge mode). The guest reaches the device's segment, not the host itself
            through that device.
          - On a running guest, a change of device (or to or from V(direct)) waits for a restart (RV(restart_required)).
        type: str
      model:
        description: NIC model; V(virtio) when not given.
        type: str
      mac:
        description: MAC address. Generated once (52:54:00:...) and kept when not given. Must not be used
          by another guest on the host.
        type: str
      portgroup:
        description:
          - Portgroup of the libvirt network; it must be defined in the network.
          - On a running guest, a change waits for a restart (RV(restart_required)).
        type: str
      link_state:
        description: Whether the link is up; changes live.
        type: str
        choices: [up, down]
  graphics:
    description:
      - The graphical console. A new guest gets VNC on 127.0.0.1 when this is not given.
      - A serial console is always present.
    type: dict
    suboptions:
      type:
        description: Console protocol, or V(none) for a headless guest.
        type: str
        choices: [vnc, spice, none]
        default: vnc
      listen:
        description: Address to listen on. Only the host itself by default; give V(0.0.0.0) deliberately.
        type: str
        default: 127.0.0.1
      port:
        description: TCP port; chosen automatically when not given (or V(-1)).
        type: int
      password:
        description: Console password; changes live.
        type: str
  cloud_init:
    description:
      - Builds a NoCloud seed ISO (volume C(cidata)) for cloud-init and attaches it as a CD-ROM. The ISO is
        rebuilt only when its content changes.
      - Needs the C(pycdlib) Python library on the managed host.
    type: dict
    suboptions:
      user_data:
        description:
          - C(user-data); a dict becomes C(#cloud-config), a string is used as it is.
          - It often carries passwords and keys, so it is C(no_log) - Ansible hides its values wherever they would
            appear in the task's output (the guest's own name excepted), and the diff names the seed's files only.
          - The seed ISO is written with mode V(0600), owned by the user QEMU runs as.
        type: raw
      meta_data:
        description: C(meta-data); defaults to instance-id and local-hostname set to the guest's name.
        type: raw
      network_config:
        description: C(network-config) (version 1 or 2), dict or string.
        type: raw
      directory:
        description: Directory for the seed ISO C(<name>-cidata.iso).
        type: path
        default: /var/lib/libvirt/images
  xml:
    description:
      - A complete domain definition instead of the typed options, compared by meaning with the current
        definition. The parts the typed options cover (memory, vCPUs, cpu mode and model, os type, boot,
        kernel, disks, interfaces, graphics) are compared as those options are, so MACs and addresses
        libvirt generated are kept.
      - Everything else (clock, features, C(on_*) actions, other C(os) and C(cpu) children, controllers,
        channels, video, rng...) must be in the definition as written; what libvirt adds (defaults,
        addresses) is no difference, sizes compare in bytes, children in any order. An element that
        differs is laid over the definition; a device that differs replaces its counterpart (same type,
        index, target) and keeps its address, or is added. Elements left out of O(xml) are not removed.
      - On a running guest those other changes go to the persistent definition and set
        RV(restart_required).
    type: str
  restart:
    description: Allow a graceful restart (ACPI shutdown, then start) when a change cannot be applied live.
    type: bool
    default: false
  shutdown_timeout:
    description: Seconds to wait for a graceful shutdown. The ACPI power button is pressed again every 10 seconds
      meanwhile (a press while the guest still boots is lost).
    type: int
    default: 120
  force:
    description: Power the guest off when it ignores a graceful shutdown for O(shutdown_timeout) seconds.
    type: bool
    default: false
  remove_storage:
    description: With O(state=absent), delete the guest's disks (and its cloud-init seed) too.
    type: bool
    default: false
  wait_for:
    description: V(ip) waits until the guest has an IPv4 address (DHCP leases of libvirt networks, or the guest agent).
    type: str
    choices: [ip]
  wait_timeout:
    description: Seconds to wait for O(wait_for).
    type: int
    default: 300
seealso:
  - module: kvmops.kvm.kvm_network
  - name: libvirt domain XML format
    description: What each part of a domain definition means.
    link: https://libvirt.org/formatdomain.html
'''

EXAMPLES = r'''
- name: A guest from a cloud image overlay, configured by cloud-init, on the default network
  kvmops.kvm.kvm_domain:
    name: web1
    memory: 2GiB
    vcpus: 2
    disks:
      - path: /var/lib/libvirt/images/web1.qcow2
        backing: /var/lib/libvirt/images/debian-12-generic-amd64.qcow2
    interfaces:
      - network: default
    cloud_init:
      user_data:
        hostname: web1
        ssh_authorized_keys:
          - "{{ lookup('ansible.builtin.file', '~/.ssh/id_ed25519.pub') }}"
    wait_for: ip
  register: web1

# Raising the ceiling (max_memory) needs a restart, which restart: true allows; from then on memory up to
# 4 GiB changes live (balloon), without one
- name: More memory, and room to add more later without a restart
  kvmops.kvm.kvm_domain:
    name: web1
    memory: 3GiB
    max_memory: 4GiB
    restart: true

- name: Install from an ISO onto a new 20 GiB disk
  kvmops.kvm.kvm_domain:
    name: installer
    memory: 2048
    disks:
      - pool: default
        volume: installer.qcow2
        size: 20G
    cdrom: /iso/debian-12.iso
    boot: [cdrom, hd]
    interfaces:
      - bridge: br0
        mac: "52:54:00:20:00:01"

- name: Eject the ISO (live)
  kvmops.kvm.kvm_domain:
    name: installer
    cdrom: ""

- name: Shut down gracefully, power off after two minutes
  kvmops.kvm.kvm_domain:
    name: installer
    state: shutdown
    force: true

- name: Remove a guest and its disks
  kvmops.kvm.kvm_domain:
    name: installer
    state: absent
    remove_storage: true
'''

RETURN = r'''
domain:
  description: The guest after the run (in check mode, as the run would leave it). Null when absent.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the guest.
      type: str
    uuid:
      description: UUID (null in check mode for a guest not created yet).
      type: str
    state:
      description: Power state, V(running), V(paused) or V(shutoff).
      type: str
    type:
      description: Hypervisor type, V(kvm) or V(qemu).
      type: str
    autostart:
      description: Whether the guest starts with the host.
      type: bool
    memory:
      description: Memory in MiB.
      type: int
    vcpus:
      description: Virtual CPUs.
      type: int
    interfaces:
      description: NICs with their MAC, type, source, model and IPv4 addresses (running guests).
      type: list
      elements: dict
      sample: [{mac: "52:54:00:3e:10:aa", type: network, source: default, model: virtio, ipv4: [192.168.122.31]}]
    disks:
      description: Disks with target, path (or pool and volume), format and bus.
      type: list
      elements: dict
    graphics:
      description: Graphical console type, listen address and port (the password is never returned).
      type: dict
actions:
  description: What was done (or would be done in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: ["define domain 'web1': memory", "set memory of domain 'web1': 3072 MiB (live)"]
diff:
  description: The compared fields that differ, before and after (passwords masked).
  returned: always
  type: dict
restart_required:
  description: The guest runs with an older definition that only a restart applies.
  returned: always
  type: bool
'''

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.module import KvmModule
from ansible_collections.kvmops.kvm.plugins.module_utils._domain.domain import Domain
from ansible_collections.kvmops.kvm.plugins.module_utils._domain import options


def argument_spec():
    return options.argument_spec()


def main():
    module = KvmModule(argument_spec(),
                       mutually_exclusive=options.MUTUALLY_EXCLUSIVE)
    module.run(Domain)


if __name__ == '__main__':
    main()
