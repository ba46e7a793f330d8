#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: kvm_networks
short_description: Converge many libvirt virtual networks in one task, over one connection
version_added: 0.2.0
description:
  - Converges a list of virtual networks in one module run, with one process and one libvirt connection for
    all of them, instead of one of each per network as a loop of M(kvmops.kvm.kvm_network) costs.
  - Each item of O(networks) takes every option of M(kvmops.kvm.kvm_network) and is converged exactly as
    that module would (compared by meaning, only for what the item specifies, with the same check mode, diff
    and live updates). Results are keyed by network name.
  - Every item is checked before any network is touched; bad input fails the task naming the item
    (C(networks[1].ipv4)) and changes nothing.
  - A network that fails while it is converged does not stop the others. The task then fails at the end,
    naming every failed network in RV(failed_networks).
  - With O(hypervisors), one run converges the networks of many hypervisors from the controller, each over a
    libvirt connection of its own, the hypervisors side by side (as M(kvmops.kvm.kvm_domains) does for guests).
author:
  - kvmops.kvm maintainers (@kvmops)
extends_documentation_fragment:
  - kvmops.kvm.connection
  - kvmops.kvm.connection.fleet
  - kvmops.kvm.connection.attributes
options:
  networks:
    description:
      - The networks, each with the options of M(kvmops.kvm.kvm_network). A name may appear once (once per
        hypervisor with O(hypervisors)).
      - O(uri) is shared by all of them.
      - Required unless O(hypervisors) is given (then an empty list converges nothing).
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the network.
        type: str
        required: true
      hypervisor:
        description:
          - With O(hypervisors), the name of the hypervisor the network belongs to; without it, the network
            belongs to every hypervisor of O(hypervisors). Only with O(hypervisors).
        type: str
      state:
        description:
          - V(active) - defined and running.
          - V(inactive) - defined and stopped.
          - V(present) - defined; whether it runs is left as it is.
          - V(absent) - stopped and undefined.
        type: str
        choices: [active, inactive, present, absent]
        default: active
      autostart:
        description:
          - Start the network when the libvirt daemon starts.
          - When a network is created with O(networks[].state=active), defaults to V(true); an existing network's autostart is
            changed only when this is given.
        type: bool
      mode:
        description:
          - How the network reaches the outside.
          - V(nat) - guests reach out through the host's routing with address translation.
          - V(isolated) - guests and host only.
          - V(route) - routed without translation.
          - V(bridge) - guests join the existing host bridge O(networks[].bridge); libvirt does no addressing.
          - V(open) - routed, libvirt adds no firewall rules.
          - V(nat) when the network is created and O(networks[].mode) is not given; left as it is on an existing
            network.
        type: str
        choices: [nat, isolated, route, bridge, open]
      bridge:
        description:
          - The bridge device libvirt creates for the network (at most 15 characters), for example V(virbr1).
            When not given at creation, libvirt picks a free V(virbrN) and it is kept from then on.
          - With O(networks[].mode=bridge), the existing host bridge to use (required then).
        type: str
      forward_dev:
        description: The uplink device for V(nat) and V(route) networks.
        type: str
      mtu:
        description: MTU of the network's bridge (68 to 65535).
        type: int
      domain:
        description: DNS domain of the network's guests.
        type: str
      ipv4:
        description:
          - The IPv4 address of the host on this network, its subnet, and DHCP.
          - DHCP ranges and hosts must lie inside the subnet and must not cover the address itself.
        type: dict
        suboptions:
          address:
            description: The host's address on the network; guests use it as gateway and DNS server.
            type: str
            required: true
          prefix:
            description: Subnet prefix length, for example V(24). Give this or O(networks[].ipv4.netmask).
            type: int
          netmask:
            description: Subnet mask, for example V(255.255.255.0). Give this or O(networks[].ipv4.prefix).
            type: str
          dhcp:
            description:
              - DHCP service on the network. Leave out to keep what the network has.
              - A list given here replaces the network's list (an empty list removes all entries).
            type: dict
            suboptions:
              ranges:
                description: Address ranges DHCP hands out.
                type: list
                elements: dict
                suboptions:
                  start:
                    description: First address of the range.
                    type: str
                    required: true
                  end:
                    description: Last address of the range.
                    type: str
                    required: true
              hosts:
                description: Fixed addresses for known guests, matched by O(networks[].ipv4.dhcp.hosts[].mac).
                type: list
                elements: dict
                suboptions:
                  mac:
                    description: The guest NIC's MAC address (unique in the list).
                    type: str
                    required: true
                  ip:
                    description: The address to give it (unique in the list, inside the subnet).
                    type: str
                    required: true
                  name:
                    description: Host name to give it.
                    type: str
      ipv6:
        description:
          - The IPv6 address of the host on this network, its prefix and DHCPv6; the same shape as O(networks[].ipv4).
          - IPv6 DHCP hosts are matched by O(networks[].ipv6.dhcp.hosts[].name) or O(networks[].ipv6.dhcp.hosts[].id) (a DUID), not by MAC.
        type: dict
        suboptions:
          address:
            description: The host's IPv6 address on the network.
            type: str
            required: true
          prefix:
            description: Prefix length, for example V(64).
            type: int
            required: true
          dhcp:
            description: DHCPv6 service; lists given here replace the network's.
            type: dict
            suboptions:
              ranges:
                description: Address ranges DHCPv6 hands out.
                type: list
                elements: dict
                suboptions:
                  start:
                    description: First address of the range.
                    type: str
                    required: true
                  end:
                    description: Last address of the range.
                    type: str
                    required: true
              hosts:
                description: Fixed addresses for known guests.
                type: list
                elements: dict
                suboptions:
                  id:
                    description: The guest's DHCP unique identifier (DUID).
                    type: str
                  name:
                    description: The guest's host name.
                    type: str
                  ip:
                    description: The address to give it.
                    type: str
                    required: true
      dns_hosts:
        description:
          - Extra DNS records served to the guests. The list replaces the network's (an empty list removes all).
        type: list
        elements: dict
        suboptions:
          ip:
            description: The address the names resolve to.
            type: str
            required: true
          hostnames:
            description: Names for the address.
            type: list
            elements: str
            required: true
      xml:
        description:
          - A complete network definition instead of the typed options, compared by meaning as well.
          - Fields the XML leaves out are not compared (for example a generated UUID, MAC or bridge name),
            except addresses and DNS hosts, which a full definition states.
          - Elements beyond the typed options (portgroups, routes, bandwidth...) must each be in the definition as
            written; what libvirt adds and elements the XML does not name are kept. A differing one replaces
            its namesake (a portgroup of the same name) or is added.
        type: str
      restart:
        description:
          - Allow restarting an active network when a change cannot be applied live.
          - Guests running on it lose connectivity for a moment; their interfaces are re-attached to the
            bridge afterwards (on a local URI).
        type: bool
        default: false
