# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt domain definitions as a canonical model, and back (private to kvmops.kvm).

Memory is in MiB, devices are plain dicts: disks keyed by target, interfaces kept in order (matched
by MAC, else by position), so a desired model and one read from libvirt compare by meaning.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml

KIB_PER_MIB = 1024
BOOT_DEVICES = ('hd', 'cdrom', 'network')
DISK_PREFIX = {'virtio': 'vd', 'sata': 'sd', 'scsi': 'sd', 'ide': 'hd', 'usb': 'sd'}


# ---------------------------------------------------------------- reading libvirt's XML

def _mib(element):
    if element is None:
        return None
    return _xml.to_bytes('%s%s' % ((element.text or '0').strip(), element.get('unit') or 'KiB')) // (1024 * 1024)


def read_disk(disk):
    source = disk.find('source')
    driver = disk.find('driver')
    target = disk.find('target')
    model = {
        'target': target.get('dev') if target is not None else None,
        'bus': target.get('bus') if target is not None else None,
        'format': driver.get('type') if driver is not None else None,
        'cache': driver.get('cache') if driver is not None else None,
        'readonly': disk.find('readonly') is not None,
        'path': None,
    }
    if source is not None:
        model['path'] = source.get('file') or source.get('dev') or source.get('name')
        if source.get('pool'):
            model['pool'], model['volume'] = source.get('pool'), source.get('volume')
    return model


def _interface_source(iface):
    source = iface.find('source')
    kind = iface.get('type')
    if source is None:
        return kind, None
    if source.get('network'):
        # on a network of mode bridge or direct, the live XML shows the actual type and keeps the network
        return 'network', source.get('network')
    return kind, {'network': source.get('network'), 'bridge': source.get('bridge'),
                  'direct': source.get('dev')}.get(kind)


def read_interface(iface):
    kind, source = _interface_source(iface)
    mac = iface.find('mac')
    model = iface.find('model')
    link = iface.find('link')
    src = iface.find('source')
    return {
        'type': kind,
        'source': source,
        'mac': mac.get('address').lower() if mac is not None else None,
        'model': model.get('type') if model is not None else None,
        'portgroup': src.get('portgroup') if src is not None else None,
        'link_state': link.get('state') if link is not None else 'up',
    }


def read_graphics(devices):
    graphics = devices.find('graphics')
    if graphics is None:
        return {'type': 'none'}
    listen = graphics.find('listen')
    address = graphics.get('listen') or (listen.get('address') if listen is not None else None)
    port = graphics.get('port')
    return {
        'type': graphics.get('type'),
        'listen': address,
        'port': None if graphics.get('autoport') == 'yes' or port in (None, '-1') else int(port),
        'password': graphics.get('passwd'),
    }


def read(root):
    """The model of a domain element as libvirt reports it."""
    os_element = root.find('os')
    os_type = os_element.find('type') if os_element is not None else None
    vcpu = root.find('vcpu')
    cpu = root.find('cpu')
    devices = root.find('devices')
    if devices is None:   # a user's xml may leave the devices to libvirt
        devices = _xml.parse('<devices/>')
    max_vcpus = int(vcpu.text) if vcpu is not None else 1
    loader = os_element.find('loader') if os_element is not None else None
    uefi = os_element is not None and (os_element.get('firmware') == 'efi' or (
        loader is not None and loader.get('type') == 'pflash'))
    disks = [read_disk(d) for d in devices.findall('disk') if d.get('device', 'disk') == 'disk']
    cdroms = [read_disk(d) for d in devices.findall('disk') if d.get('device') == 'cdrom']
    return {
        'type': root.get('type'),
        'memory': _mib(root.find('currentMemory')) or _mib(root.find('memory')),
        'max_memory': _mib(root.find('memory')),
        'vcpus': int(vcpu.get('current')) if vcpu is not None and vcpu.get('current') else max_vcpus,
        'max_vcpus': max_vcpus,
        'cpu': {'mode': (cpu.get('mode') or ('custom' if cpu.find('model') is not None else None)),
                'model': cpu.findtext('model')} if cpu is not None else {'mode': None, 'model': None},
        'machine': os_type.get('machine') if os_type is not None else None,
        'firmware': 'uefi' if uefi else 'bios',
        'boot': [b.get('dev') for b in os_element.findall('boot')] if os_element is not None else [],
        'kernel': os_element.findtext('kernel') if os_element is not None else None,
        'initrd': os_element.findtext('initrd') if os_element is not None else None,
        'cmdline': os_element.findtext('cmdline') if os_element is not None else None,
        'disks': sorted(disks, key=lambda d: d['target'] or ''),
        'cdroms': cdroms,
        'interfaces': [read_interface(i) for i in devices.findall('interface')],
        'graphics': read_graphics(devices),
        'balloon': (devices.find('memballoon') is None or devices.find('memballoon').get('model') != 'none'),
    }


# ---------------------------------------------------------------- device XML

