# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt virtual networks: read -> plan -> apply (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import os

from ansible.module_utils.six import text_type

from ansible_collections.kvmops.kvm.plugins.module_utils._network import model
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import validate as check
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.compare import differences, merged
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError, ParameterError
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.resource import Resource

KIND = 'network'

# virNetworkUpdate sections and commands, by name, so the code reads as what it does
_SECTION = {'hosts': 'VIR_NETWORK_SECTION_IP_DHCP_HOST', 'ranges': 'VIR_NETWORK_SECTION_IP_DHCP_RANGE',
            'dns_hosts': 'VIR_NETWORK_SECTION_DNS_HOST'}
_COMMAND = {'add': 'VIR_NETWORK_UPDATE_COMMAND_ADD_LAST', 'delete': 'VIR_NETWORK_UPDATE_COMMAND_DELETE',
            'modify': 'VIR_NETWORK_UPDATE_COMMAND_MODIFY'}
_LIVE_PATHS = ('ipv4.dhcp.hosts', 'ipv4.dhcp.ranges', 'ipv6.dhcp.hosts', 'ipv6.dhcp.ranges', 'dns_hosts')


def _describe(section, item):
    if section == 'hosts':
        return 'DHCP host %s' % ' '.join(item.get(k) for k in ('mac', 'id', 'name', 'ip') if item.get(k))
    if section == 'ranges':
        return 'DHCP range %s-%s' % (item['start'], item['end'])
    return 'DNS host %s (%s)' % (item['ip'], ', '.join(item['hostnames']))


def _keyed(section, items):
    if section == 'hosts':
        return dict((item.get('mac') or item.get('id') or item.get('name'), item) for item in items)
    if section == 'ranges':
        return dict(((item['start'], item['end']), item) for item in items)
    return dict((item['ip'], item) for item in items)


def _element(section, item):
    if section == 'hosts':
        return model.host_element(item)
    if section == 'ranges':
        return model.range_element(item)
    return model.dns_host_element(item)


