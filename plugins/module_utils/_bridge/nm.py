# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""NetworkManager keyfile profiles in /etc/NetworkManager/system-connections, loaded and activated through NetworkManager's
D-Bus API under a checkpoint (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time
import uuid

from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import nmdbus
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge.netlink import Netlink
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge.networkd import parse
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import files
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError

DIRECTORY = '/etc/NetworkManager/system-connections'
HEADER = '# Managed by kvmops.kvm kvm_bridge: bridge %s\n'
_NAMESPACE = uuid.UUID('6f1b1f5e-8c1a-4d0e-9a53-6b7a1e0c2b10')
# our member profiles win over the host's own ones for the same NIC (e.g. 'Wired connection 1')
PRIORITY = '100'
METHODS4 = {'static': 'manual', 'dhcp': 'auto', 'none': 'disabled'}
METHODS6 = {'static': 'manual', 'dhcp': 'dhcp', 'auto': 'auto', 'none': 'disabled'}
# NetworkManager's profile type for a port of each link kind (netlink's); NICs (no kind) are ethernet
PORT_TYPES = {'dummy': 'dummy', 'veth': 'veth', 'bond': 'bond', 'vlan': 'vlan', 'team': 'team'}
# activation waits for DHCP on the bridge as well (NetworkManager's own DHCP timeout is 45 s)
ACTIVATE_SECONDS = 120
# how long NetworkManager may take to make a device of a link this run made (it is unmanaged until then)
MANAGED_SECONDS = 30
# a checkpoint NetworkManager rolls back to by itself should this run die while activating
CHECKPOINT_SECONDS = ACTIVATE_SECONDS + 60


def profile_id(name, device):
    return 'kvmops-%s' % name if device == name else 'kvmops-%s--%s' % (name, device)


def uuid_of(profile):
    """The uuid a profile of ours has: derived from its id, so every run names the same profile alike."""
    return str(uuid.uuid5(_NAMESPACE, profile))


def profile_uuid(name, device):
    return uuid_of(profile_id(name, device))


def path(name, device):
    return '%s/%s.nmconnection' % (DIRECTORY, profile_id(name, device))


def _keyfile(name, device, kind, sections, master=None, slave_type=None):
    connection = [('id', profile_id(name, device)),
                  ('uuid', profile_uuid(name, device)),
                  ('type', kind), ('interface-name', device), ('autoconnect', 'true')]
    if kind in ('bridge', 'bond'):
        # activating the controller activates its ports' profiles too (at boot and when this module activates it)
        connection.append(('autoconnect-slaves', '1'))
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
        kinds = uplink.get('kinds') or {}
        for port in uplink['ports']:
            kind = PORT_TYPES.get(kinds.get(port), 'ethernet')
            rendered[path(name, port)] = _keyfile(name, port, kind, mtu, master=name, slave_type='bridge')
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


def _order(name, paths):
    """The bridge's profile first, then its uplink's (bond, VLAN, ports), then the bond's slaves and the taps: each
    controller is activating before its ports are."""
    def rank(item):
        text = item[1]
        if item[0] == path(name, name):
            return 0
        return 2 if 'slave-type=bond' in text else 1
    return [p for p, _t in sorted(paths.items(), key=lambda item: (rank(item), item[0]))]


def _profile(file_path):
    """The profile id of one of our keyfiles: its file name without .nmconnection."""
    return file_path.rsplit('/', 1)[-1][:-len('.nmconnection')]


class Backend(object):
    """One keyfile per device, named kvmops-<bridge>[--<device>], written as files (so the diff shows them), then loaded
    and activated through NetworkManager's D-Bus API (jeepney) under a checkpoint: created before, destroyed once every
    profile is activated, rolled back when one fails. With `rollback`, the run's own checkpoint (taken before the
    runtime changes) covers the activation and stays until connectivity is verified."""

    NAME = 'networkmanager'
    MODE = 0o600

    def __init__(self, module):
        self.module = module
        self.checkpoint = None   # set by the rollback step when it holds one
        self.deadline = None     # likewise: when its connectivity check ends

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
        written = [p for p in changed if wanted.get(p)]
        removed = [p for p in changed if not wanted.get(p)]
        kept = dict((p, t) for p, t in wanted.items() if t)
        name = _bridge_of(kept) or _bridge_of(dict((p, '') for p in changed))

        def activate():
            client = nmdbus.NetworkManager()
            try:
                own = None if self.checkpoint else client.checkpoint_create(CHECKPOINT_SECONDS)
                try:
                    # the bridge and bond made at runtime go first: NetworkManager makes them again from the profiles
                    # (_remove_controllers)
                    before = client.active_profiles()
                    _remove_controllers(client, kept)
                    # every profile file read again: new ones added, changed ones updated, removed ones deleted
                    # (LoadConnections refused new files in the lab: atomic_move had left them 0644, see files.py)
                    client.reload()
                    if kept:
                        self._activate_tree(client, name, kept, before)
                except Exception:
                    if own:
                        client.checkpoint_rollback(own)
                    raise
                if own:
                    client.checkpoint_destroy(own)
            finally:
                client.close()
        verb = 'load and activate profiles in' if kept else 'remove profiles from'
        return (verb, activate, ', '.join(_profile(p) for p in sorted(written + removed)))

    def _activate_tree(self, client, name, kept, before):
        """Activate the bridge's profile alone: NetworkManager brings its ports up with it (autoconnect-slaves), in its
        own order (activating each profile in turn had each activation undo the one before it: a bridge activated
        again detaches its ports). Waits until every profile is active (under `rollback`, at most until its deadline:
        the pings that follow judge a change that is still activating)."""
        existing = Netlink()
        try:
            links = existing.read().links
        finally:
            existing.close()
        for text in kept.values():
            device = _device(text)
            if device in links:
                # a link this run made is unmanaged until NetworkManager has looked at it
                client.wait_managed(device, MANAGED_SECONDS)
        uuids = {}
        for profile_path in _order(name, kept):
            profile = _profile(profile_path)
            ident = uuid_of(profile)
            uuids[ident] = profile
            try:
                connection = client.connection(ident)
            except KvmError as exc:
                raise KvmError('load', 'NetworkManager profile', files.host_path(profile_path),
                               'NetworkManager did not take it (%s); see journalctl -u NetworkManager' % exc)
            # activated again when it was active before (re-read, the change applies on activation); not when
            # NetworkManager started it by itself on the reload (autoconnect), which an activation would restart
            if profile_path == path(name, name) and (
                    ident in before or ident not in client.active_profiles()):
                client.activate(connection)
        if self.deadline is None:
            client.wait_profiles(uuids, ACTIVATE_SECONDS)
        else:
            client.wait_profiles(uuids, max(1, self.deadline - time.time()), still_activating_ok=True)


def _remove_controllers(client, kept):
    """Delete the bridge and the bond the profiles are for, where they exist (made at runtime by this run or an
    earlier one, not by NetworkManager): NetworkManager takes such links as external and, activating a profile on
    them, re-activates the bridge (which detaches its ports) and sets the bond's mode, which the kernel refuses while
    the bond has slaves ("unable to set option because the bond device has slaves"). Made by NetworkManager from
    the profiles instead, they come up in its own order; the checkpoint covers the seconds without them."""
    ours = set(uuid_of(_profile(p)) for p in kept)
    controllers = [_device(t) for t in kept.values() if '\ntype=bridge\n' in t or '\ntype=bond\n' in t]
    link = Netlink()
    try:
        state = link.read()
        for device in controllers:
            if device in state.links and client.device_profile(device) not in ours:
                ports = state.ports_of(device)
                link.delete(device)
                # the kernel takes a released bond slave down: NetworkManager would not activate it then (no carrier)
                for port in ports:
                    if state.link(port)['kind'] not in ('bridge', 'bond'):
                        link.set(port, state='up')
    finally:
        link.close()


def _device(text):
    """The interface-name of a keyfile's text."""
    for line in text.splitlines():
        if line.startswith('interface-name='):
            return line.split('=', 1)[1]
    return None


def _bridge_of(paths):
    """The bridge name of our profiles' paths (kvmops-<bridge>[--<device>].nmconnection)."""
    for found in paths:
        profile = _profile(found)
        if profile.startswith('kvmops-') and '--' not in profile:
            return profile[len('kvmops-'):]
    for found in paths:
        return _profile(found)[len('kvmops-'):].split('--')[0]
    return None
