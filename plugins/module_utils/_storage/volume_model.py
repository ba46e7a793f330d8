# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt storage volumes as a canonical model, and disk images read from their headers
(private to kvmops.kvm).

The model: format, capacity (bytes), backing (path), owner, group (numeric IDs), mode ('0600').
A desired model holds only what the user specified.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import struct

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError
from ansible_collections.kvmops.kvm.plugins.module_utils._storage import permissions as _permissions

FORMATS = ('qcow2', 'raw')
QCOW2_MAGIC = b'QFI\xfb'
# libvirt (qemu-img) keeps sizes in whole sectors; LVM in extents (4 MiB unless the group says otherwise)
FILE_ALIGNMENT = 512
LVM_ALIGNMENT = 4 * 1024 ** 2


# ---------------------------------------------------------------- names and sizes

def volume_name(parameter, value):
    if not value or value in ('.', '..') or '/' in value or '\0' in value or len(value.encode('utf-8')) > 255:
        raise ParameterError(parameter, "'%s' is not a volume name: a file name of at most 255 bytes, without '/'"
                             % value)
    return value


PARTIAL_SUFFIX = '.kvmops-partial'   # the marker volume beside a volume while its content is uploaded


def not_a_marker(parameter, value):
    """A name the user gives may not be a marker's: a volume of that name would pass for a cut-off upload's."""
    if value and value.endswith(PARTIAL_SUFFIX):
        base = value[:-len(PARTIAL_SUFFIX)]
        raise ParameterError(parameter, "'%s' ends in '%s', the suffix kvm_volume keeps for the marker that stands "
                                        "beside a volume while its upload runs: choose a name without it%s"
                             % (value, PARTIAL_SUFFIX, " (state: absent on '%s' removes a marker left behind)" % base
                                if base else ''))
    return value


SMALLEST_BARE = 1024 ** 2


def capacity(parameter, value):
    """Bytes from a size with a unit ('10G', '10GiB', '512MiB', '1000B') or a bare number of bytes, the unit
    the module returns (volume.capacity), so a returned value can be given back as it is. A bare number
    under 1 MiB is refused: it is surely a size meant in another unit."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) and not hasattr(value, 'strip'):
        raise ParameterError(parameter, '%r is not a size: give a number with a unit such as 10G or 512MiB, or a '
                                        'number of bytes' % (value,))
    try:
        size = _xml.to_bytes(value, default_unit='b')
    except ValueError as exc:
        raise ParameterError(parameter, '%s; a bare number means bytes, as volume.capacity is returned' % exc)
    if size <= 0:
        raise ParameterError(parameter, 'a volume needs a capacity above zero')
    bare = not str(value).strip()[-1:].isalpha()
    if bare and size < SMALLEST_BARE:
        raise ParameterError(parameter, '%s without a unit is %d bytes (a bare number means bytes, as volume.capacity '
                                        'is returned); write the unit, e.g. %sM or %sG, or 1000B for bytes'
                             % (value, size, value, value))
    return size


def aligned(size, alignment):
    return -(-size // alignment) * alignment


def human(size):
    for unit, factor in (('TiB', 1024 ** 4), ('GiB', 1024 ** 3), ('MiB', 1024 ** 2), ('KiB', 1024)):
        if size >= factor:
            return ('%.2f' % (float(size) / factor)).rstrip('0').rstrip('.') + ' ' + unit
    return '%d bytes' % size


# ---------------------------------------------------------------- images on disk

def image_info(path):
    """(format, virtual size in bytes) of a local image file, from its header: qcow2 or raw."""
    with open(path, 'rb') as stream:
        header = stream.read(32)
    if len(header) >= 32 and header[:4] == QCOW2_MAGIC:
        return 'qcow2', struct.unpack('>Q', header[24:32])[0]
    return 'raw', os.path.getsize(path)


# ---------------------------------------------------------------- libvirt's XML

def read(root):
    """The full model of a <volume> element as libvirt reports it."""
    target = root.find('target')
    fmt = target.find('format') if target is not None else None
    model = {
        'path': target.findtext('path') if target is not None else None,
        'format': fmt.get('type') if fmt is not None else None,
        'capacity': _size(root.find('capacity')),
        'allocation': _size(root.find('allocation')),
        'backing': root.findtext('backingStore/path'),
    }
    model.update(_permissions.read(target))
    return model


def _size(element):
    if element is None or element.text is None:
        return None
    return _xml.to_bytes(element.text.strip(), default_unit=element.get('unit') or 'b')


def permissions(params, local):
    """owner/group/mode as the model holds them: only those given."""
    return _permissions.given(params, local, '0600')


def new_definition(name, size, fmt, perms, backing=None):
    """A <volume> to create; fmt None leaves the format to the pool (LVM volumes have none)."""
    root = _xml.parse('<volume/>')
    _xml.sub(root, 'name').text = name
    if size is not None:
        _xml.sub(root, 'capacity', unit='bytes').text = str(size)
    target = _xml.sub(root, 'target')
    if fmt:
        _xml.sub(target, 'format', type=fmt)
    if perms:
        element = _xml.sub(target, 'permissions')
        for key in ('mode', 'owner', 'group'):
            if key in perms:
                _xml.sub(element, key).text = str(perms[key])
    if backing:
        store = _xml.sub(root, 'backingStore')
        _xml.sub(store, 'path').text = backing['path']
        _xml.sub(store, 'format', type=backing['format'])
    return _xml.to_string(root)
