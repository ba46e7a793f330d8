# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_domain's options as a desired model, checked without touching the host (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import validate as check
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError
# guest disks are pool volumes: kvm_volume's rule for their names is shared, not copied
from ansible_collections.kvmops.kvm.plugins.module_utils._storage.volume_model import not_a_marker, volume_name

# options that describe the guest (everything else steers the run)
TYPED_OPTIONS = ('memory', 'max_memory', 'vcpus', 'max_vcpus', 'cpu', 'machine', 'firmware', 'boot', 'kernel',
                 'initrd', 'cmdline', 'disks', 'cdrom', 'interfaces', 'graphics', 'cloud_init')
DEFAULT_MEMORY_MIB = 1024
GRAPHICS_TYPES = ('vnc', 'spice', 'none')


def memory_mib(parameter, value):
    """512 (MiB), '512MiB', '2 GiB', '1G' -> MiB."""
    if value is None:
        return None
    try:
        size = _xml.to_bytes(value, default_unit='MiB')
    except ValueError as exc:
        raise ParameterError(parameter, str(exc))
    if size < 16 * 1024 * 1024:
        raise ParameterError(parameter, '%s is below 16 MiB, too little for any guest' % value)
    return size // (1024 * 1024)


def _disk(index, item, used_targets):
    at = 'disks[%d]' % index
    disk = {'bus': item.get('bus'), 'format': item.get('format'), 'cache': item.get('cache'),
            'readonly': item.get('readonly')}
    if item.get('path') and item.get('volume'):
        raise ParameterError(at, 'give path, or pool and volume, not both')
    if item.get('volume'):
        if not item.get('pool'):
            raise ParameterError(at + '.pool', 'a volume needs the pool it lives in')
        check.object_name(at + '.pool', item['pool'])
        # a volume is a file in its pool's directory: its name is the one kvm_volume accepts
        volume_name(at + '.volume', item['volume'])
        not_a_marker(at + '.volume', item['volume'])
        disk['pool'], disk['volume'] = item['pool'], item['volume']
        disk['path'] = None
    elif item.get('path'):
        if not item['path'].startswith('/'):
            raise ParameterError(at + '.path', "'%s' is not an absolute path" % item['path'])
        disk['path'] = item['path']
    else:
        raise ParameterError(at, 'give path, or pool and volume')
    disk['name'] = item.get('name') or disk.get('volume') or disk['path']
    if item.get('size') is not None:
        try:
            disk['size'] = _xml.to_bytes(item['size'], default_unit='GiB')
        except ValueError as exc:
            raise ParameterError(at + '.size', str(exc))
    disk['backing'] = item.get('backing')
    if disk['backing'] and not disk['backing'].startswith('/'):
        raise ParameterError(at + '.backing', "'%s' is not an absolute path" % disk['backing'])
    if disk['backing'] and disk.get('size') is None:
        disk['size'] = 0   # an overlay takes its size from the base image
    target = item.get('target')
    if target:
        if target in used_targets:
            raise ParameterError(at + '.target', "target '%s' is already used by %s" % (target, used_targets[target]))
        used_targets[target] = at
    disk['target'] = target
    return disk


def _interface(index, item, macs):
    at = 'interfaces[%d]' % index
    kinds = [kind for kind in ('network', 'bridge', 'direct') if item.get(kind)]
    if len(kinds) != 1:
        raise ParameterError(at, 'give exactly one of network, bridge or direct (a host device for macvtap)')
    kind = kinds[0]
    if kind != 'network':
        check.interface_name('%s.%s' % (at, kind), item[kind])
    iface = {'type': kind, 'source': item[kind], 'model': item.get('model') or 'virtio',
             'portgroup': item.get('portgroup'), 'link_state': item.get('link_state') or 'up', 'mac': None}
    if item.get('mac'):
        iface['mac'] = check.mac_address(at + '.mac', item['mac'])
        if iface['mac'] in macs:
            raise ParameterError(at + '.mac', 'MAC %s is already given to %s' % (iface['mac'], macs[iface['mac']]))
        macs[iface['mac']] = at
    if iface['portgroup'] and kind != 'network':
        raise ParameterError(at + '.portgroup', 'a portgroup belongs to a libvirt network interface')
    return iface


