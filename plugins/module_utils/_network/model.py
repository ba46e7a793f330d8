# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt network definitions as a canonical model (private to kvmops.kvm).

The model is a dict of plain values. A desired model holds only the keys the user specified;
a model read from libvirt holds them all. Lists are sorted by their stable key, addresses are
compressed and netmasks become prefixes, so two models compare equal exactly when they mean the
same network.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress

from ansible.module_utils.six import text_type

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import validate as check
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.extra import ExtraElements
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.objects import parse_definition

MODES = ('nat', 'isolated', 'route', 'bridge', 'open')
FAMILIES = ('ipv4', 'ipv6')
TYPED_OPTIONS = ('mode', 'bridge', 'forward_dev', 'mtu', 'domain', 'ipv4', 'ipv6', 'dns_hosts')
# Top-level elements the model understands; any other element given in `xml` is compared by meaning.
MODELLED = ('name', 'uuid', 'forward', 'bridge', 'mtu', 'domain', 'ip', 'dns', 'mac')


# ---------------------------------------------------------------- reading libvirt's XML

def _prefix_of(ip_element, address):
    if ip_element.get('prefix'):
        return int(ip_element.get('prefix'))
    if ip_element.get('netmask'):
        return ipaddress.ip_network(u'0.0.0.0/%s' % ip_element.get('netmask')).prefixlen
    if address.version == 6:
        return 64
    first = int(text_type(address).split('.')[0])   # libvirt's classful default
    return 8 if first < 128 else 16 if first < 192 else 24


def _host_key(host):
    return host.get('mac') or host.get('id') or host.get('name') or host.get('ip')


def _sorted_hosts(hosts):
    return sorted(hosts, key=_host_key)


def _sorted_ranges(ranges):
    return sorted(ranges, key=lambda r: (ipaddress.ip_address(r['start']), ipaddress.ip_address(r['end'])))


def _read_ip(element):
    address = ipaddress.ip_address(text_type(element.get('address')))
    # no <dhcp> and an empty one (libvirt drops it) both mean "no ranges, no hosts"
    model = {'address': text_type(address), 'prefix': _prefix_of(element, address),
             'dhcp': {'ranges': [], 'hosts': []}}
    dhcp = element.find('dhcp')
    if dhcp is not None:
        ranges = [{'start': text_type(ipaddress.ip_address(text_type(r.get('start')))),
                   'end': text_type(ipaddress.ip_address(text_type(r.get('end'))))}
                  for r in dhcp.findall('range')]
        hosts = []
        for h in dhcp.findall('host'):
            host = dict((key, h.get(key)) for key in ('mac', 'id', 'name', 'ip') if h.get(key))
            if 'mac' in host:
                host['mac'] = host['mac'].lower()
            if 'ip' in host:
                host['ip'] = text_type(ipaddress.ip_address(text_type(host['ip'])))
            hosts.append(host)
        model['dhcp'] = {'ranges': _sorted_ranges(ranges), 'hosts': _sorted_hosts(hosts)}
    return model


def _read_dns_hosts(root):
    hosts = []
    for h in root.findall('dns/host'):
        hosts.append({'ip': text_type(ipaddress.ip_address(text_type(h.get('ip')))),
                      'hostnames': sorted((n.text or '').strip() for n in h.findall('hostname'))})
    return sorted(hosts, key=lambda h: ipaddress.ip_address(h['ip']))


def read(root):
    """The full model of a network element as libvirt reports it."""
    forward = root.find('forward')
    bridge = root.find('bridge')
    mtu = root.find('mtu')
    domain = root.find('domain')
    model = {
        'mode': (forward.get('mode') or 'nat') if forward is not None else 'isolated',
        'forward_dev': forward.get('dev') if forward is not None else None,
        'bridge': bridge.get('name') if bridge is not None else None,
        'mtu': int(mtu.get('size')) if mtu is not None else None,
        'domain': domain.get('name') if domain is not None else None,
        'ipv4': None,
        'ipv6': None,
        'dns_hosts': _read_dns_hosts(root),
    }
    for ip in root.findall('ip'):
        family = ip.get('family') or ('ipv6' if ':' in (ip.get('address') or '') else 'ipv4')
        if family in FAMILIES and model[family] is None:
            model[family] = _read_ip(ip)
    return model


def extra_elements(root):
    """The elements of a network `xml` outside the model (portgroups, routes, bandwidth, ...): any of them
    may repeat, and each must be in the definition, by meaning."""
    return ExtraElements(root, MODELLED, repeated=True)


