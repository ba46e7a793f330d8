# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""NetworkManager keyfile profiles in /etc/NetworkManager/system-connections, loaded with nmcli (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import uuid

from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import stacks
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge.networkd import parse
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import files

DIRECTORY = '/etc/NetworkManager/system-connections'
HEADER = '# Managed by kvmops.kvm kvm_bridge: bridge %s\n'
_NAMESPACE = uuid.UUID('6f1b1f5e-8c1a-4d0e-9a53-6b7a1e0c2b10')
# our member profiles win over the host's own ones for the same NIC (e.g. 'Wired connection 1')
PRIORITY = '100'
METHODS4 = {'static': 'manual', 'dhcp': 'auto', 'none': 'disabled'}
METHODS6 = {'static': 'manual', 'dhcp': 'dhcp', 'auto': 'auto', 'none': 'disabled'}


def profile_id(name, device):
    return 'kvmops-%s' % name if device == name else 'kvmops-%s--%s' % (name, device)


def path(name, device):
    return '%s/%s.nmconnection' % (DIRECTORY, profile_id(name, device))


def _keyfile(name, device, kind, sections, master=None, slave_type=None):
    connection = [('id', profile_id(name, device)),
                  ('uuid', str(uuid.uuid5(_NAMESPACE, profile_id(name, device)))),
                  ('type', kind), ('interface-name', device), ('autoconnect', 'true')]
    if master:
        connection += [('master', master), ('slave-type', slave_type), ('autoconnect-priority', PRIORITY)]
    lines = [(HEADER % name).rstrip('\n'), '[connection]'] + ['%s=%s' % kv for kv in connection]
    for section, pairs in sections:
        lines.append('')
        lines.append('[%s]' % section)
        lines.extend('%s=%s' % (k, v) for k, v in pairs if v is not None)
    return '\n'.join(lines) + '\n'


def _ip(family, ip, methods):
    pairs = [('method', methods[ip['method']])]
    for index, address in enumerate(ip['addresses']):
        pairs.append(('address%d' % (index + 1), address))
    if ip['gateway']:
        pairs.append(('gateway', ip['gateway']))
    if ip['dns']:
        pairs.append(('dns', ';'.join(ip['dns']) + ';'))
    return (family, pairs)


def render(config):
    name = config['name']
    mtu = [('ethernet', [('mtu', str(config['mtu']))])] if config['mtu'] else []
    rendered = {}
    bridge = [('bridge', [('stp', 'true' if config['stp'] else 'false'),
                          ('forward-delay', str(config['forward_delay'])), ('mac-address', config['mac'])])]
    rendered[path(name, name)] = _keyfile(name, name, 'bridge', bridge + mtu + [
        _ip('ipv4', config['ipv4'], METHODS4), _ip('ipv6', config['ipv6'], METHODS6)])
    uplink = config['uplink']
    if uplink['kind'] == 'ports':
        for port in uplink['ports']:
            rendered[path(name, port)] = _keyfile(name, port, 'ethernet', mtu, master=name, slave_type='bridge')
    elif uplink['kind'] == 'bond':
        bond = uplink['name']
        options = []
        for key in sorted(uplink['options'], key=lambda k: (k != 'mode', k)):
            value = uplink['options'][key]
            options.append((key, ','.join(value) if isinstance(value, list) else str(value)))
        rendered[path(name, bond)] = _keyfile(name, bond, 'bond', [('bond', options)] + mtu, master=name,
                                              slave_type='bridge')
        for slave in uplink['slaves']:
            rendered[path(name, slave)] = _keyfile(name, slave, 'ethernet', mtu, master=bond, slave_type='bond')
    else:
        vlan = uplink['name']
        rendered[path(name, vlan)] = _keyfile(name, vlan, 'vlan', [
            ('vlan', [('id', str(uplink['id'])), ('parent', uplink['parent'])])] + mtu, master=name, slave_type='bridge')
    for tap in config['taps']:
        tun = [('mode', '2'), ('multi-queue', 'true' if tap['multi_queue'] else 'false'), ('vnet-hdr', 'true'),
               ('owner', None if tap['owner'] is None else str(tap['owner'])),
               ('group', None if tap['group'] is None else str(tap['group']))]
        rendered[path(name, tap['name'])] = _keyfile(name, tap['name'], 'tun', [('tun', tun)] + mtu, master=name,
                                                     slave_type='bridge')
    return rendered


def meaning(text):
    """What NetworkManager reads, without what it adds when it rewrites a profile (timestamps, defaults)."""
    parsed = parse(text)
    connection = [kv for kv in parsed.get('connection', []) if kv[0] != 'timestamp']
    parsed['connection'] = connection
    return parsed


class Backend(object):
    """One keyfile per device, named kvmops-<bridge>[--<device>]; `nmcli connection load` after writing,
    `nmcli connection reload` after removing. Rollback uses NetworkManager's checkpoints."""

    NAME = 'networkmanager'
    MODE = 0o600

    def __init__(self, module):
        self.module = module

    def render(self, config):
        return render(config)

    @staticmethod
    def meaning(text):
        return meaning(text)

    def owned(self, name):
        return (files.matching(DIRECTORY + '/kvmops-%s.nmconnection' % name) +
                files.matching(DIRECTORY + '/kvmops-%s--*.nmconnection' % name))

    def edits(self, name, desired, wanted):
        return {}

    def activation(self, changed, wanted):
        module = self.module
        written = [p for p in changed if wanted.get(p)]
        removed = [p for p in changed if not wanted.get(p)]

        def load():
            if removed:
                stacks.run_or_fail(module, ['nmcli', 'connection', 'reload'], 'NetworkManager', 'profiles')
            if written:
                stacks.run_or_fail(module, ['nmcli', 'connection', 'load'] + [files.host_path(p) for p in written],
                                   'NetworkManager', 'profiles')
        return ('load profiles into', load, ', '.join(p.rsplit('/', 1)[-1] for p in written + removed))