def _graphics(graphics):
    kind = graphics.get('type') or 'vnc'
    if kind == 'none':
        return {'type': 'none'}
    listen = graphics.get('listen') or '127.0.0.1'
    check.ip_address('graphics.listen', listen)
    port = graphics.get('port')
    if port is not None and port != -1:
        check.integer_range('graphics.port', port, 5900, 65535)
    password = graphics.get('password')
    if password is not None and kind == 'vnc' and len(password) > 8:
        # libvirt refuses it only at define, after other steps ran; VNC's own protocol limit
        raise ParameterError('graphics.password', 'a VNC password has at most 8 characters (this one has %d); '
                                                  'SPICE takes longer ones' % len(password))
    return {'type': kind, 'listen': listen, 'port': None if port in (None, -1) else port, 'password': password}


def from_options(params):
    """The desired model: only what the user specified (creation defaults come later)."""
    desired = {}
    for key in ('memory', 'max_memory'):
        if params.get(key) is not None:
            desired[key] = memory_mib(key, params[key])
    if 'memory' in desired and 'max_memory' in desired and desired['max_memory'] < desired['memory']:
        raise ParameterError('max_memory', '%s MiB is below memory (%s MiB): the ceiling must be at least the '
                             'memory the guest gets' % (desired['max_memory'], desired['memory']))
    for key in ('vcpus', 'max_vcpus'):
        if params.get(key) is not None:
            desired[key] = check.integer_range(key, params[key], 1, 4096)
    if 'vcpus' in desired and 'max_vcpus' in desired and desired['max_vcpus'] < desired['vcpus']:
        raise ParameterError('max_vcpus', '%s is below vcpus (%s)' % (desired['max_vcpus'], desired['vcpus']))
    if params.get('cpu') is not None:
        cpu = params['cpu']
        if cpu.get('mode') == 'custom' and not cpu.get('model'):
            raise ParameterError('cpu.model', "mode 'custom' needs a CPU model, e.g. Westmere")
        if cpu.get('model') and cpu.get('mode') not in (None, 'custom'):
            raise ParameterError('cpu.model', "a model goes with mode 'custom', not '%s'" % cpu.get('mode'))
        desired['cpu'] = {'mode': cpu.get('mode') or 'custom', 'model': cpu.get('model')}
    for key in ('machine', 'firmware', 'kernel', 'initrd', 'cmdline'):
        if params.get(key) is not None:
            desired[key] = params[key]
    for key in ('kernel', 'initrd'):
        if desired.get(key) and not desired[key].startswith('/'):
            raise ParameterError(key, "'%s' is not an absolute path" % desired[key])
    if params.get('boot') is not None:
        if len(set(params['boot'])) != len(params['boot']):
            raise ParameterError('boot', 'each device once: %s' % ', '.join(params['boot']))
        desired['boot'] = list(params['boot'])
    if params.get('disks') is not None:
        used = {}
        desired['disks'] = [_disk(i, d, used) for i, d in enumerate(params['disks'])]
        names = {}
        for i, disk in enumerate(desired['disks']):
            if disk['name'] in names:
                raise ParameterError('disks[%d]' % i, "disk '%s' is already listed at %s" % (disk['name'], names[disk['name']]))
            names[disk['name']] = 'disks[%d]' % i
    if params.get('cdrom') is not None:
        if params['cdrom'] and not params['cdrom'].startswith('/'):
            raise ParameterError('cdrom', "'%s' is not an absolute path (or give '' to eject)" % params['cdrom'])
        desired['cdrom'] = params['cdrom']
    if params.get('interfaces') is not None:
        macs = {}
        desired['interfaces'] = [_interface(i, item, macs) for i, item in enumerate(params['interfaces'])]
    if params.get('graphics') is not None:
        desired['graphics'] = _graphics(params['graphics'])
    return desired


def creation_defaults(desired):
    """What a new guest gets for what the user left out."""
    result = dict(desired)
    result.setdefault('memory', DEFAULT_MEMORY_MIB)
    result.setdefault('max_memory', max(result['memory'], desired.get('max_memory') or 0))
    result.setdefault('vcpus', 1)
    result.setdefault('max_vcpus', max(result['vcpus'], desired.get('max_vcpus') or 0))
    result.setdefault('graphics', {'type': 'vnc', 'listen': '127.0.0.1', 'port': None, 'password': None})
    result.setdefault('interfaces', [])
    result.setdefault('disks', [])
    if 'boot' not in result and not result.get('kernel'):
        result['boot'] = ['hd'] + (['cdrom'] if result.get('cdrom') else [])
    return result
