# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ifupdown stanzas in /etc/network/interfaces.d (Debian/Ubuntu with bridge-utils, ifenslave, vlan) (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import files

INTERFACES = '/etc/network/interfaces'
DIRECTORY = '/etc/network/interfaces.d'
HEADER = '# Managed by kvmops.kvm kvm_bridge: bridge %s\n'
_STARTS = ('iface', 'auto', 'allow-', 'mapping', 'source', 'source-directory', 'rename')


def path(name):
    return '%s/kvmops-%s' % (DIRECTORY, name)


def stanzas(text):
    """The file as [(kind, words, [option lines])] in order: 'iface', 'auto', 'allow-hotplug', 'source', ..."""
    found = []
    for raw in (text or '').splitlines():
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        words = line.split()
        if words[0] in _STARTS or words[0].startswith('allow-'):
            found.append((words[0], words[1:], []))
        elif found and found[-1][0] == 'iface':
            found[-1][2].append(' '.join(words))
    return found


def parse(text):
    """What the stanzas mean: which interfaces start at boot, and each iface's method and options."""
    autos = set()
    ifaces = {}
    sources = []
    for kind, words, options in stanzas(text):
        if kind == 'auto' or kind.startswith('allow-'):
            autos.update((kind, w) for w in words)
        elif kind == 'iface':
            key = (words[0], words[1] if len(words) > 1 else 'inet')
            ifaces[key] = (words[2] if len(words) > 2 else None, tuple(sorted(_option(o) for o in options)))
        else:
            sources.append((kind, tuple(words)))
    return {'auto': sorted(autos), 'iface': ifaces, 'source': sources}


def _option(line):
    key, _sep, value = line.partition(' ')
    return (key.replace('_', '-'), ' '.join(value.split()))


def _block(device, family, method, options, auto=True):
    lines = ['auto %s' % device] if auto else []
    lines.append('iface %s %s %s' % (device, family, method))
    lines.extend('    %s' % option for option in options if option)
    return '\n'.join(lines)


def _tap_command(tap):
    words = ['ip', 'tuntap', 'add', 'dev', tap['name'], 'mode', 'tap']
    if tap['owner'] is not None:
        words += ['user', str(tap['owner'])]
    if tap['group'] is not None:
        words += ['group', str(tap['group'])]
    if tap['multi_queue']:
        words.append('multi_queue')
    words.append('vnet_hdr')
    return 'pre-up %s || true' % ' '.join(words)


