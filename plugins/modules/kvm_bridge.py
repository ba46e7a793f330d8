#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: kvm_bridge
short_description: Host bridges over NICs, bonds or VLANs, with taps, persisted, with a rollback that keeps the host reachable
version_added: 0.2.0
description:
  - Creates, changes and removes a Linux bridge of the host the module runs on (its network namespace), with
    its uplink (NICs, a bond or a VLAN), its addresses, STP, MTU and MAC, and tap devices for guests.
  - Runtime state is read and changed over netlink (pyroute2), in minimal steps (adding a tap does not bounce
    the bridge); only what you specify is compared.
  - The host's address moves from a NIC onto the bridge without losing reachability. The address is added
    to the bridge first, the NIC enslaved, the routes moved, and only then the address is removed from the NIC.
  - The configuration is written for the network stack that manages the host (O(persist)), so it survives
    a reboot; files are written atomically and compared by meaning.
  - With O(rollback), connectivity is verified after the change, and the previous runtime and persistent
    state is restored when it is lost, also when the Ansible connection drops mid-change.
  - All input is validated before anything on the host changes.
author:
  - kvmops.kvm maintainers (@kvmops)
extends_documentation_fragment:
  - kvmops.kvm.connection
  - kvmops.kvm.connection.attributes
options:
  name:
    description: The bridge, for example V(br0). At most 15 characters.
    type: str
    required: true
  state:
    description:
      - V(present) - the bridge exists as specified.
      - V(absent) - the bridge is removed with its taps; a O(bond) or O(vlan) given is removed too. With O(ports)
        or O(bond.slaves) given, the bridge's addresses and routes move back to the first of them.
    type: str
    choices: [present, absent]
    default: present
  ports:
    description:
      - The NICs enslaved to the bridge (its uplink). The list is the whole set of uplink ports.
      - Each must exist and not be enslaved elsewhere. Their addresses and routes move onto the bridge.
      - Mutually exclusive with O(bond) and O(vlan).
    type: list
    elements: str
  bond:
    description:
      - A bond as the bridge's uplink, created or changed as given. Mutually exclusive with O(ports) and O(vlan).
    type: dict
    suboptions:
      name:
        description: The bond device, for example V(bond0).
        type: str
        required: true
      mode:
        description:
          - The bonding mode, by name (V(balance-rr), V(active-backup), V(balance-xor), V(broadcast), V(802.3ad),
            V(balance-tlb), V(balance-alb)) or by the number 0-6 that ifcfg files use.
          - Changing the mode of an existing bond releases and re-enslaves its slaves (a short outage).
        type: str
      miimon:
        description: MII link monitoring interval in milliseconds.
        type: int
      slaves:
        description:
          - The NICs of the bond; the whole set. Required when the bond is created.
          - Each must exist, must not be the bridge, and must not be enslaved elsewhere.
        type: list
        elements: str
      primary:
        description: The preferred slave (active-backup, balance-tlb, balance-alb); one of O(bond.slaves).
        type: str
      lacp_rate:
        description: LACPDU rate for V(802.3ad), V(slow) or V(fast) (or V(0)/V(1)).
        type: str
      xmit_hash_policy:
        description: Transmit hash policy, for example V(layer2), V(layer2+3), V(layer3+4).
        type: str
      options:
        description:
          - Further bonding options, free-form as BONDING_OPTS writes them (V(mode=1 miimon=100)), or a dict.
          - Known options are C(mode), C(miimon), C(updelay), C(downdelay), C(arp_interval), C(arp_ip_target),
            C(arp_validate), C(arp_all_targets), C(primary), C(primary_reselect), C(fail_over_mac), C(lacp_rate),
            C(xmit_hash_policy), C(ad_select), C(min_links), C(use_carrier), C(all_slaves_active),
            C(resend_igmp), C(num_grat_arp), C(lp_interval), C(packets_per_slave), C(tlb_dynamic_lb),
            C(ad_actor_sys_prio), C(ad_user_port_key).
          - An option given both here and as its own key must agree.
        type: raw
  vlan:
    description: A VLAN device as the bridge's uplink. Mutually exclusive with O(ports) and O(bond).
    type: dict
    suboptions:
      id:
        description: The VLAN ID, 1-4094.
        type: int
        required: true
      parent:
        description: The trunk interface the VLAN rides on (a NIC or a bond).
        type: str
        required: true
      name:
        description: The VLAN device; defaults to C(<parent>.<id>).
        type: str
  ipv4:
    description:
      - The bridge's IPv4 configuration. Not given - the bridge keeps its addresses and takes over those of
        its uplink.
    type: dict
    suboptions:
      method:
        description:
          - V(static) - exactly O(ipv4.addresses). V(dhcp) - from DHCP (persisted; at runtime the uplink's
            current addresses move onto the bridge). V(none) - no IPv4 address.
          - V(static) when addresses are given.
        type: str
        choices: [static, dhcp, none]
      addresses:
        description: Addresses in CIDR form, for example V(192.0.2.10/24).
        type: list
        elements: str
      gateway:
        description: The default gateway; must lie in the subnet of one of O(ipv4.addresses).
        type: str
      dns:
        description: Name servers, persisted.
        type: list
        elements: str
  ipv6:
    description: The bridge's IPv6 configuration, as O(ipv4) (and method V(auto) for SLAAC).
    type: dict
    suboptions:
      method:
        description: V(static), V(dhcp), V(auto) or V(none), as for O(ipv4.method).
        type: str
        choices: [static, dhcp, auto, none]
      addresses:
        description: Addresses in CIDR form, for example V(2001:db8::10/64).
        type: list
        elements: str
      gateway:
        description: The default gateway.
        type: str
      dns:
        description: Name servers, persisted.
        type: list
        elements: str
  stp:
    description: Spanning tree protocol on the bridge. A new bridge has it off unless given.
    type: bool
  forward_delay:
    description: Forward delay in seconds (0-30; 2-30 with STP on).
    type: int
  mtu:
    description: MTU of the bridge, its uplink and its taps.
    type: int
  mac:
    description:
      - The bridge's MAC address. Default - the uplink's MAC, pinned, so the bridge's address never jumps to
        a guest's tap when taps come and go. A new bridge without an uplink is pinned to a locally administered
        MAC derived from the machine ID and its name (the same on every run, so check mode and the persisted
        files know it).
    type: str
  taps:
    description:
      - Tap devices to create (persistent) and attach, as names or C({name, owner, group, multi_queue}).
      - The list is the whole set of this bridge's taps - a persistent tap on the bridge that is not listed
        is removed. Taps held open by running guests (libvirt's) are not counted and never removed.
      - A tap whose owner, group or multi_queue differs is recreated.
    type: list
    elements: raw
  persist:
    description:
      - Where the configuration is kept across reboots.
      - V(auto) - NetworkManager profiles when NetworkManager runs; systemd-networkd files when it manages the
        links; network-scripts C(ifcfg-*) files on EL7 style hosts; ifupdown files on Debian/Ubuntu; otherwise
        runtime only, with a warning.
      - V(networkmanager) - the profiles are loaded and activated through NetworkManager's D-Bus API under a
        checkpoint, destroyed once they are active and rolled back when one fails (needs jeepney on the host).
      - V(none) - runtime only.
    type: str
    choices: [auto, networkmanager, ifupdown, network-scripts, systemd-networkd, none]
    default: auto
  rollback:
    description:
      - Verify connectivity after the change and restore the previous runtime and persistent state when it fails
        (see docs/kvm_bridge.md). The apply-and-verify step runs detached from the Ansible connection, so it
        restores also when the connection drops mid-change.
    type: dict
    suboptions:
      timeout:
        description: Seconds the change has to prove connectivity before it is rolled back.
        type: int
        default: 30
      check:
        description: What must answer after the change.
        type: dict
        suboptions:
          gateway:
            description: Ping the default gateway(s) of the bridge (those given, else the routes' ones).
            type: bool
            default: true
          hosts:
            description: Further addresses or names that must answer a ping.
            type: list
            elements: str
          connection:
            description:
              - The Ansible connection must still work - over ssh, the controller's address must answer from the
                host's address it came in on.
            type: bool
            default: true
  force:
    description:
      - Remove or re-port a bridge that running guests' taps are attached to (refused otherwise, naming the guests).
    type: bool
    default: false
notes:
  - Acts on the network namespace the module runs in.
  - Needs pyroute2 on the managed host. The O(uri) is used only to name the guests whose taps are on the bridge.
requirements:
  - pyroute2
  - jeepney (only where NetworkManager persists the bridge)
seealso:
  - module: kvmops.kvm.kvm_network
'''

EXAMPLES = r'''
- name: The seeds' layout - bond0 (active-backup) over eth0 and eth1 under br0, the host's address moved onto br0
  kvmops.kvm.kvm_bridge:
    name: br0
    bond:
      name: bond0
      slaves: [eth0, eth1]
      options: mode=1 miimon=100
    ipv4:
      addresses: [192.0.2.10/24]
      gateway: 192.0.2.1
    rollback:
      timeout: 30

- name: A second bridge on a VLAN of the bond, and guest taps owned by a user
  kvmops.kvm.kvm_bridge:
    name: br1
    vlan: {id: 100, parent: bond0}
    ipv4: {method: none}
    taps:
      - vm-vnic
      - {name: tap1, owner: tester, multi_queue: true}

- name: An internal bridge without uplink (for guests only), runtime only
  kvmops.kvm.kvm_bridge:
    name: tester
    stp: false
    forward_delay: 0
    persist: none
'''

RETURN = r'''
bridge:
  description: The bridge as it is after the run (predicted in check mode); null when absent.
  returned: always
  type: dict
  contains:
    name:
      description: The bridge.
      type: str
    mac:
      description: Its MAC address.
      type: str
    mtu:
      description: Its MTU.
      type: int
    stp:
      description: Whether STP is on.
      type: bool
    forward_delay:
      description: Forward delay in seconds.
      type: int
    ports:
      description: The uplink ports - NICs, the bond or the VLAN device.
      type: list
      elements: str
    taps:
      description: Its persistent taps.
      type: list
      elements: str
    addresses:
      description: Its global IPv4 and IPv6 addresses in CIDR form.
      type: list
      elements: str
    bond:
      description: The bond under it - name, mode, miimon, active_slave, slaves, options.
      type: dict
    vlan:
      description: The VLAN under it - name, id, parent.
      type: dict
persisted:
  description: Where the configuration is kept.
  returned: always
  type: dict
  contains:
    backend:
      description: The backend used, or V(none).
      type: str
    files:
      description: The files or profiles it keeps for this bridge.
      type: list
      elements: str
rolled_back:
  description: Whether the change was rolled back (the task then fails, saying what was lost and restored).
  returned: always
  type: bool
actions:
  description: What was done (or would be, in check mode), in order.
  returned: always
  type: list
  elements: str
'''

from ansible_collections.kvmops.kvm.plugins.module_utils._bridge.bridge import Bridge
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge.spec import PERSIST
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.module import KvmModule


def _ip_spec(methods):
    return dict(type='dict', options=dict(
        method=dict(type='str', choices=list(methods)),
        addresses=dict(type='list', elements='str'),
        gateway=dict(type='str'),
        dns=dict(type='list', elements='str')))


def argument_spec():
    return dict(
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        ports=dict(type='list', elements='str'),
        bond=dict(type='dict', options=dict(
            name=dict(type='str', required=True),
            mode=dict(type='str'),
            miimon=dict(type='int'),
            slaves=dict(type='list', elements='str'),
            primary=dict(type='str'),
            lacp_rate=dict(type='str'),
            xmit_hash_policy=dict(type='str'),
            options=dict(type='raw'))),
        vlan=dict(type='dict', options=dict(
            id=dict(type='int', required=True),
            parent=dict(type='str', required=True),
            name=dict(type='str'))),
        ipv4=_ip_spec(['static', 'dhcp', 'none']),
        ipv6=_ip_spec(['static', 'dhcp', 'auto', 'none']),
        stp=dict(type='bool'),
        forward_delay=dict(type='int'),
        mtu=dict(type='int'),
        mac=dict(type='str'),
        taps=dict(type='list', elements='raw'),
        persist=dict(type='str', default='auto', choices=list(PERSIST)),
        rollback=dict(type='dict', options=dict(
            timeout=dict(type='int', default=30),
            check=dict(type='dict', options=dict(
                gateway=dict(type='bool', default=True),
                hosts=dict(type='list', elements='str'),
                connection=dict(type='bool', default=True))))),
        force=dict(type='bool', default=False),
    )


def main():
    KvmModule(argument_spec(), libraries_required=False).run(Bridge)


if __name__ == '__main__':
    main()
