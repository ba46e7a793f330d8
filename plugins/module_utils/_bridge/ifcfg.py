# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""network-scripts `ifcfg-*` files (EL7 initscripts), as the seeds write them (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import shlex

from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import bond as bonding
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import files

DIRECTORY = '/etc/sysconfig/network-scripts'
HEADER = '# Managed by kvmops.kvm kvm_bridge\n'
# what a port or slave must no longer carry: its IP configuration moved to the bridge
IP_KEYS = ('IPADDR', 'PREFIX', 'NETMASK', 'GATEWAY', 'DNS', 'IPV6ADDR', 'IPV6ADDR_SECONDARIES', 'IPV6_DEFAULTGW',
           'DHCP_HOSTNAME', 'PEERDNS', 'DEFROUTE')
ROLE_KEYS = ('BRIDGE', 'MASTER', 'SLAVE')


def path(device):
    return '%s/ifcfg-%s' % (DIRECTORY, device)


def parse(text):
    """KEY=value lines -> dict, shell quoting removed, comments and blank lines skipped."""
    values = {}
    for line in (text or '').splitlines():
        line = line.strip()
        if not line or line.startswith('#') or '=' not in line:
            continue
        key, _sep, value = line.partition('=')
        try:
            words = shlex.split(value)
        except ValueError:
            words = [value]
        values[key.strip()] = ' '.join(words)
    return values


def _quote(value):
    text = str(value)
    if not text or any(c in text for c in ' "\'$`\\;&|<>()'):
        return '"%s"' % text.replace('\\', '\\\\').replace('"', '\\"')
    return text


def write(values, order):
    lines = [HEADER.rstrip('\n')]
    for key in order:
        if key in values and values[key] is not None:
            lines.append('%s=%s' % (key, _quote(values[key])))
    for key in sorted(k for k in values if k not in order and values[k] is not None):
        lines.append('%s=%s' % (key, _quote(values[key])))
    return '\n'.join(lines) + '\n'


ORDER = ('DEVICE', 'NAME', 'TYPE', 'VLAN', 'PHYSDEV', 'BONDING_MASTER', 'BONDING_OPTS', 'ONBOOT', 'BOOTPROTO',
         'IPADDR', 'PREFIX', 'GATEWAY', 'DNS1', 'DNS2', 'DNS3', 'IPV6INIT', 'IPV6_AUTOCONF', 'DHCPV6C', 'IPV6ADDR',
         'IPV6ADDR_SECONDARIES', 'IPV6_DEFAULTGW', 'STP', 'DELAY', 'MACADDR', 'MTU', 'MASTER', 'SLAVE', 'BRIDGE',
         'NM_CONTROLLED')


def _ip_keys(values, config):
    ipv4, ipv6 = config['ipv4'], config['ipv6']
    values['BOOTPROTO'] = 'dhcp' if ipv4['method'] == 'dhcp' else 'none'
    for index, address in enumerate(ipv4['addresses']):
        interface = ipaddress.ip_interface(address)
        suffix = '' if index == 0 else str(index)
        values['IPADDR' + suffix] = str(interface.ip)
        values['PREFIX' + suffix] = str(interface.network.prefixlen)
    if ipv4['gateway']:
        values['GATEWAY'] = ipv4['gateway']
    dns = list(ipv4['dns']) + [d for d in ipv6['dns'] if d not in ipv4['dns']]
    for index, server in enumerate(dns[:3]):
        values['DNS%d' % (index + 1)] = server
    if ipv6['method'] == 'none':
        values['IPV6INIT'] = 'no'
    else:
        values['IPV6INIT'] = 'yes'
        values['IPV6_AUTOCONF'] = 'yes' if ipv6['method'] == 'auto' else 'no'
        if ipv6['method'] == 'dhcp':
            values['DHCPV6C'] = 'yes'
        if ipv6['addresses']:
            values['IPV6ADDR'] = ipv6['addresses'][0]
            if len(ipv6['addresses']) > 1:
                values['IPV6ADDR_SECONDARIES'] = ' '.join(ipv6['addresses'][1:])
        if ipv6['gateway']:
            values['IPV6_DEFAULTGW'] = ipv6['gateway']


