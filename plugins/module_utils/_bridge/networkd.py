# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""systemd-networkd .netdev and .network files in /etc/systemd/network (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import stacks
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import files

DIRECTORY = '/etc/systemd/network'
HEADER = '# Managed by kvmops.kvm kvm_bridge: bridge %s\n'
BOND_KEYS = {'mode': 'Mode', 'miimon': 'MIIMonitorSec', 'updelay': 'UpDelaySec', 'downdelay': 'DownDelaySec',
             'lacp_rate': 'LACPTransmitRate', 'xmit_hash_policy': 'TransmitHashPolicy', 'ad_select': 'AdSelect',
             'min_links': 'MinLinks', 'arp_interval': 'ARPIntervalSec', 'arp_ip_target': 'ARPIPTargets',
             'arp_validate': 'ARPValidate', 'arp_all_targets': 'ARPAllTargets', 'primary_reselect': 'PrimaryReselectPolicy',
             'fail_over_mac': 'FailOverMACPolicy', 'resend_igmp': 'ResendIGMP', 'packets_per_slave': 'PacketsPerSlave',
             'num_grat_arp': 'GratuitousARP', 'all_slaves_active': 'AllSlavesActive', 'lp_interval': 'LearnPacketIntervalSec',
             'tlb_dynamic_lb': 'DynamicTransmitLoadBalancing', 'ad_actor_sys_prio': 'AdActorSystemPriority',
             'ad_user_port_key': 'AdUserPortKey'}
_MS = ('miimon', 'updelay', 'downdelay', 'arp_interval', 'lp_interval')
_BOOL = ('all_slaves_active', 'tlb_dynamic_lb')


def path(name, device, suffix):
    base = 'kvmops-%s' % name if device == name else 'kvmops-%s--%s' % (name, device)
    return '%s/10-%s.%s' % (DIRECTORY, base, suffix)


def parse(text):
    """INI sections -> {section: sorted [(key, value)]} (a key may repeat: Address=, DNS=)."""
    meaning = {}
    section = None
    for raw in (text or '').splitlines():
        line = raw.strip()
        if not line or line[0] in '#;':
            continue
        if line.startswith('[') and line.endswith(']'):
            section = line[1:-1]
            meaning.setdefault(section, [])
            continue
        key, _sep, value = line.partition('=')
        meaning.setdefault(section, []).append((key.strip(), value.strip()))
    return dict((k, sorted(v)) for k, v in meaning.items())


def _ini(name, sections):
    lines = [(HEADER % name).rstrip('\n')]
    for section, pairs in sections:
        lines.append('')
        lines.append('[%s]' % section)
        lines.extend('%s=%s' % (k, v) for k, v in pairs if v is not None)
    return '\n'.join(lines) + '\n'


def _bond_value(key, value):
    if key in _MS:
        return '%dms' % value
    if key in _BOOL:
        return 'yes' if value else 'no'
    if isinstance(value, list):
        return ' '.join(value)
    return str(value)


def _network(config):
    ipv4, ipv6 = config['ipv4'], config['ipv6']
    pairs = []
    dhcp = [f for f, ip in (('ipv4', ipv4), ('ipv6', ipv6)) if ip['method'] == 'dhcp']
    if dhcp:
        pairs.append(('DHCP', 'yes' if len(dhcp) == 2 else dhcp[0]))
    pairs.append(('IPv6AcceptRA', 'yes' if ipv6['method'] == 'auto' else 'no'))
    if ipv6['method'] == 'none':
        pairs.append(('LinkLocalAddressing', 'no'))
    for ip in (ipv4, ipv6):
        pairs += [('Address', a) for a in ip['addresses']]
        if ip['gateway']:
            pairs.append(('Gateway', ip['gateway']))
    pairs += [('DNS', d) for d in ipv4['dns'] + [d for d in ipv6['dns'] if d not in ipv4['dns']]]
    pairs.append(('ConfigureWithoutCarrier', 'yes'))
    return pairs