def disk_element(disk, device='disk'):
    kind = 'volume' if disk.get('pool') else 'block' if (disk.get('path') or '').startswith('/dev/') else 'file'
    element = _xml.parse('<disk/>')
    element.set('type', kind)
    element.set('device', device)
    _xml.sub(element, 'driver', name='qemu', type=disk.get('format') or ('raw' if device == 'cdrom' else 'qcow2'),
             cache=disk.get('cache'))
    if disk.get('pool'):
        _xml.sub(element, 'source', pool=disk['pool'], volume=disk['volume'])
    elif disk.get('path'):
        _xml.sub(element, 'source', **{'dev' if kind == 'block' else 'file': disk['path']})
    _xml.sub(element, 'target', dev=disk['target'], bus=disk['bus'])
    if disk.get('readonly') or device == 'cdrom':
        _xml.sub(element, 'readonly')
    return element


def interface_element(iface):
    element = _xml.parse('<interface/>')
    element.set('type', iface['type'])
    attribute = {'network': 'network', 'bridge': 'bridge', 'direct': 'dev'}[iface['type']]
    source = _xml.sub(element, 'source', **{attribute: iface['source']})
    if iface['type'] == 'direct':
        source.set('mode', 'bridge')
    if iface.get('portgroup'):
        source.set('portgroup', iface['portgroup'])
    if iface.get('mac'):
        _xml.sub(element, 'mac', address=iface['mac'])
    _xml.sub(element, 'model', type=iface.get('model') or 'virtio')
    if iface.get('link_state'):
        _xml.sub(element, 'link', state=iface['link_state'])
    return element


def graphics_element(graphics):
    element = _xml.parse('<graphics/>')
    element.set('type', graphics['type'])
    if graphics.get('port'):
        element.set('port', str(graphics['port']))
        element.set('autoport', 'no')
    else:
        element.set('autoport', 'yes')
    if graphics.get('password'):
        element.set('passwd', graphics['password'])
    _xml.sub(element, 'listen', type='address', address=graphics.get('listen') or '127.0.0.1')
    return element


# ---------------------------------------------------------------- writing the model back

def _write_memory(root, desired):
    if 'max_memory' in desired:
        element = _xml.ensure(root, 'memory')
        element.set('unit', 'KiB')
        element.text = str(desired['max_memory'] * KIB_PER_MIB)
    if 'memory' in desired:
        element = _xml.ensure(root, 'currentMemory')
        element.set('unit', 'KiB')
        element.text = str(desired['memory'] * KIB_PER_MIB)


def _write_vcpus(root, desired):
    vcpu = _xml.ensure(root, 'vcpu')
    if not (vcpu.text or '').strip():   # a user's xml may leave the count to libvirt's default, which is vcpus or 1
        vcpu.text = str(desired.get('vcpus') or 1)
    if 'max_vcpus' in desired:
        vcpu.text = str(desired['max_vcpus'])
    if 'vcpus' in desired:
        if int(vcpu.text or 1) == desired['vcpus']:
            vcpu.attrib.pop('current', None)
        else:
            vcpu.set('current', str(desired['vcpus']))
    vcpu.set('placement', vcpu.get('placement') or 'static')


def _write_cpu(root, cpu):
    _xml.remove_all(root, 'cpu')
    if not cpu or not cpu.get('mode'):
        return
    element = _xml.sub(root, 'cpu', mode=cpu['mode'])
    if cpu['mode'] == 'custom':
        element.set('match', 'exact')
        _xml.sub(element, 'model', fallback='allow').text = cpu['model']


def _write_os(root, desired):
    os_element = _xml.ensure(root, 'os')
    os_type = _xml.ensure(os_element, 'type')
    os_type.set('arch', os_type.get('arch') or 'x86_64')
    os_type.text = os_type.text or 'hvm'
    if desired.get('machine'):
        os_type.set('machine', desired['machine'])
    if 'firmware' in desired:
        if desired['firmware'] == 'uefi':
            os_element.set('firmware', 'efi')
        else:
            os_element.attrib.pop('firmware', None)
            for tag in ('loader', 'nvram'):
                _xml.remove_all(os_element, tag)
    for key in ('kernel', 'initrd', 'cmdline'):
        if key in desired:
            _xml.remove_all(os_element, key)
            if desired[key]:
                _xml.sub(os_element, key).text = desired[key]
    if 'boot' in desired:
        _xml.remove_all(os_element, 'boot')
        for device in desired['boot']:
            _xml.sub(os_element, 'boot', dev=device)
    # libvirt wants os children in schema order: type, loader, nvram, kernel, initrd, cmdline, boot
    order = ('type', 'loader', 'nvram', 'kernel', 'initrd', 'cmdline', 'boot')
    children = sorted(os_element, key=lambda c: order.index(c.tag) if c.tag in order else len(order))
    for child in children:
        os_element.append(child)


def _replace_devices(devices, tag, predicate, elements):
    for child in devices.findall(tag):
        if predicate(child):
            devices.remove(child)
    for element in elements:
        devices.append(element)


