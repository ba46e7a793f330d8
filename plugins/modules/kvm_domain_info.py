#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: kvm_domain_info
short_description: Report libvirt guests as kvm_domain reads them
version_added: 0.2.0
description:
  - Lists every guest, or the named ones, with its power state and the same canonical model
    M(kvmops.kvm.kvm_domain) compares with (memory in MiB, NICs by MAC, disks by target).
  - RV(domains[].params) are M(kvmops.kvm.kvm_domain) options; given back to it, they change nothing.
    A device list the options cannot express (for example a user-mode NIC or a network disk) is left out
    of them whole, so that giving them back never removes a device.
  - Graphics passwords are never returned.
  - Never changes anything, and asks the host for no capabilities.
author:
  - kvmops.kvm maintainers (@kvmops)
extends_documentation_fragment:
  - kvmops.kvm.connection
  - kvmops.kvm.connection.info_attributes
options:
  name:
    description: Names of the guests to report (a name or a list); all guests when not given.
    type: list
    elements: str
  xml:
    description: Also return each guest's persistent XML definition (without secrets).
    type: bool
    default: false
seealso:
  - module: kvmops.kvm.kvm_domain
'''

EXAMPLES = r'''
- name: All guests
  kvmops.kvm.kvm_domain_info:
  register: found

- name: The running ones
  ansible.builtin.debug:
    msg: "{{ found.domains | selectattr('state', 'eq', 'running') | map(attribute='name') | list }}"

- name: One guest's disks
  kvmops.kvm.kvm_domain_info:
    name: web1
  register: web1

- name: Put every guest back as it was found (changes nothing when nothing drifted)
  kvmops.kvm.kvm_domain: "{{ item.params }}"
  loop: "{{ found.domains }}"
  loop_control:
    label: "{{ item.name }}"
'''

RETURN = r'''
domains:
  description: The guests, in name order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the guest.
      type: str
      sample: web1
    uuid:
      description: UUID of the guest.
      type: str
    state:
      description: V(running), V(paused) or V(shutdown) (off), as kvm_domain's O(kvmops.kvm.kvm_domain#module:state) says it.
      type: str
      sample: running
    autostart:
      description: Whether it starts with the daemon.
      type: bool
    persistent:
      description: Whether it has a persistent definition.
      type: bool
    type:
      description: Virtualization type (V(kvm) or V(qemu)).
      type: str
      sample: kvm
    memory:
      description: Memory in MiB.
      type: int
      sample: 2048
    vcpus:
      description: Virtual CPUs.
      type: int
      sample: 2
    model:
      description: The persistent definition as the canonical model kvm_domain compares with.
      type: dict
    params:
      description: M(kvmops.kvm.kvm_domain) options describing the guest as it is.
      type: dict
      sample: {name: web1, state: running, autostart: false, type: kvm, memory: 2048, max_memory: 2048, vcpus: 2,
               max_vcpus: 2, firmware: bios, boot: [hd],
               disks: [{path: /var/lib/libvirt/images/web1.qcow2, target: vda, bus: virtio, format: qcow2,
                        readonly: false}],
               interfaces: [{network: default, model: virtio, mac: "52:54:00:6b:3c:58", link_state: up}],
               graphics: {type: vnc, listen: 127.0.0.1}}
    xml:
      description: The persistent XML definition, with O(xml=true) (no graphics password).
      type: str
      returned: when O(xml=true)
missing:
  description: Names given in O(name) that no guest has.
  returned: always
  type: list
  elements: str
  sample: []
'''

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.module import KvmModule, info_argument_spec
from ansible_collections.kvmops.kvm.plugins.module_utils._domain.info import DomainInfo


def argument_spec():
    return info_argument_spec()


def main():
    KvmModule(argument_spec()).run_info(DomainInfo)


if __name__ == '__main__':
    main()
