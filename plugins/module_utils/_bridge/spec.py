# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_bridge's options -> the desired model, every input checked before the host is touched (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import grp
import ipaddress
import pwd

from ansible.module_utils.six import string_types, text_type

from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import bond as bonding
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import validate as check
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError

BACKENDS = ('networkmanager', 'ifupdown', 'network-scripts', 'systemd-networkd')
PERSIST = ('auto',) + BACKENDS + ('none',)
METHODS = ('static', 'dhcp', 'none')
METHODS6 = METHODS + ('auto',)
UPLINKS = ('ports', 'bond', 'vlan')


def _address(parameter, value, version):
    text = text_type(value).strip()
    if '/' not in text:
        raise ParameterError(parameter, "'%s' has no prefix length: write it as CIDR, e.g. %s" % (
            value, '192.0.2.10/24' if version == 4 else '2001:db8::10/64'))
    try:
        interface = ipaddress.ip_interface(text)
    except ValueError:
        raise ParameterError(parameter, "'%s' is not an IPv%d address with a prefix length" % (value, version))
    if interface.version != version:
        raise ParameterError(parameter, "'%s' is not an IPv%d address" % (value, version))
    return text_type(interface)


def _ip(family, options):
    """ipv4/ipv6 -> {'method', 'addresses', 'gateway', 'dns'} with only what was given (None: not given)."""
    if options is None:
        return None
    version = 4 if family == 'ipv4' else 6
    method = options.get('method')
    addresses = options.get('addresses')
    if method is None:
        method = 'static' if addresses else None
    if method is not None and method not in (METHODS6 if version == 6 else METHODS):
        raise ParameterError(family + '.method', "'%s' is not valid: use one of %s"
                             % (method, ', '.join(METHODS6 if version == 6 else METHODS)))
    model = {'method': method}
    if addresses is not None:
        if method != 'static' and addresses:
            raise ParameterError(family + '.addresses', "addresses are given with method '%s'; they need "
                                                        "method 'static'" % method)
        model['addresses'] = sorted(set(_address(family + '.addresses', a, version) for a in addresses),
                                    key=lambda a: (ipaddress.ip_interface(a).ip, a))
    elif method == 'static':
        raise ParameterError(family + '.addresses', "method 'static' needs addresses (CIDR, e.g. %s)"
                             % ('192.0.2.10/24' if version == 4 else '2001:db8::10/64'))
    if options.get('gateway'):
        gateway = check.ip_address(family + '.gateway', options['gateway'], version)
        if method == 'none':
            raise ParameterError(family + '.gateway', "a gateway needs addresses; method is 'none'")
        if model.get('addresses') and not any(
                gateway in ipaddress.ip_interface(a).network for a in model['addresses']):
            raise ParameterError(family + '.gateway', "%s is outside every address's subnet (%s): give a gateway "
                                 "the bridge reaches directly" % (gateway, ', '.join(
                                     text_type(ipaddress.ip_interface(a).network) for a in model['addresses'])))
        model['gateway'] = text_type(gateway)
    if options.get('dns') is not None:
        model['dns'] = [text_type(check.ip_address(family + '.dns', d)) for d in options['dns']]
    return model


def _bond(options):
    check.interface_name('bond.name', options.get('name'))
    model = {'kind': 'bond', 'name': options['name'], 'slaves': None, 'options': {}}
    free = bonding.parse_options(options.get('options'), 'bond.options')
    for key in bonding.TYPED:
        if options.get(key) is None:
            continue
        value = bonding.canonical_value(key, options[key], 'bond.' + key)
        if key in free and free[key] != value:
            raise ParameterError('bond.options', "%s=%s contradicts bond.%s=%s: give it once"
                                 % (key, free[key], key, options[key]))
        free[key] = value
    model['options'] = free
    if options.get('slaves') is not None:
        slaves = []
        for slave in options['slaves']:
            check.interface_name('bond.slaves', slave)
            if slave in slaves:
                raise ParameterError('bond.slaves', "'%s' is listed twice" % slave)
            if slave == options['name']:
                raise ParameterError('bond.slaves', "'%s' is the bond itself" % slave)
            slaves.append(slave)
        model['slaves'] = slaves
    primary = free.get('primary')
    if primary and model['slaves'] is not None and primary not in model['slaves']:
        raise ParameterError('bond.primary', "'%s' is not one of the slaves (%s)" % (primary, ', '.join(model['slaves'])))
    return model