def render(config):
    name = config['name']
    mtu = [('MTUBytes', str(config['mtu']))] if config['mtu'] else []
    rendered = {}
    rendered[path(name, name, 'netdev')] = _ini(name, [
        ('NetDev', [('Name', name), ('Kind', 'bridge'), ('MACAddress', config['mac'])] + mtu),
        ('Bridge', [('STP', 'yes' if config['stp'] else 'no'), ('ForwardDelaySec', str(config['forward_delay']))])])
    rendered[path(name, name, 'network')] = _ini(name, [('Match', [('Name', name)]), ('Network', _network(config))])
    member = [('Link', mtu)] if mtu else []
    uplink = config['uplink']
    if uplink['kind'] == 'ports':
        for port in uplink['ports']:
            rendered[path(name, port, 'network')] = _ini(name, [('Match', [('Name', port)]),
                                                                ('Network', [('Bridge', name)])] + member)
    elif uplink['kind'] == 'bond':
        bond = uplink['name']
        options = dict(uplink['options'])
        primary = options.pop('primary', None)
        rendered[path(name, bond, 'netdev')] = _ini(name, [
            ('NetDev', [('Name', bond), ('Kind', 'bond')] + mtu),
            ('Bond', [(BOND_KEYS[k], _bond_value(k, v)) for k, v in sorted(options.items()) if k in BOND_KEYS])])
        rendered[path(name, bond, 'network')] = _ini(name, [('Match', [('Name', bond)]),
                                                            ('Network', [('Bridge', name)])])
        for slave in uplink['slaves']:
            network = [('Bond', bond)] + ([('PrimarySlave', 'yes')] if slave == primary else [])
            rendered[path(name, slave, 'network')] = _ini(name, [('Match', [('Name', slave)]), ('Network', network)])
    else:
        vlan = uplink['name']
        rendered[path(name, vlan, 'netdev')] = _ini(name, [
            ('NetDev', [('Name', vlan), ('Kind', 'vlan')] + mtu), ('VLAN', [('Id', str(uplink['id']))])])
        rendered[path(name, vlan, 'network')] = _ini(name, [('Match', [('Name', vlan)]),
                                                            ('Network', [('Bridge', name)])])
        # networkd takes VLAN= from the parent's own .network file: a drop-in beside it adds ours; a parent
        # that no .network file configures gets one of ours
        parent_file = _parent_network(uplink['parent'])
        if parent_file:
            rendered[parent_file + '.d/kvmops-%s.conf' % vlan] = _ini(name, [('Network', [('VLAN', vlan)])])
        else:
            rendered[path(name, uplink['parent'], 'network')] = _ini(name, [
                ('Match', [('Name', uplink['parent'])]), ('Network', [('VLAN', vlan), ('LinkLocalAddressing', 'no')])])
    for tap in config['taps']:
        rendered[path(name, tap['name'], 'netdev')] = _ini(name, [
            ('NetDev', [('Name', tap['name']), ('Kind', 'tap')] + mtu),
            ('Tap', [('User', None if tap['owner'] is None else str(tap['owner'])),
                     ('Group', None if tap['group'] is None else str(tap['group'])),
                     ('MultiQueue', 'yes' if tap['multi_queue'] else 'no'), ('VNetHeader', 'yes')])])
        rendered[path(name, tap['name'], 'network')] = _ini(name, [('Match', [('Name', tap['name'])]),
                                                                   ('Network', [('Bridge', name)])])
    return rendered


def _parent_network(parent):
    """The .network file that configures `parent` (the first whose [Match] Name= lists it), or None."""
    for candidate in files.matching(DIRECTORY + '/*.network'):
        for key, value in parse(files.read_text(candidate)).get('Match', []):
            if key == 'Name' and parent in value.split():
                return candidate
    return None


class Backend(object):
    """A .netdev and a .network per device, all named 10-kvmops-<bridge>[--<device>]; `networkctl reload` after."""

    NAME = 'systemd-networkd'
    MODE = 0o644

    def __init__(self, module):
        self.module = module

    def render(self, config):
        return render(config)

    @staticmethod
    def meaning(text):
        return parse(text)

    def owned(self, name):
        found = (files.matching(DIRECTORY + '/10-kvmops-%s.*' % name) +
                 files.matching(DIRECTORY + '/10-kvmops-%s--*' % name))
        found += [p for p in files.matching(DIRECTORY + '/*.network.d/kvmops-*.conf')
                  if (HEADER % name) in (files.read_text(p) or '')]
        return found

    def edits(self, name, desired, wanted):
        return {}

    def activation(self, changed, wanted):
        module = self.module

        def reload_networkd():
            if stacks.networkd_running(module):
                stacks.run_or_fail(module, ['networkctl', 'reload'], 'systemd-networkd', 'files')
            else:
                module.warn('systemd-networkd is not running: the files take effect when it starts')
        return ('reload', reload_networkd, 'networkctl reload')