def _member(device, extra, config):
    values = {'DEVICE': device, 'TYPE': 'Ethernet', 'ONBOOT': 'yes', 'BOOTPROTO': 'none', 'NM_CONTROLLED': 'no'}
    values.update(extra)
    if config['mtu']:
        values['MTU'] = str(config['mtu'])
    return values


def _kept(device, values):
    """Keys of the device's existing file that say which NIC it is (HWADDR, UUID, NAME...) are kept."""
    old = parse(files.read_text(path(device)))
    for key in IP_KEYS + ROLE_KEYS:
        for existing in list(old):
            if existing == key or existing.rstrip('0123456789') == key:
                old.pop(existing)
    old.update(values)
    return old


def mode_number(options):
    """BONDING_OPTS as ifcfg files write it: the mode as its number (mode=1), the rest by name."""
    text_options = dict(options)
    if 'mode' in text_options:
        text_options['mode'] = bonding.MODES.index(text_options['mode'])
    return bonding.option_text(text_options)


def render(config):
    name = config['name']
    rendered = {}
    bridge = {'DEVICE': name, 'TYPE': 'Bridge', 'ONBOOT': 'yes', 'NM_CONTROLLED': 'no',
              'STP': 'yes' if config['stp'] else 'no', 'DELAY': str(config['forward_delay'])}
    _ip_keys(bridge, config)
    if config['mac']:
        bridge['MACADDR'] = config['mac']
    if config['mtu']:
        bridge['MTU'] = str(config['mtu'])
    rendered[path(name)] = bridge
    uplink = config['uplink']
    if uplink['kind'] == 'ports':
        for port in uplink['ports']:
            rendered[path(port)] = _kept(port, _member(port, {'BRIDGE': name}, config))
    elif uplink['kind'] == 'bond':
        bond = _member(uplink['name'], {'TYPE': 'Bond', 'BONDING_MASTER': 'yes', 'BRIDGE': name,
                                        'BONDING_OPTS': mode_number(uplink['options'])}, config)
        rendered[path(uplink['name'])] = bond
        for slave in uplink['slaves']:
            rendered[path(slave)] = _kept(slave, _member(slave, {'MASTER': uplink['name'], 'SLAVE': 'yes'}, config))
    else:
        vlan = _member(uplink['name'], {'VLAN': 'yes', 'PHYSDEV': uplink['parent'], 'BRIDGE': name}, config)
        vlan.pop('TYPE')
        rendered[path(uplink['name'])] = vlan
    return dict((p, write(values, ORDER)) for p, values in rendered.items())


class Backend(object):
    """ifcfg files under /etc/sysconfig/network-scripts; initscripts read them at boot."""

    NAME = 'network-scripts'
    MODE = 0o644

    def __init__(self, module):
        self.module = module

    def render(self, config):
        if config['taps']:
            self.module.warn('network-scripts cannot create taps at boot: the taps of %s (%s) are configured at '
                             'runtime only' % (config['name'], ', '.join(t['name'] for t in config['taps'])))
        return render(config)

    @staticmethod
    def meaning(text):
        return parse(text)

    def owned(self, name):
        """Our files for this bridge: its own, and those of devices that name it (BRIDGE=) or our bond."""
        found = []
        for candidate in files.matching(DIRECTORY + '/ifcfg-*'):
            values = parse(files.read_text(candidate))
            if candidate == path(name) or values.get('BRIDGE') == name:
                found.append(candidate)
        return found

    def edits(self, name, desired, wanted):
        """Ports that leave the bridge keep their file, without BRIDGE/MASTER (never deleted: they are NICs)."""
        changes = {}
        leaving_bonds = []
        for candidate in self.owned(name):
            if candidate in wanted or candidate == path(name):
                continue
            values = parse(files.read_text(candidate))
            if values.get('TYPE') == 'Bond':
                leaving_bonds.append(values.get('DEVICE'))
            if values.get('TYPE') == 'Bond' or values.get('VLAN') == 'yes':
                continue
            changes[candidate] = self._freed(values)
        for candidate in files.matching(DIRECTORY + '/ifcfg-*'):
            values = parse(files.read_text(candidate))
            if candidate not in wanted and values.get('MASTER') in leaving_bonds:
                changes[candidate] = self._freed(values)
        return changes

    @staticmethod
    def _freed(values):
        for key in ROLE_KEYS:
            values.pop(key, None)
        return write(values, ORDER)

    def activation(self, changed, wanted):
        return None
