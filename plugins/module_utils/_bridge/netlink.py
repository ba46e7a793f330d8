# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The links, addresses and routes of the network namespace the module runs in, read and changed over netlink (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import socket

from ansible.module_utils.six import text_type

from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import bond as bonding
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge.deps import IPRoute, NetlinkError, require_pyroute2

IFF_UP = 0x1
FAMILIES = {4: socket.AF_INET, 6: socket.AF_INET6}
MAIN_TABLE = 254
RTPROT_KERNEL = 2
TUN_TYPES = {1: 'tun', 2: 'tap'}
FOREVER = 0xffffffff


def _attrs(message):
    """An netlink message's attributes as a dict (the first of each name)."""
    found = {}
    for key, value in (message or {}).get('attrs', []):
        found.setdefault(key, value)
    return found


def _permanent(address):
    """A NIC's own MAC, whatever a bond made of its address; None for links without one (virtual links: zeros)."""
    address = (address or '').lower()
    return address if address.replace('0', '').replace(':', '') else None


def _link(message, names):
    attrs = _attrs(message)
    link = {
        'name': attrs.get('IFLA_IFNAME'),
        'index': message['index'],
        'kind': None,
        'master': names.get(attrs.get('IFLA_MASTER')),
        'mtu': attrs.get('IFLA_MTU'),
        'mac': (attrs.get('IFLA_ADDRESS') or '').lower() or None,
        'perm_mac': _permanent(attrs.get('IFLA_PERM_ADDRESS')),
        'up': bool(message['flags'] & IFF_UP),
        'carrier': bool(attrs.get('IFLA_CARRIER')),
    }
    info = attrs.get('IFLA_LINKINFO')
    if info is not None:
        info_attrs = _attrs(info)
        link['kind'] = info_attrs.get('IFLA_INFO_KIND')
        data = _attrs(info_attrs.get('IFLA_INFO_DATA')) if info_attrs.get('IFLA_INFO_DATA') is not None else {}
        if link['kind'] == 'bridge':
            link['bridge'] = {'stp': data.get('IFLA_BR_STP_STATE', 0) != 0,
                              'forward_delay': int(round(data.get('IFLA_BR_FORWARD_DELAY', 0) / 100.0))}
        elif link['kind'] == 'bond':
            link['bond'] = bonding.from_netlink(data, names.get)
        elif link['kind'] == 'vlan':
            link['vlan'] = {'id': data.get('IFLA_VLAN_ID'), 'parent': names.get(attrs.get('IFLA_LINK'))}
        elif link['kind'] == 'tun':
            link['tun'] = {'type': TUN_TYPES.get(data.get('IFLA_TUN_TYPE')), 'persist': bool(data.get('IFLA_TUN_PERSIST')),
                           'owner': data.get('IFLA_TUN_OWNER'), 'group': data.get('IFLA_TUN_GROUP'),
                           'multi_queue': bool(data.get('IFLA_TUN_MULTI_QUEUE'))}
    return link


def interface_address(address, prefix):
    return text_type(ipaddress.ip_interface(u'%s/%d' % (address, prefix)))


class State(object):
    """One reading of the namespace: links by name, their global addresses, and the main table's routes."""

    def __init__(self, links, addresses, routes, dynamic=()):
        self.links = links
        # addresses with a finite lifetime (leases) -> (preferred, valid) seconds left, or None when not known
        self.dynamic = dict(dynamic) if isinstance(dynamic, dict) else dict((a, None) for a in dynamic)
        self.addresses = addresses   # name -> sorted ['10.0.0.2/24', 'fd00::2/64']
        self.routes = routes         # [{'family', 'dst', 'gateway', 'dev', 'metric', 'proto', 'scope'}]

    def link(self, name):
        return self.links.get(name)

    def ports_of(self, master):
        return sorted(name for name, link in self.links.items() if link['master'] == master)

    def addresses_of(self, name, family=None):
        return [a for a in self.addresses.get(name, []) if family is None or ipaddress.ip_interface(a).version == family]

    def routes_of(self, name):
        """Routes through `name` that the kernel did not make for an address (those come with the address)."""
        return [r for r in self.routes if r['dev'] == name and r['proto'] != RTPROT_KERNEL]

    def owner_of(self, address):
        """Interfaces that carry `address` (an 'ip/prefix'), with or without the same prefix."""
        wanted = ipaddress.ip_interface(address).ip
        return sorted(name for name, found in self.addresses.items()
                      if any(ipaddress.ip_interface(a).ip == wanted for a in found))