def _vlan(options):
    vlan_id = options.get('id')
    if vlan_id is None or not 1 <= vlan_id <= 4094:
        raise ParameterError('vlan.id', '%s is out of range: use 1 to 4094' % vlan_id)
    check.interface_name('vlan.parent', options.get('parent'))
    name = options.get('name') or '%s.%d' % (options['parent'], vlan_id)
    check.interface_name('vlan.name', name)
    return {'kind': 'vlan', 'name': name, 'id': vlan_id, 'parent': options['parent']}


def _account(parameter, value, database, kind):
    if value is None:
        return None
    text = text_type(value).strip()
    if text.isdigit():
        return int(text)
    try:
        return (database.getpwnam(text).pw_uid if kind == 'user' else database.getgrnam(text).gr_gid)
    except KeyError:
        raise ParameterError(parameter, "no %s '%s' on this host: give a known name or a number" % (kind, value))


def _taps(values, bridge):
    if values is None:
        return None
    taps = []
    for value in values:
        tap = {'name': value} if isinstance(value, string_types) else dict(value or {})
        unknown = sorted(set(tap) - set(('name', 'owner', 'group', 'multi_queue')))
        if unknown:
            raise ParameterError('taps', "unknown key(s) %s: a tap is a name or {name, owner, group, multi_queue}"
                                 % ', '.join(unknown))
        name = check.interface_name('taps', tap.get('name'))
        if name == bridge:
            raise ParameterError('taps', "'%s' is the bridge itself" % name)
        if name in [t['name'] for t in taps]:
            raise ParameterError('taps', "'%s' is listed twice" % name)
        multi_queue = tap.get('multi_queue', False)
        if not isinstance(multi_queue, bool):
            raise ParameterError('taps', "multi_queue of '%s' is true or false, got '%s'" % (name, multi_queue))
        taps.append({'name': name, 'owner': _account('taps', tap.get('owner'), pwd, 'user'),
                     'group': _account('taps', tap.get('group'), grp, 'group'), 'multi_queue': multi_queue})
    return sorted(taps, key=lambda t: t['name'])


def desired(params):
    """The desired model: only what the user specified (None where not given)."""
    name = check.interface_name('name', params['name'])
    given = [key for key in UPLINKS if params.get(key) is not None]
    if len(given) > 1:
        raise ParameterError(given[1], "'%s' and '%s' are given together: the uplink is one of ports, bond or vlan"
                             % (given[0], given[1]))
    model = {'name': name, 'uplink': None}
    if params.get('ports') is not None:
        ports = []
        for port in params['ports']:
            check.interface_name('ports', port)
            if port == name:
                raise ParameterError('ports', "'%s' is the bridge itself" % port)
            if port in ports:
                raise ParameterError('ports', "'%s' is listed twice" % port)
            ports.append(port)
        model['uplink'] = {'kind': 'ports', 'ports': ports}
    elif params.get('bond') is not None:
        model['uplink'] = _bond(params['bond'])
        if model['uplink']['name'] == name:
            raise ParameterError('bond.name', "'%s' is the bridge itself" % name)
        if name in (model['uplink']['slaves'] or []):
            raise ParameterError('bond.slaves', "'%s' is the bridge itself" % name)
    elif params.get('vlan') is not None:
        model['uplink'] = _vlan(params['vlan'])
        if name in (model['uplink']['name'], model['uplink']['parent']):
            raise ParameterError('vlan.parent', "'%s' is the bridge itself" % name)
    model['ipv4'] = _ip('ipv4', params.get('ipv4'))
    model['ipv6'] = _ip('ipv6', params.get('ipv6'))
    model['stp'] = params.get('stp')
    model['forward_delay'] = params.get('forward_delay')
    if model['forward_delay'] is not None:
        check.integer_range('forward_delay', model['forward_delay'], 2 if model['stp'] else 0, 30)
    model['mtu'] = check.integer_range('mtu', params.get('mtu'), 68, 65535)
    model['mac'] = check.mac_address('mac', params['mac']) if params.get('mac') else None
    model['taps'] = _taps(params.get('taps'), name)
    uplink_names = uplink_devices(model['uplink'])
    for tap in model['taps'] or []:
        if tap['name'] in uplink_names:
            raise ParameterError('taps', "'%s' is also an uplink device" % tap['name'])
    return model