# ---------------------------------------------------------------- the user's options

def _subnet(family, ip, where):
    version = 4 if family == 'ipv4' else 6
    address = check.ip_address(where + '.address', ip.get('address'), version)
    if ip.get('prefix') is not None and ip.get('netmask'):
        raise ParameterError(where, 'give prefix or netmask, not both')
    if ip.get('netmask'):
        if version == 6:
            raise ParameterError(where + '.netmask', 'IPv6 takes a prefix, not a netmask')
        try:
            prefix = ipaddress.ip_network(u'0.0.0.0/%s' % ip['netmask']).prefixlen
        except ValueError:
            raise ParameterError(where + '.netmask', "'%s' is not a netmask (e.g. 255.255.255.0)" % ip['netmask'])
    elif ip.get('prefix') is not None:
        prefix = check.integer_range(where + '.prefix', ip['prefix'], 1, 30 if version == 4 else 126)
    else:
        raise ParameterError(where, 'give the subnet size as prefix (e.g. 24) or netmask')
    return address, ipaddress.ip_network(u'%s/%d' % (address, prefix), strict=False)


def _check_usable(where, address, subnet, gateway, what):
    if address not in subnet:
        raise ParameterError(where, '%s %s is outside %s, the subnet of address %s'
                             % (what, address, subnet, gateway))
    if subnet.version == 4 and address in (subnet.network_address, subnet.broadcast_address):
        raise ParameterError(where, '%s %s is the network or broadcast address of %s' % (what, address, subnet))
    if address == gateway:
        raise ParameterError(where, '%s %s is the network\'s own address (the gateway guests use)' % (what, address))


def _ranges(where, ranges, subnet, gateway):
    result, seen = [], []
    for index, item in enumerate(ranges):
        at = '%s[%d]' % (where, index)
        start = check.ip_address(at + '.start', item.get('start'), subnet.version)
        end = check.ip_address(at + '.end', item.get('end'), subnet.version)
        for point, name in ((start, 'start'), (end, 'end')):
            if point not in subnet:
                raise ParameterError(at, 'range %s-%s is outside %s, the subnet of address %s: '
                                         'the range or the address has a typo' % (start, end, subnet, gateway))
            _check_usable(at + '.' + name, point, subnet, gateway, 'range %s' % name)
        if start > end:
            raise ParameterError(at, 'start %s is after end %s' % (start, end))
        if start <= gateway <= end:
            raise ParameterError(at, 'range %s-%s covers the network\'s own address %s: DHCP would hand it out'
                                 % (start, end, gateway))
        for other_at, other_start, other_end in seen:
            if start <= other_end and other_start <= end:
                raise ParameterError(at, 'range %s-%s overlaps range %s-%s of %s: DHCP ranges must not share '
                                         'addresses' % (start, end, other_start, other_end, other_at))
        seen.append((at, start, end))
        result.append({'start': text_type(start), 'end': text_type(end)})
    return _sorted_ranges(result)


def _hosts(where, hosts, subnet, gateway, family):
    result, macs, ips, names = [], {}, {}, {}
    for index, item in enumerate(hosts):
        at = '%s[%d]' % (where, index)
        host = {}
        if item.get('mac'):
            if family == 'ipv6':
                raise ParameterError(at + '.mac', 'IPv6 DHCP hosts are matched by name or id (DUID), not by MAC')
            host['mac'] = check.mac_address(at + '.mac', item['mac'])
            if host['mac'] in macs:
                raise ParameterError(at + '.mac', 'MAC %s is already used by %s' % (host['mac'], macs[host['mac']]))
            macs[host['mac']] = at
        if item.get('id'):
            host['id'] = item['id']
        if item.get('name'):
            host['name'] = check.hostname(at + '.name', item['name'])
            if family == 'ipv6' and host['name'] in names:
                raise ParameterError(at + '.name', "name '%s' is already used by %s" % (host['name'], names[host['name']]))
            names[host['name']] = at
        if family == 'ipv4' and 'mac' not in host:
            raise ParameterError(at, 'an IPv4 DHCP host needs a mac')
        if family == 'ipv6' and not ('name' in host or 'id' in host):
            raise ParameterError(at, 'an IPv6 DHCP host needs a name or an id')
        if not item.get('ip'):
            raise ParameterError(at + '.ip', 'a DHCP host needs an ip')
        address = check.ip_address(at + '.ip', item['ip'], subnet.version)
        _check_usable(at + '.ip', address, subnet, gateway, 'host ip')
        if address in ips:
            raise ParameterError(at + '.ip', 'IP %s is already given to %s' % (address, ips[address]))
        ips[address] = at
        host['ip'] = text_type(address)
        result.append(host)
    return _sorted_hosts(result)


