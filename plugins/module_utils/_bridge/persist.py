# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which persistence backend keeps the bridge across reboots, and the plan of its files (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import ifcfg
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import ifupdown
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import networkd
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import nm
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import stacks
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge.deps import require_jeepney
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import files
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError

BACKENDS = {
    'networkmanager': nm.Backend,
    'ifupdown': ifupdown.Backend,
    'network-scripts': ifcfg.Backend,
    'systemd-networkd': networkd.Backend,
}


def detect(module):
    """The stack that manages this host's network, as `persist: auto` picks it; None when there is none."""
    if stacks.nm_running(module):
        return 'networkmanager'
    if stacks.networkd_running(module):
        return 'systemd-networkd'
    if files.exists('/etc/sysconfig/network-scripts'):
        return 'network-scripts'
    if files.exists('/etc/network/interfaces'):
        return 'ifupdown'
    return None


def choose(persist, module):
    """The backend object for `persist` (auto: detected), or None for runtime only."""
    if persist == 'none':
        return None
    if persist == 'auto':
        persist = detect(module)
        if persist is None:
            module.warn('persist=auto found no NetworkManager, systemd-networkd, network-scripts or ifupdown on '
                        'this host: the bridge is configured at runtime only and will not survive a reboot')
            return None
    elif persist == 'networkmanager' and not stacks.nm_running(module):
        raise ParameterError('persist', 'networkmanager is not running on this host (it does not own its D-Bus '
                                        'name); use auto, ifupdown, network-scripts, systemd-networkd or none')
    if persist == 'networkmanager':
        require_jeepney()   # before anything changes: its profiles are activated through D-Bus
    return BACKENDS[persist](module)


def config(resource):
    """What the backend persists: the bridge as the run leaves it (`after`), with the uplink and IP methods."""
    d = resource.desired
    after = resource.after
    state = resource.before
    uplink = d['uplink']
    if uplink is None:
        # keep the uplink the bridge has
        ports = [p for p in after['ports'] if p not in ((after['bond'] or {}).get('name'), (after['vlan'] or {}).get('name'))]
        if after['bond']:
            bond = after['bond']
            # the kernel reports every option; the essential ones are kept
            uplink = {'kind': 'bond', 'name': bond['name'], 'slaves': bond['slaves'], 'options': dict(
                (k, v) for k, v in bond['options'].items() if k in ('mode', 'miimon') or (k == 'primary' and v))}
        elif after['vlan']:
            uplink = dict(after['vlan'], kind='vlan')
        else:
            uplink = {'kind': 'ports', 'ports': ports}
    if uplink['kind'] == 'ports':
        # what each port is (a NIC, a dummy, a veth...): NetworkManager's profile type depends on it
        uplink = dict(uplink, kinds=dict((p, (state.link(p) or {}).get('kind')) for p in uplink['ports']))
    elif uplink['kind'] == 'bond' and uplink['slaves'] is None:
        uplink = dict(uplink, slaves=after['bond']['slaves'])
    families = {}
    for version, family in ((4, 'ipv4'), (6, 'ipv6')):
        given = d[family] or {}
        mine = [a for a in after['addresses'] if (':' in a) == (version == 6)]
        method = given.get('method')
        if method is None:
            method = 'none' if not mine else ('dhcp' if any(a in state.dynamic for a in mine) else 'static')
        gateway = given.get('gateway')
        if gateway is None and method == 'static':
            gateway = resource.default_gateway(version)
        families[family] = {'method': method, 'addresses': mine if method == 'static' else [],
                            'gateway': gateway if method == 'static' else None, 'dns': given.get('dns') or []}
    taps = d['taps']
    if taps is None:
        taps = [resource.tap_config(name) for name in after['taps']]
    return dict(name=resource.name, uplink=uplink, ipv4=families['ipv4'], ipv6=families['ipv6'],
                stp=after['stp'], forward_delay=after['forward_delay'] if d['forward_delay'] is None else d['forward_delay'],
                mtu=d['mtu'], mac=after['mac'], taps=taps)


def plan(resource, plan):
    """Record the file changes of the chosen backend; return the files/profiles it keeps for the bridge (not the
    other files it edited, such as /etc/network/interfaces)."""
    backend = resource.backend
    if backend is None:
        return []
    name = resource.name
    if resource.state == 'present':
        wanted = backend.render(config(resource))
    else:
        wanted = {}
    kept = sorted(wanted)
    wanted.update(backend.edits(name, resource.desired, wanted))
    before, after = {}, {}
    changed = []
    for path in sorted(wanted):
        text = wanted[path]
        old = files.read_text(path)
        if text is None:
            if old is not None:
                before[path], after[path] = old, None
                changed.append(path)
                plan.add('remove', 'file', path, _remover(path))
            continue
        if old is None or backend.meaning(old) != backend.meaning(text):
            before[path], after[path] = old, text
            changed.append(path)
            plan.add('write', 'file', path, _writer(resource.module, path, text, backend.MODE))
    for path in backend.owned(name):
        if path not in wanted:
            before[path], after[path] = files.read_text(path), None
            changed.append(path)
            plan.add('remove', 'file', path, _remover(path))
    if changed:
        plan.difference('files', before, after)
        activate = backend.activation(changed, wanted)
        if activate is not None:
            plan.add(activate[0], backend.NAME, name, activate[1], detail=activate[2])
    resource.touched_files = changed
    return kept


def _writer(module, path, text, mode):
    return lambda: files.write_atomically(module, path, text, mode)


def _remover(path):
    return lambda: files.remove(path)