def uplink_devices(uplink):
    """Every device name the uplink involves: ports; the bond and its slaves; the VLAN device and its parent."""
    if uplink is None:
        return []
    if uplink['kind'] == 'ports':
        return list(uplink['ports'])
    if uplink['kind'] == 'bond':
        return [uplink['name']] + list(uplink['slaves'] or [])
    return [uplink['name'], uplink['parent']]


def check_host(model, state):
    """What the host must allow: the checks that read it (still before anything changes)."""
    name = model['name']
    bridge = state.link(name)
    if bridge is not None and bridge['kind'] != 'bridge':
        raise ParameterError('name', "'%s' exists and is a %s device, not a bridge" % (name, bridge['kind'] or 'physical'))
    uplink = model['uplink']
    if uplink is not None:
        if uplink['kind'] == 'ports':
            for port in uplink['ports']:
                _check_free('ports', port, state, (name,))
        elif uplink['kind'] == 'bond':
            found = state.link(uplink['name'])
            if found is not None and found['kind'] != 'bond':
                raise ParameterError('bond.name', "'%s' exists and is a %s device, not a bond"
                                     % (uplink['name'], found['kind'] or 'physical'))
            if found is None and not uplink['slaves']:
                raise ParameterError('bond.slaves', "bond '%s' does not exist yet: give its slaves" % uplink['name'])
            if found is not None and found['master'] not in (None, name):
                raise ParameterError('bond.name', "'%s' is already enslaved to '%s'" % (uplink['name'], found['master']))
            for slave in uplink['slaves'] or []:
                _check_free('bond.slaves', slave, state, (uplink['name'], name))
        else:
            parent = state.link(uplink['parent'])
            if parent is None:
                raise ParameterError('vlan.parent', "'%s' does not exist: give an existing interface (%s)"
                                     % (uplink['parent'], ', '.join(_candidates(state))))
            found = state.link(uplink['name'])
            if found is not None and found['kind'] != 'vlan':
                raise ParameterError('vlan.name', "'%s' exists and is a %s device, not a VLAN"
                                     % (uplink['name'], found['kind'] or 'physical'))
            if found is not None and found['master'] not in (None, name):
                raise ParameterError('vlan.name', "'%s' is already enslaved to '%s'" % (uplink['name'], found['master']))
    for tap in model['taps'] or []:
        found = state.link(tap['name'])
        if found is not None and (found['kind'] != 'tun' or found['tun']['type'] != 'tap'):
            raise ParameterError('taps', "'%s' exists and is a %s device, not a tap"
                                 % (tap['name'], found['kind'] or 'physical'))
        if found is not None and found['master'] not in (None, name):
            raise ParameterError('taps', "'%s' is already attached to '%s'" % (tap['name'], found['master']))


def _candidates(state):
    return sorted(n for n, link in state.links.items() if link['kind'] in (None, 'veth') and n != 'lo') or ['none']


def _check_free(parameter, device, state, allowed_masters):
    found = state.link(device)
    if found is None:
        raise ParameterError(parameter, "'%s' does not exist: give an existing interface (free ones: %s)"
                             % (device, ', '.join(_candidates(state))))
    if found['kind'] in ('bridge', 'tun'):
        raise ParameterError(parameter, "'%s' is a %s device, not a NIC" % (device, found['kind']))
    if found['master'] not in (None,) + tuple(allowed_masters):
        raise ParameterError(parameter, "'%s' is already enslaved to '%s'" % (device, found['master']))
    if device == 'lo':
        raise ParameterError(parameter, "'lo' is the loopback device")
