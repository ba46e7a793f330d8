# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The guests of one hypervisor as plain records, for the inventory plugin (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.six.moves.urllib.parse import urlparse

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt, etree
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError, libvirt_reason

ADDRESS_SOURCES = ('lease', 'agent', 'arp')

_SOURCE_FLAGS = dict(lease='VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE',
                     agent='VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT',
                     arp='VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP')
_SOURCE_VALUES = dict(lease=0, agent=1, arp=2)   # the values of libvirt's constants, for builds that lack one

STATES = {0: 'nostate', 1: 'running', 2: 'blocked', 3: 'paused', 4: 'shutdown', 5: 'shutoff', 6: 'crashed',
          7: 'pmsuspended'}
_ADDRESSED_STATES = ('running', 'blocked', 'paused')   # a guest that is not running has no current address
_AGENT_CHANNEL = 'org.qemu.guest_agent.0'


def _quiet(_context, _error):
    """libvirt prints every error to stderr by default; the plugin reports them itself."""


def connect(uri, read_only=False):
    libvirt.registerErrorHandler(_quiet, None)
    try:
        return libvirt.openReadOnly(uri) if read_only else libvirt.open(uri)
    except libvirt.libvirtError as exc:
        raise KvmError('connect to', 'hypervisor', uri, libvirt_reason(exc))


def hypervisor_name(conn, uri):
    """The host name the daemon reports; the URI's host when it cannot say."""
    try:
        return conn.getHostname()
    except libvirt.libvirtError:
        return urlparse(uri).hostname or 'localhost'


def read_hypervisor(uri, name=None, read_only=False, sources=ADDRESS_SOURCES):
    """{'uri', 'hypervisor', 'guests': [record, ...]} over one connection, closed at the end."""
    conn = connect(uri, read_only)
    try:
        host = name or hypervisor_name(conn, uri)
        try:
            domains = conn.listAllDomains(0)
        except libvirt.libvirtError as exc:
            raise KvmError('list', 'guests of hypervisor', uri, libvirt_reason(exc))
        guests = []
        for dom in domains:
            record = read_guest(dom, sources, read_only)
            if record is not None:
                guests.append(record)
        return dict(uri=uri, hypervisor=host, guests=sorted(guests, key=lambda g: g['name']))
    finally:
        conn.close()


def read_guest(dom, sources=ADDRESS_SOURCES, read_only=False):
    """One guest as a plain dict, or None when it vanished while being read."""
    try:
        state = STATES.get(dom.state()[0], 'unknown')
        root = etree.fromstring(dom.XMLDesc(0))
        persistent = bool(dom.isPersistent())
        autostart = bool(dom.autostart()) if persistent else False
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == getattr(libvirt, 'VIR_ERR_NO_DOMAIN', 42):
            return None
        raise KvmError('read', 'guest', _safe_name(dom), libvirt_reason(exc))
    vcpu = root.find('vcpu')
    max_vcpus = int(vcpu.text) if vcpu is not None and vcpu.text else 1
    record = dict(
        name=root.findtext('name'),
        uuid=root.findtext('uuid'),
        title=root.findtext('title'),
        description=root.findtext('description'),
        state=state,
        persistent=persistent,
        autostart=autostart,
        domain_type=root.get('type'),
        arch=root.find('os/type').get('arch') if root.find('os/type') is not None else None,
        max_memory=_mib(root.find('memory')),
        memory=_mib(root.find('currentMemory')) or _mib(root.find('memory')),
        max_vcpus=max_vcpus,
        vcpus=int(vcpu.get('current')) if vcpu is not None and vcpu.get('current') else max_vcpus,
        interfaces=[_interface(element) for element in root.findall('devices/interface')],
    )
    if state in _ADDRESSED_STATES:
        agent = not read_only and _agent_connected(root)
        errors = _add_addresses(dom, record['interfaces'], [s for s in sources if s != 'agent' or agent])
        if errors:
            record['address_errors'] = errors
    return record


def _safe_name(dom):
    try:
        return dom.name()
    except libvirt.libvirtError:
        return '?'


def _mib(element):
    """A size element (unit defaults to KiB, libvirt writes KiB) in MiB."""
    if element is None or not element.text:
        return None
    units = dict(b=1, bytes=1, k=1024, kib=1024, kb=1000, m=1024 ** 2, mib=1024 ** 2, mb=1000 ** 2,
                 g=1024 ** 3, gib=1024 ** 3, gb=1000 ** 3, t=1024 ** 4, tib=1024 ** 4, tb=1000 ** 4)
    size = int(element.text) * units.get((element.get('unit') or 'KiB').lower(), 1024)
    return size // (1024 ** 2)


def _interface(element):
    source = element.find('source')
    source = source if source is not None else etree.Element('source')
    mac = element.find('mac')
    model = element.find('model')
    target = element.find('target')
    kind = element.get('type')
    return dict(
        type=kind,
        mac=mac.get('address').lower() if mac is not None and mac.get('address') else None,
        network=source.get('network') if kind == 'network' else None,
        bridge=source.get('bridge') or (source.get('dev') if kind == 'bridge' else None),
        portgroup=source.get('portgroup'),
        device=source.get('dev') if kind == 'direct' else None,
        model=model.get('type') if model is not None else None,
        target=target.get('dev') if target is not None else None,
        addresses=[],
    )


def _agent_connected(root):
    """Asking an agent that is not there costs a libvirt error (or its timeout): ask only a connected one."""
    for target in root.findall('devices/channel/target'):
        if target.get('name') == _AGENT_CHANNEL and target.get('state') == 'connected':
            return True
    return False


def _add_addresses(dom, interfaces, sources):
    """Addresses from each source in turn, matched to the guest's NICs by MAC; the first source to report an
    address keeps it. Returns {source: libvirt's reason} for the sources that failed."""
    by_mac = dict((nic['mac'], nic) for nic in interfaces if nic['mac'])
    errors = {}
    for source in sources:
        flag = getattr(libvirt, _SOURCE_FLAGS[source], _SOURCE_VALUES[source])
        try:
            reported = dom.interfaceAddresses(flag) or {}
        except libvirt.libvirtError as exc:
            errors[source] = libvirt_reason(exc)   # agent gone, a daemon without ARP...: the next source
            continue
        for guest_ifname, data in sorted(reported.items()):
            nic = by_mac.get((data.get('hwaddr') or '').lower())
            if nic is None:
                continue   # the loopback and guest-internal devices an agent reports
            if source == 'agent':
                nic['guest_name'] = guest_ifname
            known = set(address['address'] for address in nic['addresses'])
            for item in data.get('addrs') or []:
                if item.get('addr') and item['addr'] not in known:
                    known.add(item['addr'])
                    nic['addresses'].append(dict(
                        address=item['addr'], prefix=item.get('prefix'),
                        family='ipv6' if item.get('type') == getattr(libvirt, 'VIR_IP_ADDR_TYPE_IPV6', 1) else 'ipv4',
                        source=source))
    return errors
