#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: kvm_network
short_description: Manage libvirt virtual networks, idempotently and live where possible
version_added: 0.1.0
description:
  - Defines, starts, stops, updates and removes libvirt virtual networks (NAT, isolated, routed,
    bridged, open).
  - The desired network is compared with the live one by meaning (parsed XML, netmasks as prefixes,
    DHCP hosts matched by MAC) and only for what you specify; values libvirt generated (UUID, MAC,
    bridge name) are kept.
  - DHCP hosts, DHCP ranges and DNS hosts of an active network change live through libvirt's
    network update API, without a restart. Other changes update the persistent definition; an active
    network then needs a restart, which happens only with O(restart=true) (running guests are
    re-attached to the bridge) and is reported as RV(restart_required) otherwise.
  - All input is validated before anything on the host changes.
author:
  - kvmops.kvm maintainers (@kvmops)
extends_documentation_fragment:
  - kvmops.kvm.connection
  - kvmops.kvm.connection.attributes
options:
  name:
    description: Name of the network.
    type: str
    required: true
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
      - When a network is created with O(state=active), defaults to V(true); an existing network's autostart is
        changed only when this is given.
    type: bool
  mode:
    description:
      - How the network reaches the outside.
      - V(nat) - guests reach out through the host's routing with address translation.
      - V(isolated) - guests and host only.
      - V(route) - routed without translation.
      - V(bridge) - guests join the existing host bridge O(bridge); libvirt does no addressing.
      - V(open) - routed, libvirt adds no firewall rules.
      - V(nat) when the network is created and O(mode) is not given; left as it is on an existing
        network.
    type: str
    choices: [nat, isolated, route, bridge, open]
  bridge:
    description:
      - The bridge device libvirt creates for the network (at most 15 characters), for example V(virbr1).
        When not given at creation, libvirt picks a free V(virbrN) and it is kept from then on.
      - With O(mode=bridge), the existing host bridge to use (required then).
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
        description: Subnet prefix length, for example V(24). Give this or O(ipv4.netmask).
        type: int
      netmask:
        description: Subnet mask, for example V(255.255.255.0). Give this or O(ipv4.prefix).
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
            description: Fixed addresses for known guests, matched by O(ipv4.dhcp.hosts[].mac).
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
      - The IPv6 address of the host on this network, its prefix and DHCPv6; the same shape as O(ipv4).
      - IPv6 DHCP hosts are matched by O(ipv6.dhcp.hosts[].name) or O(ipv6.dhcp.hosts[].id) (a DUID), not by MAC.
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
  - name: libvirt network XML format
    description: What each part of a network definition means.
    link: https://libvirt.org/formatnetwork.html
'''

EXAMPLES = r'''
- name: A host-only network without DHCP
  kvmops.kvm.kvm_network:
    name: hostonly
    mode: isolated
    ipv4:
      address: 192.168.100.1
      prefix: 24

- name: A NAT network on virbr1 with DHCP and a fixed address for one guest
  kvmops.kvm.kvm_network:
    name: private1
    mode: nat
    bridge: virbr1
    ipv4:
      address: 172.16.10.1
      netmask: 255.255.255.0
      dhcp:
        ranges:
          - start: 172.16.10.100
            end: 172.16.10.200
        hosts:
          - mac: "52:54:00:10:00:11"
            ip: 172.16.10.11
            name: web1

- name: Guests straight on the host bridge br0
  kvmops.kvm.kvm_network:
    name: lan
    mode: bridge
    bridge: br0

- name: Change the subnet of a running network and restart it now
  kvmops.kvm.kvm_network:
    name: private1
    ipv4:
      address: 172.16.20.1
      prefix: 24
    restart: true

- name: From a full XML definition
  kvmops.kvm.kvm_network:
    name: routed
    xml: |
      <network>
        <name>routed</name>
        <forward mode='route'/>
        <ip address='10.20.0.1' prefix='24'/>
      </network>

- name: Remove a network
  kvmops.kvm.kvm_network:
    name: hostonly
    state: absent
'''

RETURN = r'''
network:
  description:
    - The network after the run (in check mode, as the run would leave it; a UUID libvirt has not
      generated yet is null). Null when it does not exist.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the network.
      type: str
      sample: private1
    uuid:
      description: UUID of the network.
      type: str
      sample: 1a7b9c3e-52d1-4f0a-9b0e-3d1a2f4c5e6d
    bridge:
      description: Bridge device of the network.
      type: str
      sample: virbr1
    active:
      description: Whether the network runs.
      type: bool
    autostart:
      description: Whether it starts with the daemon.
      type: bool
    persistent:
      description: Whether it has a persistent definition.
      type: bool
actions:
  description: What was done (or would be done in check mode), in order. Empty when nothing changes.
  returned: always
  type: list
  elements: str
  sample: ["update network 'private1': add DHCP host 52:54:00:10:00:12 172.16.10.12 (live)",
           "define network 'private1': ipv4.dhcp.hosts"]
diff:
  description: The compared fields that differ, before and after.
  returned: always
  type: dict
  sample: {before: {ipv4: {dhcp: {hosts: []}}}, after: {ipv4: {dhcp: {hosts: [{mac: "52:54:00:10:00:12", ip: 172.16.10.12}]}}}}
restart_required:
  description: The network runs with an older definition that only a restart applies.
  returned: always
  type: bool
'''

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.module import KvmModule
from ansible_collections.kvmops.kvm.plugins.module_utils._network.network import Network
from ansible_collections.kvmops.kvm.plugins.module_utils._network import options


def argument_spec():
    return options.argument_spec()


def main():
    module = KvmModule(argument_spec(), mutually_exclusive=options.MUTUALLY_EXCLUSIVE)
    module.run(Network)


if __name__ == '__main__':
    main()