def _write_interfaces(devices, interfaces):
    existing = devices.findall('interface')
    for index, iface in enumerate(interfaces):
        element = interface_element(iface)
        if index < len(existing):
            old = existing[index]
            old_source = old.find('source')
            if iface['type'] == 'direct' and old.get('type') == 'direct' and old_source is not None \
                    and old_source.get('mode'):
                element.find('source').set('mode', old_source.get('mode'))   # vepa/private/passthrough stay
            # keep what libvirt generated or the user did not model (PCI address, target, alias, ...)
            for child in old:
                if child.tag not in ('source', 'mac', 'model', 'link') and element.find(child.tag) is None:
                    element.append(child)
            devices.replace(old, element)
        else:
            devices.append(element)
    for old in existing[len(interfaces):]:
        devices.remove(old)


def _write_disks(devices, disks, device):
    existing = dict((d.find('target').get('dev'), d) for d in devices.findall('disk')
                    if d.get('device', 'disk') == device and d.find('target') is not None)
    wanted = set(d['target'] for d in disks)
    for target, element in existing.items():
        if target not in wanted:
            devices.remove(element)
    for disk in disks:
        element = disk_element(disk, device)
        old = existing.get(disk['target'])
        if old is not None:
            for child in old:
                if child.tag in ('address', 'alias', 'boot', 'serial') and element.find(child.tag) is None:
                    element.append(child)
            devices.replace(old, element)
        else:
            devices.append(element)


def write(root, desired):
    """Lay the desired model over a domain element (keeping everything it does not model)."""
    if 'type' in desired:
        root.set('type', desired['type'])
    _write_memory(root, desired)
    _write_vcpus(root, desired)
    if 'cpu' in desired:
        _write_cpu(root, desired['cpu'])
    _write_os(root, desired)
    devices = _xml.ensure(root, 'devices')
    if 'disks' in desired:
        _write_disks(devices, desired['disks'], 'disk')
    if 'cdroms' in desired:
        _write_disks(devices, desired['cdroms'], 'cdrom')
    if 'interfaces' in desired:
        _write_interfaces(devices, desired['interfaces'])
    if 'graphics' in desired:
        _replace_devices(devices, 'graphics', lambda _e: True,
                         [] if desired['graphics']['type'] == 'none' else [graphics_element(desired['graphics'])])
        if desired['graphics']['type'] == 'none':
            _xml.remove_all(devices, 'video')
    return root


def new_definition(name, desired, tcg_cache_mib=None):
    """A complete domain for `desired`, with the devices every guest here gets."""
    root = _xml.parse('<domain/>')
    _xml.sub(root, 'name').text = name
    write(root, desired)
    features = _xml.sub(root, 'features')
    _xml.sub(features, 'acpi')
    _xml.sub(features, 'apic')
    if tcg_cache_mib:
        tcg = _xml.sub(features, 'tcg')
        _xml.sub(tcg, 'tb-cache', unit='MiB').text = str(tcg_cache_mib)
    for tag, text in (('on_poweroff', 'destroy'), ('on_reboot', 'restart'), ('on_crash', 'destroy')):
        _xml.sub(root, tag).text = text
    devices = root.find('devices')
    serial = _xml.sub(devices, 'serial', type='pty')
    _xml.sub(serial, 'target', port='0')
    console = _xml.sub(devices, 'console', type='pty')
    _xml.sub(console, 'target', type='serial', port='0')
    agent = _xml.sub(devices, 'channel', type='unix')
    _xml.sub(agent, 'target', type='virtio', name='org.qemu.guest_agent.0')
    _xml.sub(devices, 'memballoon', model='virtio')
    rng = _xml.sub(devices, 'rng', model='virtio')
    _xml.sub(rng, 'backend', model='random').text = '/dev/urandom'
    if desired.get('graphics', {}).get('type') not in (None, 'none'):
        video = _xml.sub(devices, 'video')
        _xml.sub(video, 'model', type='virtio' if desired['graphics']['type'] == 'spice' else 'vga')
    # devices must precede these in libvirt's schema order only loosely; put devices last for readability
    root.remove(devices)
    root.append(devices)
    return root


DISK_COMPARED = ('target', 'bus', 'path', 'pool', 'volume', 'format', 'cache', 'readonly')


def comparable(domain_model):
    """The model in compared form: NICs as a set keyed by MAC (the guest sees PCI slots, not XML order),
    disks and CD-ROM drives by target, with only the fields that mean something to the guest."""
    result = dict(domain_model)
    if isinstance(result.get('interfaces'), list):
        result['interfaces'] = sorted(result['interfaces'], key=lambda i: i.get('mac') or '')
    for key, fields in (('disks', DISK_COMPARED), ('cdroms', ('target', 'bus', 'path'))):
        if isinstance(result.get(key), list):
            result[key] = sorted((dict((k, d.get(k)) for k in fields) for d in result[key]), key=lambda d: d['target'])
    result.pop('balloon', None)
    return result