def _ip_option(family, ip):
    address, subnet = _subnet(family, ip, family)
    model = {'address': text_type(address), 'prefix': subnet.prefixlen}
    dhcp = ip.get('dhcp')
    if dhcp is not None and (dhcp.get('ranges') is not None or dhcp.get('hosts') is not None):
        # ranges and hosts first: when they disagree with the address, the message names both
        model['dhcp'] = {}
        if dhcp.get('ranges') is not None:
            model['dhcp']['ranges'] = _ranges(family + '.dhcp.ranges', dhcp['ranges'], subnet, address)
        if dhcp.get('hosts') is not None:
            model['dhcp']['hosts'] = _hosts(family + '.dhcp.hosts', dhcp['hosts'], subnet, address, family)
    for special, label in (('is_loopback', 'loopback'), ('is_multicast', 'multicast'),
                           ('is_unspecified', 'unspecified'), ('is_link_local', 'link-local')):
        if getattr(address, special):
            raise ParameterError(family + '.address', '%s is a %s address; a virtual network needs a private '
                                 'or routable one (e.g. 192.168.100.1)' % (address, label))
    if subnet.version == 4 and address in (subnet.network_address, subnet.broadcast_address):
        raise ParameterError(family + '.address', '%s is the network or broadcast address of %s' % (address, subnet))
    return model


def _dns_hosts(entries):
    result, seen = [], {}
    for index, item in enumerate(entries):
        at = 'dns_hosts[%d]' % index
        address = text_type(check.ip_address(at + '.ip', item.get('ip')))
        if address in seen:
            raise ParameterError(at + '.ip', 'IP %s is already listed at %s; put all its names in one entry'
                                 % (address, seen[address]))
        seen[address] = at
        names = item.get('hostnames') or []
        if not names:
            raise ParameterError(at + '.hostnames', 'give at least one hostname')
        result.append({'ip': address,
                       'hostnames': sorted(check.hostname('%s.hostnames[%d]' % (at, i), n) for i, n in enumerate(names))})
    return sorted(result, key=lambda h: ipaddress.ip_address(h['ip']))


def from_options(params):
    """The desired model from typed options: only what the user specified."""
    desired = {}
    mode = params.get('mode')
    if mode is not None:
        desired['mode'] = mode
    if params.get('bridge') is not None:
        desired['bridge'] = check.interface_name('bridge', params['bridge'])
    if params.get('forward_dev') is not None:
        if mode in ('isolated', 'bridge', 'open'):
            raise ParameterError('forward_dev', "only nat and route networks forward through a device, not mode '%s'" % mode)
        desired['forward_dev'] = check.interface_name('forward_dev', params['forward_dev'])
    if params.get('mtu') is not None:
        desired['mtu'] = check.integer_range('mtu', params['mtu'], 68, 65535)
    if params.get('domain') is not None:
        desired['domain'] = check.hostname('domain', params['domain'])
    if mode == 'bridge':
        if not params.get('bridge'):
            raise ParameterError('bridge', "mode 'bridge' needs the existing host bridge to use, e.g. bridge: br0")
        for option in ('ipv4', 'ipv6', 'domain', 'dns_hosts', 'mtu'):
            if params.get(option) is not None:
                raise ParameterError(option, "mode 'bridge' hands guests to the host bridge %s, which libvirt does not "
                                             "address or serve: drop %s" % (params['bridge'], option))
    for family in FAMILIES:
        if params.get(family) is not None:
            desired[family] = _ip_option(family, params[family])
    if params.get('dns_hosts') is not None:
        desired['dns_hosts'] = _dns_hosts(params['dns_hosts'])
    return desired


def from_xml(name, text):
    """The desired model from a full network XML: fields it leaves out stay unspecified,
    except addresses and DNS hosts, which a full definition states (none means none)."""
    root = parse_definition(text, 'network', name)
    try:
        full = read(root)
    except (ValueError, TypeError) as exc:
        raise ParameterError('xml', 'cannot read the network definition: %s' % exc)
    desired = dict((key, value) for key, value in full.items() if value is not None)
    for family in FAMILIES:
        desired.setdefault(family, None)
    return desired, root


# ---------------------------------------------------------------- writing the model back