def render(config):
    name = config['name']
    mtu = ['mtu %d' % config['mtu']] if config['mtu'] else []
    blocks = []
    uplink = config['uplink']
    bridge_ports = []
    if uplink['kind'] == 'ports':
        for port in uplink['ports']:
            blocks.append(_block(port, 'inet', 'manual', mtu, auto=False))
        bridge_ports = list(uplink['ports'])
    elif uplink['kind'] == 'bond':
        bond = uplink['name']
        for slave in uplink['slaves']:
            blocks.append(_block(slave, 'inet', 'manual', ['bond-master %s' % bond] + mtu))
        options = ['bond-slaves %s' % (' '.join(uplink['slaves']) or 'none')]
        for key in sorted(uplink['options'], key=lambda k: (k != 'mode', k)):
            value = uplink['options'][key]
            options.append('bond-%s %s' % (key.replace('_', '-'), ' '.join(value) if isinstance(value, list) else value))
        blocks.append(_block(bond, 'inet', 'manual', options + mtu))
        bridge_ports = [bond]
    else:
        blocks.append(_block(uplink['name'], 'inet', 'manual', ['vlan-raw-device %s' % uplink['parent']] + mtu))
        bridge_ports = [uplink['name']]
    bridge_ports += [t['name'] for t in config['taps']]
    options = [_tap_command(t) for t in config['taps']]
    options += ['bridge_ports %s' % (' '.join(bridge_ports) or 'none'),
                'bridge_stp %s' % ('on' if config['stp'] else 'off'),
                'bridge_fd %d' % config['forward_delay']]
    if config['mac']:
        options.append('hwaddress ether %s' % config['mac'])
    options += mtu
    options += ['post-down ip link delete %s || true' % t['name'] for t in config['taps']]
    ipv4, ipv6 = config['ipv4'], config['ipv6']
    v4_method = {'static': 'static', 'dhcp': 'dhcp'}.get(ipv4['method'], 'manual')
    v4_options = list(options)
    if ipv4['method'] == 'static':
        v4_options += ['address %s' % ipv4['addresses'][0]]
        if ipv4['gateway']:
            v4_options.append('gateway %s' % ipv4['gateway'])
        v4_options += ['up ip addr add %s dev %s' % (a, name) for a in ipv4['addresses'][1:]]
    dns = ipv4['dns'] + [d for d in ipv6['dns'] if d not in ipv4['dns']]
    if dns:
        v4_options.append('dns-nameservers %s' % ' '.join(dns))
    blocks.append(_block(name, 'inet', v4_method, v4_options))
    if ipv6['method'] != 'none':
        v6_method = {'static': 'static', 'dhcp': 'dhcp', 'auto': 'auto'}[ipv6['method']]
        v6_options = []
        if ipv6['method'] == 'static':
            v6_options.append('address %s' % ipv6['addresses'][0])
            if ipv6['gateway']:
                v6_options.append('gateway %s' % ipv6['gateway'])
            v6_options += ['up ip addr add %s dev %s' % (a, name) for a in ipv6['addresses'][1:]]
        blocks.append(_block(name, 'inet6', v6_method, v6_options, auto=False))
    return {path(name): HEADER % name + '\n' + '\n\n'.join(blocks) + '\n'}


def _devices(config_text):
    return set(key[0] for key in parse(config_text)['iface']) | set(w for _k, w in parse(config_text)['auto'])


def without(text, devices):
    """`text` with the stanzas (auto/allow-*/iface and its options) of `devices` removed, the rest kept as written."""
    kept = []
    skipping = False
    for raw in text.splitlines():
        line = raw.strip()
        words = line.split()
        if words and (words[0] in _STARTS or words[0].startswith('allow-')):
            skipping = False
            if words[0] == 'iface' and len(words) > 1 and words[1] in devices:
                skipping = True
                continue
            if words[0] == 'auto' or words[0].startswith('allow-'):
                rest = [w for w in words[1:] if w not in devices]
                if len(rest) != len(words) - 1:
                    if rest:
                        kept.append(' '.join([words[0]] + rest))
                    continue
        elif skipping and line:   # the option lines of a stanza taken out
            continue
        kept.append(raw)
    return '\n'.join(kept) + ('\n' if text.endswith('\n') else '')


class Backend(object):
    """One file per bridge in /etc/network/interfaces.d; the stanzas of its devices elsewhere are taken out."""

    NAME = 'ifupdown'
    MODE = 0o644

    def __init__(self, module):
        self.module = module

    def render(self, config):
        return render(config)

    @staticmethod
    def meaning(text):
        return parse(text)

    def owned(self, name):
        return [p for p in [path(name)] if files.exists(p)]

    def edits(self, name, desired, wanted):
        """Other stanzas of our devices (e.g. `iface eth0 inet dhcp` in /etc/network/interfaces) would fight ours at
        boot: they are taken out. /etc/network/interfaces must source the directory."""
        mine = path(name)
        devices = _devices(wanted.get(mine) or '') | set([name])
        changes = {}
        for candidate in [INTERFACES] + files.matching(DIRECTORY + '/*'):
            if candidate == mine:
                continue
            text = files.read_text(candidate)
            if text is None:
                continue
            found = _devices(text) & devices
            new = without(text, found) if found else text
            if candidate == INTERFACES and wanted.get(mine) and not any(
                    kind in ('source', 'source-directory') and (DIRECTORY in ' '.join(words))
                    for kind, words in parse(new)['source']):
                new = new.rstrip('\n') + '\n\nsource %s/*\n' % DIRECTORY
            if new != text:
                changes[candidate] = new
        return changes

    def activation(self, changed, wanted):
        return None
