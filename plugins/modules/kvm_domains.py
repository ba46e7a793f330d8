#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: kvm_domains
short_description: Converge many libvirt guests in one task, over one connection
version_added: 0.2.0
description:
  - Converges a list of guests in one module run, with one process and one libvirt connection for all of
    them, instead of one of each per guest as a loop of M(kvmops.kvm.kvm_domain) costs. A drift check of
    50 guests that changes nothing takes about as long as one task (see C(docs/benchmarks/batch.md)).
  - Each item of O(domains) takes every option of M(kvmops.kvm.kvm_domain) and is converged exactly as
    that module would (compared by meaning, only for what the item specifies, with the same check mode,
    diff and live changes). Results are keyed by guest name.
  - Every item is checked, its options and then against the host, before any guest is touched; bad input
    fails the task naming the item (C(domains[2].memory)) and changes nothing.
  - A guest that fails while it is converged does not stop the others. The task then fails at the end,
    naming every failed guest in RV(failed_domains), and each failed guest's result says what failed and
    what was done before it.
  - The guests are converged one after another in list order (a guest's wait, such as O(domains[].wait_for)
    or a graceful shutdown, delays the ones after it).
  - With O(hypervisors), one run converges the guests of many hypervisors, each over a libvirt connection
    of its own, the hypervisors side by side (O(parallel_hypervisors) at a time). Run it once on the
    controller (C(run_once) and C(delegate_to=localhost)) for a drift check of a whole fleet that costs one
    task, not one module process per host (see C(docs/benchmarks/fleet.md)). Every guest of every
    hypervisor is checked before any host is touched. A hypervisor that cannot be reached fails alone; the
    others are converged, and the task fails at the end naming it in RV(failed_hypervisors).
author:
  - kvmops.kvm maintainers (@kvmops)
extends_documentation_fragment:
  - kvmops.kvm.connection
  - kvmops.kvm.connection.fleet
  - kvmops.kvm.connection.attributes
options:
  domains:
    description:
      - The guests, each with the options of M(kvmops.kvm.kvm_domain). A guest's name may appear once (once
        per hypervisor with O(hypervisors)).
      - O(uri) is shared by all of them.
      - Required unless O(hypervisors) is given (then an empty list converges nothing).
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the guest (letters, digits, C(.), C(_), C(+), C(-)).
        type: str
        required: true
      hypervisor:
        description:
          - With O(hypervisors), the name of the hypervisor the guest belongs to; without it, the guest belongs
            to every hypervisor of O(hypervisors) (the guests role's C(guests_list[].hypervisor) means the same).
          - Only with O(hypervisors).
        type: str
      state:
        description:
          - V(running) - defined and running (a paused guest is resumed).
          - V(shutdown) - defined and off after a graceful ACPI shutdown; waits up to O(domains[].shutdown_timeout),
            then fails unless O(domains[].force=true), which powers it off.
          - V(destroyed) - defined and powered off at once.
          - V(paused) - defined, running and paused.
          - V(present) - defined; the power state is left as it is.
          - V(absent) - powered off and undefined (with its UEFI NVRAM, managed save and snapshot metadata).
            Disks are kept unless O(domains[].remove_storage=true).
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
          - The most memory the guest can get while running (the balloon ceiling); O(domains[].memory) can change live
            up to it. Defaults to O(domains[].memory). Changing it needs a restart.
        type: raw
      vcpus:
        description: Virtual CPUs the guest runs with; 1 when created without it. Can rise live up to O(domains[].max_vcpus).
        type: int
      max_vcpus:
        description: The most vCPUs the guest can get while running. Defaults to O(domains[].vcpus).
        type: int
      cpu:
        description: The CPU the guest sees. Checked against what the host offers for O(domains[].type).
        type: dict
        suboptions:
          mode:
            description: How the guest CPU is defined.
            type: str
            choices: [host-passthrough, host-model, custom, maximum]
          model:
            description: The CPU model for O(domains[].cpu.mode=custom), for example V(Westmere).
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
          guest without O(domains[].kernel).
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
          - Each disk is a file (O(domains[].disks[].path)) or a volume of a storage pool (O(domains[].disks[].pool) and
            O(domains[].disks[].volume)). A missing one is created when O(domains[].disks[].size) is given (or as an overlay with
            O(domains[].disks[].backing)).
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
            description: Storage pool holding O(domains[].disks[].volume).
            type: str
          volume:
            description: Volume name in O(domains[].disks[].pool).
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
          - The guest's NICs, in order. The list is the whole set. Exactly one of O(domains[].interfaces[].network),
            O(domains[].interfaces[].bridge) or O(domains[].interfaces[].direct) per NIC.
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
              - On a running guest, a change of device (or to or from V(direct)) waits for a restart (C(restart_required) in RV(domains)).
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
              - On a running guest, a change waits for a restart (C(restart_required) in RV(domains)).
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
            index, target) and keeps its address, or is added. Elements left out of O(domains[].xml) are not removed.
          - On a running guest those other changes go to the persistent definition and set
            C(restart_required) in RV(domains).
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
        description: Power the guest off when it ignores a graceful shutdown for O(domains[].shutdown_timeout) seconds.
        type: bool
        default: false
      remove_storage:
        description: With O(domains[].state=absent), delete the guest's disks (and its cloud-init seed) too.
        type: bool
        default: false
      wait_for:
        description: V(ip) waits until the guest has an IPv4 address (DHCP leases of libvirt networks, or the guest agent).
        type: str
        choices: [ip]
      wait_timeout:
        description: Seconds to wait for O(domains[].wait_for).
        type: int
        default: 300
