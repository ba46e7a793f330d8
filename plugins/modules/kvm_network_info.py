#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: kvm_network_info
short_description: Report libvirt virtual networks as kvm_network reads them
version_added: 0.2.0
description:
  - Lists every libvirt network, or the named ones, with their state and the same canonical model
    M(kvmops.kvm.kvm_network) compares with (netmasks as prefixes, MACs lower-case, lists sorted).
  - RV(networks[].params) are M(kvmops.kvm.kvm_network) options; given back to it, they change nothing.
  - Never changes anything.
author:
  - kvmops.kvm maintainers (@kvmops)
extends_documentation_fragment:
  - kvmops.kvm.connection
  - kvmops.kvm.connection.info_attributes
options:
  name:
    description: Names of the networks to report (a name or a list); all networks when not given.
    type: list
    elements: str
  xml:
    description: Also return each network's persistent XML definition.
    type: bool
    default: false
seealso:
  - module: kvmops.kvm.kvm_network
'''

EXAMPLES = r'''
- name: All networks
  kvmops.kvm.kvm_network_info:
  register: found

- name: One network's DHCP hosts
  kvmops.kvm.kvm_network_info:
    name: private1
  register: private1

- name: Show them
  ansible.builtin.debug:
    msg: "{{ private1.networks[0].model.ipv4.dhcp.hosts }}"

- name: Converge another host to the same networks
  kvmops.kvm.kvm_network: "{{ item.params }}"
  loop: "{{ found.networks }}"
  loop_control:
    label: "{{ item.name }}"
  delegate_to: kvm2
'''

RETURN = r'''
networks:
  description: The networks, in name order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the network.
      type: str
      sample: private1
    uuid:
      description: UUID of the network.
      type: str
      sample: 1a7b9c3e-52d1-4f0a-9b0e-3d1a2f4c5e6d
    active:
      description: Whether it runs.
      type: bool
    autostart:
      description: Whether it starts with the daemon.
      type: bool
    persistent:
      description: Whether it has a persistent definition.
      type: bool
    bridge:
      description: Its bridge device.
      type: str
      sample: virbr1
    model:
      description:
        - The persistent definition as the canonical model kvm_network compares with (mode, bridge,
          forward_dev, mtu, domain, ipv4, ipv6, dns_hosts; absent parts are null).
      type: dict
      sample: {mode: nat, bridge: virbr1, forward_dev: null, mtu: null, domain: null,
               ipv4: {address: 172.16.10.1, prefix: 24, dhcp: {ranges: [{start: 172.16.10.100, end: 172.16.10.200}],
                                                              hosts: []}},
               ipv6: null, dns_hosts: []}
    params:
      description: M(kvmops.kvm.kvm_network) options describing the network as it is (null parts left out).
      type: dict
      sample: {name: private1, state: active, autostart: true, mode: nat, bridge: virbr1,
               ipv4: {address: 172.16.10.1, prefix: 24, dhcp: {ranges: [], hosts: []}}, dns_hosts: []}
    xml:
      description: The persistent XML definition, with O(xml=true).
      type: str
      returned: when O(xml=true)
missing:
  description: Names given in O(name) that no network has.
  returned: always
  type: list
  elements: str
  sample: []
'''

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.module import KvmModule, info_argument_spec
from ansible_collections.kvmops.kvm.plugins.module_utils._network.info import NetworkInfo


def argument_spec():
    return info_argument_spec()


def main():
    KvmModule(argument_spec()).run_info(NetworkInfo)


if __name__ == '__main__':
    main()