def _write_ip(network, family, model, existing):
    ip = existing
    if ip is None:
        ip = _xml.sub(network, 'ip', family='ipv6' if family == 'ipv6' else None)
    for attribute in ('netmask', 'prefix'):
        ip.attrib.pop(attribute, None)
    ip.set('address', model['address'])
    ip.set('prefix', str(model['prefix']))
    dhcp_model = model.get('dhcp')
    if dhcp_model is None:
        return
    dhcp = _xml.ensure(ip, 'dhcp')
    if 'ranges' in dhcp_model:
        _xml.remove_all(dhcp, 'range')
        for r in dhcp_model['ranges']:
            _xml.sub(dhcp, 'range', start=r['start'], end=r['end'])
    if 'hosts' in dhcp_model:
        _xml.remove_all(dhcp, 'host')
        for h in dhcp_model['hosts']:
            host_element(h, parent=dhcp)
    if len(dhcp) == 0:
        ip.remove(dhcp)


def host_element(host, parent=None):
    attributes = dict((key, host.get(key)) for key in ('mac', 'id', 'name', 'ip'))
    if parent is None:
        element = _xml.parse('<host/>')
        for key, value in attributes.items():
            if value is not None:
                element.set(key, value)
        return element
    return _xml.sub(parent, 'host', **attributes)


def range_element(item):
    element = _xml.parse('<range/>')
    element.set('start', item['start'])
    element.set('end', item['end'])
    return element


def dns_host_element(item):
    element = _xml.parse('<host/>')
    element.set('ip', item['ip'])
    for name in item['hostnames']:
        _xml.sub(element, 'hostname').text = name
    return element


def _ip_elements(root, family):
    found = []
    for ip in root.findall('ip'):
        ip_family = ip.get('family') or ('ipv6' if ':' in (ip.get('address') or '') else 'ipv4')
        if ip_family == family:
            found.append(ip)
    return found


def ip_index(root, family):
    """Position of the family's first <ip> among all <ip> elements (virNetworkUpdate's parentIndex)."""
    ips = root.findall('ip')
    matches = _ip_elements(root, family)
    return ips.index(matches[0]) if matches else None


def _write_forward(root, desired):
    mode = desired.get('mode')
    if mode == 'isolated':
        _xml.remove_all(root, 'forward')
    elif mode is not None:
        forward = _xml.ensure(root, 'forward')
        if (forward.get('mode') or 'nat') != mode:
            for child in list(forward):
                forward.remove(child)
        forward.set('mode', mode)
    if 'forward_dev' in desired:
        forward = root.find('forward')
        if forward is not None:
            _xml.remove_all(forward, 'interface')
            if desired['forward_dev']:
                forward.set('dev', desired['forward_dev'])
                _xml.sub(forward, 'interface', dev=desired['forward_dev'])
            else:
                forward.attrib.pop('dev', None)
    if mode == 'bridge':
        # libvirt hands guests to an existing host bridge: it serves no addresses there
        for tag in ('ip', 'dns', 'domain', 'mtu'):
            _xml.remove_all(root, tag)
        bridge = root.find('bridge')
        if bridge is not None:
            for attribute in ('stp', 'delay'):
                bridge.attrib.pop(attribute, None)


def _write_simple(root, desired):
    for key, tag, attribute in (('bridge', 'bridge', 'name'), ('mtu', 'mtu', 'size'), ('domain', 'domain', 'name')):
        if key not in desired:
            continue
        if desired[key] is None:
            _xml.remove_all(root, tag)
        else:
            _xml.ensure(root, tag).set(attribute, str(desired[key]))


def write(root, desired):
    """Apply the desired model onto a network element."""
    _write_forward(root, desired)
    _write_simple(root, desired)
    for family in FAMILIES:
        if family not in desired:
            continue
        existing = _ip_elements(root, family)
        if desired[family] is None:
            for element in existing:
                root.remove(element)
            continue
        _write_ip(root, family, desired[family], existing[0] if existing else None)
    if 'dns_hosts' in desired:
        dns = _xml.ensure(root, 'dns')
        _xml.remove_all(dns, 'host')
        for item in desired['dns_hosts']:
            dns.append(dns_host_element(item))
        if len(dns) == 0 and not dns.attrib:
            root.remove(dns)
    return root


def new_definition(name, desired):
    root = _xml.parse('<network/>')
    _xml.sub(root, 'name').text = name
    if 'mode' not in desired:
        desired = dict(desired, mode='nat')
    return write(root, desired)