class Network(Resource):
    """One virtual network."""

    KIND = KIND

    def __init__(self, module, params=None):
        super(Network, self).__init__(module, params)
        self.desired = None
        self.extra = None   # unmodelled elements of a full `xml`
        self.net = None
        self.restart_required = False
        self._predicted = None

    # ------------------------------------------------------------ validation (reads only)

    def validate(self):
        check.object_name('name', self.name)
        if self.state == 'absent':
            return
        if self.params.get('xml'):
            self.desired, root = model.from_xml(self.name, self.params['xml'])
            self._given_root = root
            self.extra = model.extra_elements(root)
            self.desired = self._validated_xml_model(self.desired)
        else:
            self.desired = model.from_options(self.params)
        if self.desired.get('mode') == 'bridge' and self.module.is_local:
            if not os.path.isdir('/sys/class/net/%s/bridge' % self.desired['bridge']):
                self.module.warn("host bridge '%s' does not exist yet: guests cannot start on network '%s' "
                                 "until it does" % (self.desired['bridge'], self.name))

    def _validated_xml_model(self, desired):
        """Run the typed checks over what the XML says, so both inputs are held to one standard."""
        options = dict((key, desired.get(key)) for key in ('mode', 'bridge', 'forward_dev', 'mtu', 'domain'))
        for family in model.FAMILIES:
            ip = desired.get(family)
            if ip:
                options[family] = {'address': ip['address'], 'prefix': ip['prefix'], 'dhcp': ip['dhcp']}
        if desired.get('dns_hosts'):
            options['dns_hosts'] = desired['dns_hosts']
        if options.get('mode') == 'bridge':
            options['mtu'] = options['domain'] = None
        checked = model.from_options(options)
        for family in model.FAMILIES:
            checked.setdefault(family, None)
            if checked[family] is not None and desired[family].get('dhcp') is None:
                checked[family]['dhcp'] = None
        checked.setdefault('dns_hosts', [])
        return checked

    def _check_conflicts(self, current):
        """A bridge or subnet another network already uses would only fail later, at start."""
        mine_bridge = self.desired.get('bridge')
        mine_v4 = self.desired.get('ipv4')
        if mine_bridge is None and mine_v4 is None:
            return
        if current is not None and mine_bridge in (None, current['bridge']) and (
                mine_v4 is None or current['ipv4'] and (mine_v4['address'], mine_v4['prefix']) ==
                (current['ipv4']['address'], current['ipv4']['prefix'])):
            return
        subnet = ipaddress.ip_network(u'%s/%d' % (mine_v4['address'], mine_v4['prefix']), strict=False) if mine_v4 else None
        for other in self.conn.listAllNetworks():
            if other.name() == self.name:
                continue
            theirs = model.read(_xml.parse(other.XMLDesc(0)))
            if mine_bridge and theirs['bridge'] == mine_bridge and self.desired.get('mode') != 'bridge':
                raise ParameterError('bridge', "bridge '%s' is already used by network '%s'" % (mine_bridge, other.name()))
            if subnet and theirs['ipv4']:
                their_subnet = ipaddress.ip_network(u'%s/%d' % (theirs['ipv4']['address'], theirs['ipv4']['prefix']),
                                                    strict=False)
                if subnet.overlaps(their_subnet):
                    raise ParameterError('ipv4', '%s overlaps %s of network \'%s\'' % (subnet, their_subnet, other.name()))

    def _check_merged(self, config):
        """What the network keeps and what is given must make a valid network together: a new subnet must
        still hold the DHCP ranges and hosts that are not given anew (libvirt would refuse the definition)."""
        for family in model.FAMILIES:
            want, have = self.desired.get(family), config.get(family)
            if not want or not have:
                continue
            result = merged(have, want)
            dhcp = result.get('dhcp') or {}
            kept = [key for key in ('ranges', 'hosts') if key not in (want.get('dhcp') or {}) and dhcp.get(key)]
            if not kept:
                continue
            options = {'address': result['address'], 'prefix': result['prefix'],
                       'dhcp': {'ranges': dhcp.get('ranges') or [], 'hosts': dhcp.get('hosts') or []}}
            try:
                model.from_options({family: options})
            except ParameterError as exc:
                raise ParameterError(family, "network '%s' keeps its DHCP %s, which do not fit %s/%s: %s; give "
                                             "%s for the new subnet too" % (
                                                 self.name, ' and '.join(kept), result['address'], result['prefix'],
                                                 exc.problem, ' and '.join('%s.dhcp.%s' % (family, k) for k in kept)))

    def _check_uuid(self, config_root):
        """A full xml naming another UUID describes another network, even under this name."""
        if not self.params.get('xml'):
            return
        given = (self._given_root.findtext('uuid') or '').strip().lower()
        have = (config_root.findtext('uuid') or '').strip().lower()
        if given and have and given != have:
            raise ParameterError('xml', "the XML's <uuid> %s is not the UUID of the existing network '%s' (%s): a "
                                        "network keeps its UUID; drop <uuid> from the XML or give %s"
                                 % (given, self.name, have, have))

    # ------------------------------------------------------------ reading the live state

    def _lookup(self):
        return self.lookup(self.conn.networkLookupByName, libvirt.VIR_ERR_NO_NETWORK)

    # ------------------------------------------------------------ planning

    def plan(self, plan):
        self.net = self._lookup()
        if self.state == 'absent':
            return self._plan_absent(plan)
        if self.net is None:
            return self._plan_create(plan)
        return self._plan_update(plan)

    def _plan_absent(self, plan):
        if self.net is None:
            self._predicted = None
            return
        active, persistent = self.net.isActive(), self.net.isPersistent()
        plan.difference('state', 'active' if active else 'inactive', 'absent')
        if active:
            plan.add('stop', KIND, self.name, self.net.destroy)
        if persistent:
            plan.add('undefine', KIND, self.name, self.net.undefine)
        self._predicted = None

    def _plan_create(self, plan):
        self._check_conflicts(None)
        mode = self.desired.get('mode', 'nat')
        if mode in ('nat', 'route', 'open') and not (self.desired.get('ipv4') or self.desired.get('ipv6')):
            raise ParameterError('ipv4', "a new %s network routes a subnet for its guests: give ipv4 (or ipv6) with "
                                         "address and prefix, e.g. ipv4: {address: 192.168.100.1, prefix: 24}; a "
                                         "network without addresses is mode: isolated" % mode)
        root = model.new_definition(self.name, self.desired)
        plan.difference('state', 'absent', self.state)
        for key, value in sorted(model.read(root).items()):
            if key in self.desired:
                plan.difference(key, None, value)
        if self.extra is not None:
            self.extra.write(root)
        definition = _xml.to_string(root)

        def define():
            self.net = self.conn.networkDefineXML(definition)
        plan.add('define', KIND, self.name, define)
        if self.state == 'active':
            plan.add('start', KIND, self.name, self._start)
        autostart = self.plan_autostart(plan, lambda: self.net, False, self.wanted_autostart())
        self._predicted = dict(uuid=None, bridge=self.desired.get('bridge'), active=self.state == 'active',
                               autostart=autostart, persistent=True)

    def _plan_update(self, plan):
        active, persistent = bool(self.net.isActive()), bool(self.net.isPersistent())
        config_root = self.persistent_definition(self.net, libvirt.VIR_NETWORK_XML_INACTIVE)
        config = model.read(config_root)
        self._check_conflicts(config)
        self._check_merged(config)
        self._check_uuid(config_root)
        config_diffs = self._plan_definition(plan, config, config_root, persistent)
        if active and self.state in ('active', 'present'):
            live_root = _xml.parse(self.net.XMLDesc(0)) if persistent else config_root
            self._plan_live(plan, live_root, recorded=set(d.path for d in config_diffs))
        runs_after = self._plan_state(plan, active)
        # an existing network keeps its autostart unless `autostart` is given (state defaults to active)
        autostart_now = self.plan_autostart(plan, lambda: self.net, self.net.autostart(),
                                            self.wanted_autostart(default_when_active=False))
        live_model = merged(config, self.desired)
        self._predicted = dict(uuid=self.net.UUIDString(), bridge=live_model.get('bridge'), active=runs_after,
                               autostart=autostart_now, persistent=True)

    def _plan_definition(self, plan, config, config_root, persistent):
        """Define the network again when its definition differs (or to make a transient one persistent);
        returns the differences."""
        config_diffs = differences(self.desired, config) + self._extra_differences(config_root)
        for diff in config_diffs:
            plan.difference(diff.path, diff.before, diff.after)
        if config_diffs or not persistent:
            new_root = model.write(config_root, self.desired)
            if self.extra is not None:
                self.extra.write(new_root)
            definition = _xml.to_string(new_root)
            detail = ', '.join(d.path for d in config_diffs) if config_diffs else 'make persistent'

            def define():
                self.net = self.conn.networkDefineXML(definition)
            plan.add('define', KIND, self.name, define, detail)
        return config_diffs

    def _plan_state(self, plan, active):
        """Start or stop as `state` asks; returns whether the network runs afterwards."""
        if self.state == 'active' and not active:
            plan.difference('state', 'inactive', 'active')
            plan.add('start', KIND, self.name, self._start)
            return True
        if self.state == 'inactive' and active:
            plan.difference('state', 'active', 'inactive')
            plan.add('stop', KIND, self.name, self._stop)
            return False
        return active

    def _extra_differences(self, root):
        return self.extra.differences(root) if self.extra is not None else []

    def _plan_live(self, plan, live_root, recorded):
        live = model.read(live_root)
        live_diffs = differences(self.desired, live) + self._extra_differences(live_root)
        pending = [d for d in live_diffs if d.path not in _LIVE_PATHS]
        blocked_families = set(d.path.split('.')[0] for d in pending if d.path.split('.')[0] in model.FAMILIES)
        for diff in live_diffs:
            if diff.path not in recorded:
                plan.difference(diff.path, diff.before, diff.after)
        if pending and self.params['restart']:
            self._plan_restart(plan, pending)
            return
        if pending:
            self.restart_required = True
            self.module.warn("network '%s' runs with an older definition (%s differ); the new one takes effect "
                             "when it restarts (restart: true)" % (self.name, ', '.join(d.path for d in pending)))
        for diff in live_diffs:
            if diff.path in _LIVE_PATHS and diff.path.split('.')[0] not in blocked_families:
                self._plan_live_update(plan, diff, live_root)

    def _plan_live_update(self, plan, diff, live_root):
        family = diff.path.split('.')[0]
        section = diff.path.split('.')[-1]
        index = -1 if section == 'dns_hosts' else model.ip_index(live_root, family)
        before, after = _keyed(section, diff.before or []), _keyed(section, diff.after or [])
        steps = [('delete', before[key]) for key in sorted(before, key=text_type) if key not in after]
        for key in sorted(after, key=text_type):
            if key in before and before[key] != after[key]:
                if section == 'hosts' and family == 'ipv4':
                    steps.append(('modify', after[key]))
                else:
                    steps.extend([('delete', before[key]), ('add', after[key])])
        steps += [('add', after[key]) for key in sorted(after, key=text_type) if key not in before]
        section_code = getattr(libvirt, _SECTION[section])
        flags = libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE
        for command, item in steps:
            text = _xml.to_string(_element(section, item))
            command_code = getattr(libvirt, _COMMAND[command])
            plan.add('update', KIND, self.name, self._updater(command_code, section_code, index, text, flags),
                     '%s %s (live)' % (command, _describe(section, item)))

    # self.net is looked up late (a define replaces it), so actions resolve it when they run
    def _start(self):
        self.net.create()

    def _stop(self):
        self.net.destroy()

    def _updater(self, command, section, index, text, flags):
        return lambda: self.net.update(command, section, index, text, flags)

    def _plan_restart(self, plan, pending):
        detail = 'to apply %s' % ', '.join(d.path for d in pending)
        plan.add('restart', KIND, self.name, self._restart, detail)

    def _restart(self):
        taps = self._guest_taps()
        self.net.destroy()
        self.net.create()
        if not taps:
            return
        if not self.module.is_local:
            self.module.warn("network '%s' restarted on a remote host: re-attach the running guests' interfaces "
                             "(%s) to its bridge there" % (self.name, ', '.join(taps)))
            return
        bridge = self.net.bridgeName()
        for tap in taps:
            rc, _out, err = self.module.run_command(['ip', 'link', 'set', 'dev', tap, 'master', bridge, 'up'])
            if rc != 0:
                raise KvmError('reattach', 'interface', tap, '%s (network %s, bridge %s)' % (err.strip(), self.name, bridge))

    def _guest_taps(self):
        """Tap devices of running guests on this network: a restart unplugs them from the bridge."""
        taps = []
        for domain in self.conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
            for iface in _xml.parse(domain.XMLDesc(0)).findall('devices/interface'):
                source, target = iface.find('source'), iface.find('target')
                if source is not None and source.get('network') == self.name and target is not None:
                    taps.append(target.get('dev'))
        return taps

    # ------------------------------------------------------------ result

    def result(self):
        network = self.reported(None if self.state == 'absent' else self.net, self._predicted_result,
                                self._observed_result)
        return dict(network=network, restart_required=self.restart_required)

    def _predicted_result(self):
        return dict(self._predicted, name=self.name) if self._predicted else None

    def _observed_result(self):
        return dict(name=self.name, uuid=self.net.UUIDString(), bridge=self._bridge_name(),
                    active=bool(self.net.isActive()), autostart=bool(self.net.autostart()),
                    persistent=bool(self.net.isPersistent()))

    def _bridge_name(self):
        try:
            return self.net.bridgeName()
        except libvirt.libvirtError:
            return None
