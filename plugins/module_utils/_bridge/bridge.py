# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host bridges over NICs, bonds or VLANs, with taps: read -> plan -> apply over netlink (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import ipaddress
import os
import socket

from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import bond as bonding
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import spec
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import persist
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import rollback
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge.deps import NetlinkError
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge.netlink import Netlink
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError, ParameterError
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.plan import Action, PartialFailure
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.resource import Resource

KIND = 'bridge'
NEW_BRIDGE = {'stp': False, 'forward_delay': 15, 'mtu': 1500}   # what the kernel gives a new bridge


def is_tap(link):
    return link is not None and link['kind'] == 'tun' and (link.get('tun') or {}).get('type') == 'tap'


def stable_mac(name):
    """A locally administered unicast MAC for bridge `name` on this host, the same on every run (as systemd-networkd
    derives one: from the machine ID and the interface name)."""
    try:
        with open('/etc/machine-id') as stream:
            machine = stream.read().strip()
    except (IOError, OSError):
        machine = ''
    digest = bytearray(hashlib.sha256(('%s/kvmops-bridge/%s' % (machine or socket.gethostname(), name))
                                      .encode('utf-8')).digest()[:6])
    digest[0] = (digest[0] & 0xfe) | 0x02
    return ':'.join('%02x' % octet for octet in digest)


def _own_mac(link):
    return link.get('perm_mac') or link['mac']