class Netlink(object):
    """A netlink socket in the module's own network namespace."""

    def __init__(self):
        require_pyroute2()
        self.ipr = IPRoute()

    def close(self):
        self.ipr.close()

    # ---- reading

    def read(self):
        messages = list(self.ipr.get_links())
        names = dict((m['index'], _attrs(m).get('IFLA_IFNAME')) for m in messages)
        links = {}
        for message in messages:
            link = _link(message, names)
            links[link['name']] = link
        addresses = {}
        dynamic = {}
        for message in self.ipr.get_addr():
            attrs = _attrs(message)
            if message['scope'] != 0:      # global only: link-local and host addresses come and go by themselves
                continue
            address = attrs.get('IFA_LOCAL') or attrs.get('IFA_ADDRESS')
            name = names.get(message['index'])
            cidr = interface_address(address, message['prefixlen'])
            addresses.setdefault(name, []).append(cidr)
            lifetime = attrs.get('IFA_CACHEINFO')
            if lifetime is not None and lifetime['ifa_valid'] != FOREVER:
                # a lease (DHCP, SLAAC): persisted as such, not as a static address, and moved with its lifetime
                dynamic[cidr] = (lifetime['ifa_preferred'], lifetime['ifa_valid'])
        for name in addresses:
            addresses[name] = sorted(set(addresses[name]), key=_address_key)
        routes = []
        for version, family in FAMILIES.items():
            for message in self.ipr.get_routes(family=family, table=MAIN_TABLE):
                attrs = _attrs(message)
                if attrs.get('RTA_TABLE', message['table']) != MAIN_TABLE or message['type'] != 1:
                    continue
                dst = attrs.get('RTA_DST')
                routes.append({
                    'family': version,
                    'dst': '%s/%d' % (dst, message['dst_len']) if dst else 'default',
                    'gateway': attrs.get('RTA_GATEWAY'),
                    'dev': names.get(attrs.get('RTA_OIF')),
                    'metric': attrs.get('RTA_PRIORITY', 0),
                    'proto': message['proto'],
                    'scope': message['scope'],
                    'prefsrc': attrs.get('RTA_PREFSRC'),
                })
        return State(links, addresses, routes, dynamic)

    def index(self, name):
        found = self.ipr.link_lookup(ifname=name)
        if not found:
            raise NetlinkError(19, 'no interface %s' % name)
        return found[0]

    # ---- changing

    def create_bridge(self, name, stp=None, forward_delay=None, address=None):
        """A bridge made with its MAC in the same message: udev (MACAddressPolicy=persistent) leaves a MAC that was set
        when the link appeared, but would override one set a moment later."""
        keywords = {}
        if address:
            keywords['address'] = address
        if stp is not None:
            keywords['br_stp_state'] = 1 if stp else 0
        if forward_delay is not None:
            keywords['br_forward_delay'] = forward_delay * 100
        self.ipr.link('add', ifname=name, kind='bridge', **keywords)

    def set_bridge(self, name, stp=None, forward_delay=None):
        keywords = {}
        if stp is not None:
            keywords['br_stp_state'] = 1 if stp else 0
        if forward_delay is not None:
            keywords['br_forward_delay'] = forward_delay * 100
        self.ipr.link('set', index=self.index(name), kind='bridge', **keywords)

    def create_bond(self, name, options):
        self.ipr.link('add', ifname=name, kind='bond', **bonding.to_netlink(options, self.index))

    def set_bond(self, name, options):
        self.ipr.link('set', index=self.index(name), kind='bond', **bonding.to_netlink(options, self.index))

    def create_vlan(self, name, parent, vlan_id):
        self.ipr.link('add', ifname=name, kind='vlan', link=self.index(parent), vlan_id=vlan_id)

    def create_tap(self, name, owner=None, group=None, multi_queue=False):
        keywords = {'ifr': {'no_pi': True, 'vnet_hdr': True, 'multi_queue': bool(multi_queue)}}
        if owner is not None:
            keywords['uid'] = owner
        if group is not None:
            keywords['gid'] = group
        self.ipr.link('add', ifname=name, kind='tuntap', mode='tap', **keywords)

    def delete(self, name):
        self.ipr.link('del', index=self.index(name))

    def set(self, name, **keywords):
        """Set link attributes: state='up'/'down', mtu, address (MAC), master (a name, or None to release)."""
        if 'master' in keywords:
            keywords['master'] = self.index(keywords['master']) if keywords['master'] else 0
        self.ipr.link('set', index=self.index(name), **keywords)

    def add_address(self, name, address, lifetime=None):
        """Add an address; `lifetime` (preferred, valid) keeps a lease a lease where it moves to."""
        interface = ipaddress.ip_interface(text_type(address))
        extra = {}
        if lifetime:
            extra['IFA_CACHEINFO'] = {'ifa_preferred': lifetime[0], 'ifa_valid': lifetime[1], 'cstamp': 0, 'tstamp': 0}
        try:
            self.ipr.addr('add', index=self.index(name), address=text_type(interface.ip),
                          prefixlen=interface.network.prefixlen, **extra)
        except NetlinkError as exc:
            if exc.code != 17:   # already there
                raise

    def remove_address(self, name, address):
        interface = ipaddress.ip_interface(text_type(address))
        try:
            self.ipr.addr('del', index=self.index(name), address=text_type(interface.ip),
                          prefixlen=interface.network.prefixlen)
        except NetlinkError as exc:
            if exc.code != 99:   # already gone
                raise

    def replace_route(self, route, dev):
        """Put `route` (as read) on `dev`: replaces an equal route elsewhere in one step."""
        keywords = {'family': FAMILIES[route['family']], 'oif': self.index(dev), 'table': MAIN_TABLE,
                    'priority': route.get('metric') or 0}
        if route['dst'] != 'default':
            keywords['dst'] = route['dst']
        elif route['family'] == 6:
            keywords['dst'] = '::/0'
        else:
            keywords['dst'] = '0.0.0.0/0'
        if route.get('gateway'):
            keywords['gateway'] = route['gateway']
        if route.get('prefsrc'):
            keywords['prefsrc'] = route['prefsrc']
        if route.get('proto') is not None:
            keywords['proto'] = route['proto']
        if route.get('scope') is not None:
            keywords['scope'] = route['scope']
        self.ipr.route('replace', **keywords)

    def remove_route(self, route):
        keywords = {'family': FAMILIES[route['family']], 'table': MAIN_TABLE, 'priority': route.get('metric') or 0,
                    'dst': route['dst'] if route['dst'] != 'default' else ('::/0' if route['family'] == 6 else '0.0.0.0/0')}
        if route.get('dev'):
            keywords['oif'] = self.index(route['dev'])
        if route.get('gateway'):
            keywords['gateway'] = route['gateway']
        try:
            self.ipr.route('del', **keywords)
        except NetlinkError as exc:
            if exc.code not in (3, 19):   # no such route / device: already gone
                raise


def _address_key(address):
    interface = ipaddress.ip_interface(address)
    return (interface.version, interface.ip, interface.network.prefixlen)