seealso:
  - module: kvmops.kvm.kvm_domain
  - module: kvmops.kvm.kvm_domain_info
'''

EXAMPLES = r'''
- name: Drift check of every guest of a host, in one task
  kvmops.kvm.kvm_domains:
    domains: "{{ guests }}"
  vars:
    guests:
      - name: web1
        memory: 2GiB
        vcpus: 2
        interfaces:
          - network: default
      - name: web2
        memory: 2GiB
        vcpus: 2
        interfaces:
          - network: default
      - name: db1
        state: shutdown
        memory: 8GiB
  register: fleet

- name: Say which guests changed
  ansible.builtin.debug:
    msg: "{{ fleet.domains | dict2items | selectattr('value.changed') | map(attribute='key') | list }}"

- name: The same list, built from host variables, on a remote hypervisor
  kvmops.kvm.kvm_domains:
    uri: qemu+ssh://root@hv2.example.com/system
    domains: "{{ hv2_guests | map('combine', {'state': 'present'}) | list }}"

- name: Drift check of the guests of every hypervisor of the play, in one task on the controller
  kvmops.kvm.kvm_domains:
    hypervisors: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'kvm_uri'))) }}"
    domains: "{{ fleet_guests }}"
  vars:
    fleet_guests:
      - name: web1            # on every hypervisor
        memory: 1GiB
      - name: db1
        hypervisor: kvm2      # on kvm2 only
        memory: 8GiB
  run_once: true
  delegate_to: localhost
  register: drift

- name: What would change on each host
  ansible.builtin.debug:
    msg: "{{ drift.hypervisors[inventory_hostname].actions }}"
'''

RETURN = r'''
changed:
  description: Whether any guest changed (or would change in check mode).
  returned: always
  type: bool
domains:
  description:
    - One result per guest, keyed by its name, with the keys M(kvmops.kvm.kvm_domain) returns for it
      (C(changed), C(actions), C(diff), C(domain), C(restart_required)).
    - A guest that failed has C(failed=true), C(msg), C(changed), C(actions) (what was done before the
      failure) and, when a step failed after others, C(failed_action) and C(state_left).
  returned: when O(hypervisors) is not given (then see RV(hypervisors))
  type: dict
  sample:
    web1:
      changed: false
      actions: []
      diff: {before: {}, after: {}}
      restart_required: false
      domain: {name: web1, state: running, type: kvm, autostart: true, memory: 2048, vcpus: 2}
    web2:
      changed: true
      actions: ["set memory of domain 'web2': 2048 MiB (live)"]
      diff: {before: {memory: 1024}, after: {memory: 2048}}
      restart_required: false
      domain: {name: web2, state: running, type: kvm, autostart: true, memory: 2048, vcpus: 2}
actions:
  description: Every guest's actions, in list order (what was done, or would be done in check mode).
  returned: always
  type: list
  elements: str
  sample: ["set memory of domain 'web2': 2048 MiB (live)"]
diff:
  description: The compared fields that differ, before and after, keyed by the name of each guest that differs.
  returned: always
  type: dict
  sample: {before: {web2: {memory: 1024}}, after: {web2: {memory: 2048}}}
hypervisors:
  description:
    - With O(hypervisors), one result per hypervisor, keyed by its name, with C(uri), C(changed), C(actions) and
      C(diff) of its guests, and C(domains), its guests' results keyed by guest name (as RV(domains) without
      O(hypervisors)).
    - A hypervisor that failed has C(failed=true) and C(msg); when some of its guests failed, also
      C(failed_domains).
    - The task's own RV(actions) are prefixed with the hypervisor's name, and its RV(diff) is keyed by
      hypervisor, then guest.
  returned: when O(hypervisors) is given
  type: dict
  sample:
    kvm1:
      uri: qemu+ssh://root@kvm1/system
      changed: true
      actions: ["start domain 'db1'"]
      diff: {before: {db1: {state: shutoff}}, after: {db1: {state: running}}}
      domains:
        db1:
          changed: true
          actions: ["start domain 'db1'"]
          diff: {before: {state: shutoff}, after: {state: running}}
          restart_required: false
          domain: {name: db1, state: running, type: kvm, autostart: true, memory: 8192, vcpus: 4}
    kvm2:
      uri: qemu+ssh://root@kvm2/system
      changed: false
      actions: []
      diff: {before: {}, after: {}}
      domains: {}
failed_hypervisors:
  description: With O(hypervisors), the hypervisors that failed (unreachable, or a guest failed), in order.
  returned: when a hypervisor failed
  type: list
  elements: str
  sample: [kvm3]
failed_domains:
  description: The guests that failed, in list order (empty when none did).
  returned: when a guest failed while it was converged
  type: list
  elements: str
  sample: [db1]
'''

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import fleet
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.module import KvmModule
from ansible_collections.kvmops.kvm.plugins.module_utils._domain.domain import Domain
from ansible_collections.kvmops.kvm.plugins.module_utils._domain import options


def argument_spec():
    return fleet.batch_argument_spec('domains', options.argument_spec(), options.MUTUALLY_EXCLUSIVE)


def main():
    module = KvmModule(argument_spec(), required_one_of=[('domains', 'hypervisors')])
    module.run_many_or_fleet(Domain, 'domains')


if __name__ == '__main__':
    main()