seealso:
  - module: kvmops.kvm.kvm_network
  - module: kvmops.kvm.kvm_domains
'''

EXAMPLES = r'''
- name: The lab's networks, in one task
  kvmops.kvm.kvm_networks:
    networks:
      - name: private1
        bridge: virbr10
        ipv4:
          address: 172.16.10.1
          prefix: 24
          dhcp:
            ranges:
              - start: 172.16.10.100
                end: 172.16.10.199
      - name: isolated1
        mode: isolated
        bridge: virbr11

- name: The same isolated network on every hypervisor of the play, in one task on the controller
  kvmops.kvm.kvm_networks:
    hypervisors: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'kvm_uri'))) }}"
    networks:
      - name: isolated1
        mode: isolated
        bridge: virbr11
  run_once: true
  delegate_to: localhost
'''

RETURN = r'''
changed:
  description: Whether any network changed (or would change in check mode).
  returned: always
  type: bool
networks:
  description:
    - One result per network, keyed by its name, with the keys M(kvmops.kvm.kvm_network) returns for it
      (C(changed), C(actions), C(diff), C(network), C(restart_required)).
    - A network that failed has C(failed=true), C(msg), C(changed) and C(actions) (what was done before the
      failure).
  returned: when O(hypervisors) is not given (then see RV(hypervisors))
  type: dict
  sample:
    private1: {changed: false, actions: [], diff: {before: {}, after: {}}, restart_required: false}
actions:
  description: Every network's actions, in list order.
  returned: always
  type: list
  elements: str
diff:
  description: The compared fields that differ, before and after, keyed by the name of each network that differs.
  returned: always
  type: dict
hypervisors:
  description:
    - With O(hypervisors), one result per hypervisor, keyed by its name, with C(uri), C(changed), C(actions) and
      C(diff) of its networks, and C(networks), its networks' results keyed by name (as RV(networks) without
      O(hypervisors)).
    - A hypervisor that failed has C(failed=true) and C(msg); when some of its networks failed, also
      C(failed_networks).
    - The task's own RV(actions) are prefixed with the hypervisor's name, and its RV(diff) is keyed by
      hypervisor, then network.
  returned: when O(hypervisors) is given
  type: dict
  sample:
    kvm1:
      uri: qemu+ssh://root@kvm1/system
      changed: false
      actions: []
      diff: {before: {}, after: {}}
      networks:
        isolated1: {changed: false, actions: [], diff: {before: {}, after: {}}, restart_required: false}
failed_hypervisors:
  description: With O(hypervisors), the hypervisors that failed (unreachable, or a network failed), in order.
  returned: when a hypervisor failed
  type: list
  elements: str
  sample: [kvm3]
failed_networks:
  description: The networks that failed, in list order.
  returned: when a network failed while it was converged
  type: list
  elements: str
'''

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import fleet
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.module import KvmModule
from ansible_collections.kvmops.kvm.plugins.module_utils._network.network import Network
from ansible_collections.kvmops.kvm.plugins.module_utils._network import options


def argument_spec():
    return fleet.batch_argument_spec('networks', options.argument_spec(), options.MUTUALLY_EXCLUSIVE)


def main():
    module = KvmModule(argument_spec(), required_one_of=[('networks', 'hypervisors')])
    module.run_many_or_fleet(Network, 'networks')


if __name__ == '__main__':
    main()