class Bridge(Resource):
    """One kvm_bridge run."""

    KIND = KIND

    def __init__(self, module, params=None):
        super(Bridge, self).__init__(module, params)
        self.desired = None
        self.before = None
        self.after = None
        self.backend = None
        self.files = None
        self.rollback = None
        self.rolled_back = False
        self.touched_files = []
        self.gateways = {}      # version -> the default gateway via the bridge after the run
        self._netlink = None
        self._pid = None

    def nl(self):
        """This process's netlink socket (the rollback's detached child opens its own)."""
        if self._netlink is None or self._pid != os.getpid():
            self._netlink = Netlink()
            self._pid = os.getpid()
        return self._netlink

    # ---- validation (reads only)

    def validate(self):
        self.desired = spec.desired(self.params)
        self.rollback = rollback.options(self.params.get('rollback'))
        self.before = self.nl().read()
        if self.state == 'present':
            spec.check_host(self.desired, self.before)
        self.backend = persist.choose(self.params.get('persist') or 'auto', self.module)

    # ---- planning

    def _delay_left_to_networkmanager(self):
        """NetworkManager sets a bridge's forward delay only with STP on (the kernel's 15 s stays otherwise, at each
        activation and boot); without STP the delay means nothing (ports forward at once), so it is not compared."""
        stp = self.desired['stp'] if self.desired['stp'] is not None else self.after['stp']
        return self.backend is not None and self.backend.NAME == 'networkmanager' and not stp

    def plan(self, plan):
        if self.state == 'absent':
            self._plan_absent(plan)
        else:
            self._plan_present(plan)
        self.files = persist.plan(self, plan)

    def _members(self, state):
        """The bridge's ports, split into uplink ports, our taps (persistent) and guests' taps (held open by QEMU)."""
        uplinks, taps, guests = [], [], []
        for member in state.ports_of(self.name):
            link = state.link(member)
            if is_tap(link):
                (taps if link['tun']['persist'] else guests).append(member)
            elif link['kind'] == 'macvtap':
                guests.append(member)
            else:
                uplinks.append(member)
        return uplinks, taps, guests

    def _refuse_with_guests(self, guests, what):
        if guests and not self.params.get('force'):
            raise KvmError(what, KIND, self.name, 'running guests are attached to it: %s; set force=true to do '
                                                  'it anyway (they lose their network)' % self._guest_names(guests),
                           guests=sorted(guests))

    def _guest_names(self, taps):
        """'web1 (vnet3), db (vnet5)': the guests whose taps these are, asked of libvirt where it answers."""
        owners = {}
        try:
            for dom in self.module.conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
                root = _xml.parse(dom.XMLDesc(0))
                for target in root.findall('./devices/interface/target'):
                    owners[target.get('dev')] = dom.name()
        except (KvmError, libvirt.libvirtError, AttributeError):
            pass
        return ', '.join('%s (%s)' % (owners[t], t) if t in owners else 'tap %s' % t for t in sorted(taps))

    def _plan_present(self, plan):
        state = self.before
        d = self.desired
        name = self.name
        nl = self.nl
        current = state.link(name)
        uplinks, taps, guests = self._members(state) if current else ([], [], [])
        after = self._observed(state) if current else dict(
            name=name, mac=None, mtu=NEW_BRIDGE['mtu'], stp=NEW_BRIDGE['stp'],
            forward_delay=NEW_BRIDGE['forward_delay'], ports=[], taps=[], addresses=[], bond=None, vlan=None)
        self.after = after
        uplink = d['uplink']
        wanted_ports = None
        movers = []      # devices whose addresses and routes move onto the bridge
        late = []        # steps after the addresses are on the bridge and the uplink is in it

        if uplink is not None:
            if uplink['kind'] == 'ports':
                wanted_ports = list(uplink['ports'])
                movers = list(wanted_ports)
            elif uplink['kind'] == 'bond':
                wanted_ports = [uplink['name']]
                movers = [uplink['name']] + list(uplink['slaves'] or state.ports_of(uplink['name']))
                late = self._plan_bond(plan, uplink, guests)
            else:
                wanted_ports = [uplink['name']]
                movers = [uplink['name']]
                self._plan_vlan(plan, uplink, guests)
            removed = sorted(set(uplinks) - set(wanted_ports))
            if removed:
                self._refuse_with_guests(guests, 're-port')

        # the bridge and its own attributes
        if current is None:
            plan.difference('state', 'absent', 'present')
            stp, delay = d['stp'], d['forward_delay']
            # made with its MAC already (see _plan_mac)
            mac = self._new_mac(uplink)
            details = ('stp' if stp else None, 'forward delay %ss' % delay if delay is not None else None)
            plan.add('create', KIND, name, lambda: nl().create_bridge(name, stp, delay, mac),
                     detail=', '.join(x for x in details if x))
            after.update((k, v) for k, v in (('stp', stp), ('forward_delay', delay)) if v is not None)
        else:
            for key, label in (('stp', 'STP'), ('forward_delay', 'forward delay')):
                if key == 'forward_delay' and self._delay_left_to_networkmanager():
                    continue
                if d[key] is not None and d[key] != after[key]:
                    plan.difference(key, after[key], d[key])
                    value = d[key]
                    plan.add('set %s of' % label, KIND, name,
                             lambda key=key, value=value: nl().set_bridge(name, **{key: value}), detail=str(value))
                    after[key] = value
        self._plan_mtu(plan, uplink)
        self._plan_mac(plan, uplink, current)
        if current is None or not current['up']:
            plan.add('bring up', KIND, name, lambda: nl().set(name, state='up'))

        # addresses on the bridge first, so the host stays reachable while the uplink moves under it
        wanted_addresses, drop_from_bridge = self._wanted_addresses(movers)
        for address in [a for a in wanted_addresses if a not in after['addresses']]:
            plan.add('add address to', KIND, name,
                     lambda a=address: nl().add_address(name, a, self.before.dynamic.get(a)), detail=address)
        if wanted_ports is not None:
            for port in [p for p in wanted_ports if p not in uplinks]:
                plan.add('attach port to', KIND, name, self._attacher(port), detail=port)
            if sorted(uplinks) != sorted(wanted_ports):
                plan.difference('ports', sorted(uplinks), sorted(wanted_ports))
            after['ports'] = sorted(wanted_ports)
        for step in late:
            step()
        self._plan_routes(plan, movers)
        for device in movers:
            for address in state.addresses.get(device, []):
                plan.add('remove address moved to %s from' % name, 'interface', device,
                         lambda dev=device, a=address: nl().remove_address(dev, a), detail=address)
        for address in drop_from_bridge:
            plan.add('remove address from', KIND, name, lambda a=address: nl().remove_address(name, a), detail=address)
        if sorted(after['addresses']) != sorted(wanted_addresses):
            plan.difference('addresses', after['addresses'], wanted_addresses)
        after['addresses'] = wanted_addresses
        if wanted_ports is not None:
            for port in sorted(set(uplinks) - set(wanted_ports)):
                plan.add('detach port from', KIND, name, lambda p=port: nl().set(p, master=None), detail=port)
        self._plan_taps(plan, taps)

    def _attacher(self, port):
        name = self.name

        def attach():
            self.nl().set(port, master=name)
            self.nl().set(port, state='up')
        return attach

    # -- uplink devices

    def _plan_bond(self, plan, uplink, guests):
        """Create or change the bond; returns the steps that must follow its attachment to the bridge."""
        state = self.before
        nl = self.nl
        bond_name = uplink['name']
        found = state.link(bond_name)
        wanted = dict(uplink['options'])
        primary = wanted.pop('primary', None)
        slaves_now = state.ports_of(bond_name) if found else []
        if found is None:
            plan.difference('bond', None, dict(name=bond_name, slaves=uplink['slaves'],
                                               options=dict(uplink['options'])))
            plan.add('create', 'bond', bond_name, lambda: nl().create_bond(bond_name, wanted),
                     detail=bonding.option_text(wanted) or None)
            current = {}
        else:
            current = dict(found['bond'])
            changed = dict((k, v) for k, v in wanted.items() if current.get(k) != v)
            for key in sorted(changed):
                if key != 'mode':
                    plan.difference('bond.options.' + key, current.get(key), changed[key])
            # the kernel refuses these on a bond that is up (EBUSY): they are set in a short down window
            down = dict((k, v) for k, v in changed.items() if k in bonding.WHILE_DOWN)
            live = dict((k, v) for k, v in changed.items() if k not in bonding.WHILE_DOWN and k != 'mode')
            if 'mode' in changed:
                # the kernel takes a new mode only from a bond that is down and has no slaves
                self._refuse_with_guests(guests, 'change the bond mode of')
                plan.difference('bond.mode', current.get('mode'), changed['mode'])
                mode = changed['mode']
                held = list(slaves_now)

                def remode():
                    nl().set(bond_name, state='down')
                    for slave in held:
                        nl().set(slave, master=None)
                    nl().set_bond(bond_name, {'mode': mode})
                    if down:
                        nl().set_bond(bond_name, down)
                    nl().set(bond_name, state='up')
                plan.add('change mode of', 'bond', bond_name, remode,
                         detail='%s -> %s%s (slaves re-enslaved)' % (
                             current.get('mode'), mode, ', ' + bonding.option_text(down) if down else ''))
                slaves_now = []
            elif down:
                def while_down():
                    nl().set(bond_name, state='down')
                    try:
                        nl().set_bond(bond_name, down)
                    finally:
                        nl().set(bond_name, state='up')
                plan.add('set options of', 'bond', bond_name, while_down,
                         detail='%s (bond down meanwhile)' % bonding.option_text(down))
            if live:
                plan.add('set options of', 'bond', bond_name, lambda: nl().set_bond(bond_name, live),
                         detail=bonding.option_text(live))
        slaves = uplink['slaves'] if uplink['slaves'] is not None else list(slaves_now)
        if found is not None and sorted(slaves) != sorted(state.ports_of(bond_name)):
            plan.difference('bond.slaves', sorted(state.ports_of(bond_name)), sorted(slaves))
        gone = [s for s in (state.ports_of(bond_name) if found else []) if s not in slaves]
        if gone:
            self._refuse_with_guests(guests, 're-port')
        self.after['bond'] = dict(name=bond_name, mode=wanted.get('mode', current.get('mode')),
                                  miimon=wanted.get('miimon', current.get('miimon')),
                                  active_slave=current.get('active_slave'), slaves=sorted(slaves),
                                  options=dict(current, **uplink['options']))
        self.after['bond']['options'].pop('active_slave', None)

        def late():
            for slave in [s for s in slaves if s not in slaves_now]:
                plan.add('enslave to bond %s' % bond_name, 'interface', slave, self._enslaver(slave, bond_name))
            for slave in gone:
                plan.add('release from bond %s' % bond_name, 'interface', slave,
                         lambda s=slave: nl().set(s, master=None))
            if primary and (primary != current.get('primary') or found is None):
                if found is not None:
                    plan.difference('bond.options.primary', current.get('primary'), primary)
                plan.add('set primary slave of', 'bond', bond_name,
                         lambda: nl().set_bond(bond_name, {'primary': primary}), detail=primary)
            if found is None or not found['up']:
                plan.add('bring up', 'bond', bond_name, lambda: nl().set(bond_name, state='up'))
        return [late]

    def _enslaver(self, slave, bond_name):
        def enslave():
            # bonding takes only slaves that are down
            self.nl().set(slave, state='down')
            self.nl().set(slave, master=bond_name)
            self.nl().set(slave, state='up')
        return enslave

    def _plan_vlan(self, plan, uplink, guests):
        state = self.before
        nl = self.nl
        vname, parent, vid = uplink['name'], uplink['parent'], uplink['id']
        found = state.link(vname)
        wanted = {'id': vid, 'parent': parent}
        if found is not None and found['vlan'] != wanted:
            self._refuse_with_guests(guests, 're-port')
            plan.difference('vlan', dict(found['vlan'], name=vname), dict(wanted, name=vname))
            plan.add('delete', 'vlan', vname, lambda: nl().delete(vname), detail='id or parent changes')
            found = None
        elif found is None:
            plan.difference('vlan', None, dict(wanted, name=vname))
        if found is None:
            plan.add('create', 'vlan', vname, lambda: nl().create_vlan(vname, parent, vid),
                     detail='id %d on %s' % (vid, parent))
            plan.add('bring up', 'vlan', vname, lambda: nl().set(vname, state='up'))
        elif not found['up']:
            plan.add('bring up', 'vlan', vname, lambda: nl().set(vname, state='up'))
        self.after['vlan'] = dict(wanted, name=vname)

    # -- attributes

    def _uplink_mac(self, uplink):
        """The MAC the bridge takes by default: its uplink's; a NIC's own (permanent) MAC, a bond's first slave's.

        Permanent MACs, not the current ones: enslaved NICs wear the bond's MAC, and a bond's own depends on which
        slave came first at boot and on udev, while the bridge's must be the same on every run and after a reboot."""
        state = self.before
        if uplink is None:
            return None
        if uplink['kind'] == 'ports':
            return _own_mac(state.link(uplink['ports'][0]))
        found = state.link(uplink['name'])
        if uplink['kind'] == 'bond':
            slaves = uplink['slaves'] or state.ports_of(uplink['name'])
            first = state.link(slaves[0]) if slaves else None
            return _own_mac(first) if first is not None else (found or {}).get('mac')
        # a VLAN wears its parent's current MAC (and follows it: a bond's changes with the slave enslaved first at
        # boot, and with fail_over_mac at a failover): the parent's own MAC instead, or a second run would see a change
        return self._own_device_mac(uplink['parent'])

    def _own_device_mac(self, name):
        """A device's MAC that stays the same on every run and after a reboot: a NIC's permanent one, a bond's first
        slave's (by name: a VLAN's bridge does not know the order the bond's own bridge gave them)."""
        state = self.before
        link = state.link(name)
        if link['kind'] == 'bond' and state.ports_of(name):
            return _own_mac(state.link(state.ports_of(name)[0]))
        return _own_mac(link)

    def _new_mac(self, uplink):
        """A new bridge's MAC: the one given, its uplink's, or for a bridge without an uplink a stable MAC known while
        planning (so the persisted files hold it from the first run)."""
        return self.desired['mac'] or self._uplink_mac(uplink) or stable_mac(self.name)

    def _plan_mac(self, plan, uplink, current):
        """Pin the MAC, so it never jumps to a tap's as taps come and go. A new bridge is made with it (udev's
        MACAddressPolicy=persistent overrides a MAC set a moment after the link appeared, not one it was born with);
        the step reported for it sets the same MAC again, a no-op."""
        name = self.name
        nl = self.nl
        if current is None:
            wanted = self._new_mac(uplink)
            verb = 'set MAC of' if self.desired['mac'] or self._uplink_mac(uplink) else 'pin MAC of'
            plan.add(verb, KIND, name, lambda: nl().set(name, address=wanted), detail=wanted)
            self.after['mac'] = wanted
            return
        wanted = self.desired['mac'] or self._uplink_mac(uplink)
        have = current['mac']
        if wanted is not None and wanted != have:
            plan.difference('mac', have, wanted)
            plan.add('set MAC of', KIND, name, lambda: nl().set(name, address=wanted), detail=wanted)
            self.after['mac'] = wanted

    def _plan_mtu(self, plan, uplink):
        """The MTU on the uplink devices first (a VLAN's parent only grows), then on the bridge."""
        mtu = self.desired['mtu']
        if mtu is None:
            return
        state = self.before
        nl = self.nl
        devices = []
        if uplink is not None:
            if uplink['kind'] == 'ports':
                devices = [(p, 'interface') for p in uplink['ports']]
            elif uplink['kind'] == 'bond':
                devices = [(uplink['name'], 'bond')]
            else:
                parent = state.link(uplink['parent'])
                if parent['mtu'] < mtu:
                    devices.append((uplink['parent'], 'interface'))
                devices.append((uplink['name'], 'vlan'))
        for device, kind in devices:
            found = state.link(device)
            if found is None or found['mtu'] != mtu:
                plan.add('set MTU of', kind, device, lambda dev=device: nl().set(dev, mtu=mtu), detail=str(mtu))
        if self.after['mtu'] != mtu or state.link(self.name) is None:
            if state.link(self.name) is not None:
                plan.difference('mtu', self.after['mtu'], mtu)
            plan.add('set MTU of', KIND, self.name, lambda: nl().set(self.name, mtu=mtu), detail=str(mtu))
        self.after['mtu'] = mtu

    # -- addresses and routes

    def _wanted_addresses(self, movers):
        """(the bridge's addresses after the run, the bridge's addresses to remove)."""
        state = self.before
        have = state.addresses_of(self.name)
        wanted = []
        for version, family in ((4, 'ipv4'), (6, 'ipv6')):
            options = self.desired[family]
            mine = state.addresses_of(self.name, version)
            moved = [a for dev in movers for a in state.addresses_of(dev, version)]
            if options is None or options['method'] in ('dhcp', 'auto'):
                wanted.extend(mine + [a for a in moved if a not in mine])
            elif options['method'] == 'static':
                wanted.extend(options['addresses'])
        wanted = sorted(set(wanted), key=lambda a: (ipaddress.ip_interface(a).version, ipaddress.ip_interface(a).ip))
        return wanted, [a for a in have if a not in wanted]

    def _plan_routes(self, plan, movers):
        state = self.before
        nl = self.nl
        name = self.name
        defaults_here = {}
        for device in movers:
            for route in state.routes_of(device):
                via = ' via %s' % route['gateway'] if route['gateway'] else ''
                plan.add('move route to', KIND, name, lambda r=route: nl().replace_route(r, name),
                         detail='%s%s (from %s)' % (route['dst'], via, device))
                if route['dst'] == 'default':
                    defaults_here[route['family']] = route
        for route in state.routes_of(name):
            if route['dst'] == 'default':
                defaults_here.setdefault(route['family'], route)
        for version, family in ((4, 'ipv4'), (6, 'ipv6')):
            gateway = (self.desired[family] or {}).get('gateway')
            if defaults_here.get(version):
                self.gateways[version] = defaults_here[version]['gateway']
            if not gateway:
                continue
            self.gateways[version] = gateway
            have = defaults_here.get(version)
            if have is not None and have['gateway'] == gateway and (have['dev'] == name or have['dev'] in movers):
                continue
            route = {'family': version, 'dst': 'default', 'gateway': gateway,
                     'metric': have['metric'] if have else 0, 'proto': 3}
            plan.difference(family + '.gateway', have['gateway'] if have else None, gateway)
            plan.add('set default gateway of', KIND, name, lambda r=route: nl().replace_route(r, name), detail=gateway)

    def default_gateway(self, version):
        return self.gateways.get(version)

    def tap_config(self, name):
        """A tap the bridge has, as a `taps` item (for persisting taps the user did not list)."""
        tun = (self.before.link(name) or {}).get('tun') or {}
        return {'name': name, 'owner': tun.get('owner'), 'group': tun.get('group'),
                'multi_queue': bool(tun.get('multi_queue'))}

    # -- taps

    def _plan_taps(self, plan, taps_now):
        wanted = self.desired['taps']
        if wanted is None:
            return
        state = self.before
        nl = self.nl
        name = self.name
        mtu = self.desired['mtu']
        for tap in wanted:
            found = state.link(tap['name'])
            if found is not None:
                have = found['tun']
                differs = (bool(have['multi_queue']) != tap['multi_queue'] or
                           (tap['owner'] is not None and have['owner'] != tap['owner']) or
                           (tap['group'] is not None and have['group'] != tap['group']))
                if differs:
                    plan.add('delete', 'tap', tap['name'], lambda t=tap['name']: nl().delete(t),
                             detail='owner, group or multi_queue change')
                    found = None
            if found is None:
                plan.add('create', 'tap', tap['name'], self._tap_creator(tap), detail=', '.join(
                    '%s %s' % (k, tap[k]) for k in ('owner', 'group') if tap[k] is not None) or None)
            if found is None or found['master'] != name:
                plan.add('attach tap to', KIND, name, self._attacher(tap['name']), detail=tap['name'])
            elif not found['up']:
                plan.add('bring up', 'tap', tap['name'], lambda t=tap['name']: nl().set(t, state='up'))
            if mtu is not None and (found is None or found['mtu'] != mtu):
                plan.add('set MTU of', 'tap', tap['name'], lambda t=tap['name']: nl().set(t, mtu=mtu), detail=str(mtu))
        names = [t['name'] for t in wanted]
        for tap in taps_now:
            if tap not in names:
                plan.add('delete', 'tap', tap, lambda t=tap: nl().delete(t))
        if sorted(taps_now) != sorted(names):
            plan.difference('taps', sorted(taps_now), sorted(names))
        self.after['taps'] = sorted(names)

    def _tap_creator(self, tap):
        def create():
            self.nl().create_tap(tap['name'], tap['owner'], tap['group'], tap['multi_queue'])
        return create

    # -- removal

    def _plan_absent(self, plan):
        state = self.before
        nl = self.nl
        name = self.name
        current = state.link(name)
        uplink = self.desired['uplink']
        self.after = None
        if current is not None:
            if current['kind'] != 'bridge':
                raise ParameterError('name', "'%s' is a %s device, not a bridge" % (name, current['kind'] or 'physical'))
            uplinks, taps, guests = self._members(state)
            self._refuse_with_guests(guests, 'delete')
            back_to = None
            if uplink is not None and uplink['kind'] == 'ports':
                back_to = uplink['ports'][0]
            elif uplink is not None and uplink['kind'] == 'bond' and uplink['slaves']:
                back_to = uplink['slaves'][0]
            addresses = state.addresses_of(name)
            routes = state.routes_of(name)
            if back_to is not None and back_to in uplinks and (addresses or routes):
                port = back_to
                for address in addresses:
                    plan.add('move address back to', 'interface', port,
                             lambda a=address: nl().add_address(port, a), detail=address)
                plan.add('detach port from', KIND, name, lambda: nl().set(port, master=None), detail=port)
                for route in routes:
                    plan.add('move route back to', 'interface', port,
                             lambda r=route: nl().replace_route(r, port), detail=route['dst'])
                back_to = None
            for tap in sorted(set(taps) | set(t['name'] for t in self.desired['taps'] or [] if state.link(t['name']))):
                plan.add('delete', 'tap', tap, lambda t=tap: nl().delete(t))
            plan.difference('state', 'present', 'absent')
            plan.add('delete', KIND, name, lambda: nl().delete(name))
            if back_to is not None and (addresses or routes):
                late_back = back_to
            else:
                late_back = None
        else:
            addresses, routes, late_back = [], [], None
        if uplink is not None and uplink['kind'] in ('bond', 'vlan'):
            found = state.link(uplink['name'])
            if found is not None and found['master'] in (None, name):
                plan.add('delete', uplink['kind'], uplink['name'], lambda: nl().delete(uplink['name']))
        if late_back is not None:
            for address in addresses:
                plan.add('move address back to', 'interface', late_back,
                         lambda a=address: nl().add_address(late_back, a), detail=address)
            plan.add('bring up', 'interface', late_back, lambda: nl().set(late_back, state='up'))
            for route in routes:
                plan.add('move route back to', 'interface', late_back,
                         lambda r=route: nl().replace_route(r, late_back), detail=route['dst'])

    # ---- applying (with the rollback when asked)

    def apply(self, plan):
        if self.rollback is None or not plan.actions:   # nothing changes: nothing to verify or roll back
            return self._apply_steps(plan)
        try:
            return rollback.apply_and_verify(self, plan)
        except KvmError as exc:
            raise self._rolled_back_failure(exc, plan)

    def _apply_steps(self, plan):
        """The steps in order; a failure is told with the steps done before it (the engine's partial failure)."""
        done = []
        for action in plan.actions:
            try:
                self.apply_action(action)
            except KvmError as exc:
                raise PartialFailure(exc, done, action)
            done.append(action)

    def _rolled_back_failure(self, exc, plan):
        """The detached step's verdict as a partial failure: the steps it did, the one that failed (or the
        connectivity check after all of them), and changed only when the rollback could not undo them all."""
        if exc.details.get('done') is None:   # no verdict at all: nothing known of what was done
            return exc
        count = len(exc.details.pop('done'))
        done = plan.actions[:count]
        failed = plan.actions[count] if count < len(plan.actions) else Action('verify connectivity after', KIND,
                                                                              self.name, None)
        restored = exc.details.get('restored') or []
        undone = bool(exc.details.get('rolled_back')) and not any(' failed' in line for line in restored)
        return PartialFailure(exc, done, failed, changed=bool(done) and not undone)

    def describe_left(self, failed):
        """The bridge and the link the failed step touched, as netlink reads them now."""
        now = self.nl().read()
        left = {}
        for kind, name in ((KIND, self.name), (failed.kind, failed.name)):
            if kind in (KIND, 'bond', 'vlan', 'tap', 'interface') and name:
                left['%s %s' % (kind, name)] = _link_state(now, name)
        if self.rolled_back:
            left['%s %s' % (KIND, self.name)] += ' (rolled back to its state before the run)'
        return left

    @staticmethod
    def apply_action(action):
        try:
            action.apply()
        except (NetlinkError, OSError, ValueError) as exc:
            raise KvmError(action.verb, action.kind, action.name, _reason(exc))

    # ---- result

    def _observed(self, state):
        link = state.link(self.name)
        if link is None or link['kind'] != 'bridge':
            return None
        uplinks, taps, _guests = self._members(state)
        observed = dict(name=self.name, mac=link['mac'], mtu=link['mtu'], stp=link['bridge']['stp'],
                        forward_delay=link['bridge']['forward_delay'], ports=sorted(uplinks), taps=sorted(taps),
                        addresses=state.addresses_of(self.name), bond=None, vlan=None)
        for port in uplinks:
            found = state.link(port)
            if found['kind'] == 'bond':
                options = dict(found['bond'])
                active = options.pop('active_slave', None)
                observed['bond'] = dict(name=port, mode=options.get('mode'), miimon=options.get('miimon'),
                                        active_slave=active, slaves=state.ports_of(port), options=options)
            elif found['kind'] == 'vlan':
                observed['vlan'] = dict(found['vlan'], name=port)
        return observed

    def result(self):
        if self.predicting:
            bridge = self.after
        else:
            bridge = self._observed(self.nl().read())
        persisted = {'backend': self.backend.NAME if self.backend else 'none',
                     'files': sorted(self.files or [])}
        return {'bridge': bridge, 'persisted': persisted, 'rolled_back': self.rolled_back}


def _link_state(state, name):
    link = state.link(name)
    if link is None:
        return 'absent'
    words = ['up' if link.get('up') else 'down']
    if link.get('master'):
        words.append('port of %s' % link['master'])
    ports = state.ports_of(name)
    if ports:
        words.append('ports %s' % ', '.join(sorted(ports)))
    addresses = state.addresses_of(name)
    words.append('addresses %s' % ', '.join(addresses) if addresses else 'no address')
    return ', '.join(words)


def _reason(exc):
    if isinstance(exc, NetlinkError) and len(exc.args) > 1:
        return '%s (errno %s)' % (exc.args[1], exc.args[0])
    return str(exc)
