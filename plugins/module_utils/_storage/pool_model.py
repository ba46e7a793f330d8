# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt storage pool definitions as a canonical model (private to kvmops.kvm).

The model is a dict of plain values: type, path, owner, group (numeric IDs), mode ('0755'),
source (host, path, format, name, devices) and mount_options. A desired model holds only what the
user specified; a model read from libvirt holds every key.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import grp
import os
import posixpath
import pwd
import re

from ansible.module_utils.six import integer_types, string_types

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import validate as check
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import etree
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError

TYPES = ('dir', 'netfs', 'logical')
NETFS_FORMATS = ('nfs', 'auto')
FS_NAMESPACE = 'http://libvirt.org/schemas/storagepool/fs/1.0'
_FS = '{%s}' % FS_NAMESPACE
# Changes that only reach a running pool by stopping it and starting it again
RESTART_KEYS = ('path', 'source', 'mount_options')
PERMISSION_KEYS = ('owner', 'group', 'mode')
_MODE_RE = re.compile(r'^0?[0-7]{3,4}$')


# ---------------------------------------------------------------- reading libvirt's XML

def _int_text(element, tag):
    text = element.findtext(tag) if element is not None else None
    if text is None or text.strip() in ('', '-1'):
        return None
    return int(text.strip())


def read(root):
    """The full model of a <pool> element as libvirt reports it."""
    target = root.find('target')
    perms = target.find('permissions') if target is not None else None
    source = root.find('source')
    mode = perms.findtext('mode') if perms is not None else None
    model = {
        'type': root.get('type'),
        'path': target.findtext('path') if target is not None else None,
        'owner': _int_text(perms, 'owner'),
        'group': _int_text(perms, 'group'),
        'mode': canonical_mode(mode.strip()) if mode and mode.strip() else None,
        'source': _read_source(source),
        'mount_options': [o.get('name') for o in root.findall(_FS + 'mount_opts/' + _FS + 'option')],
    }
    return model


def _read_source(source):
    found = {'host': None, 'path': None, 'format': None, 'name': None, 'devices': []}
    if source is None:
        return found
    host, directory, fmt = source.find('host'), source.find('dir'), source.find('format')
    found['host'] = host.get('name') if host is not None else None
    found['path'] = directory.get('path') if directory is not None else None
    found['format'] = fmt.get('type') if fmt is not None else None
    found['name'] = source.findtext('name')
    found['devices'] = sorted(d.get('path') for d in source.findall('device'))
    return found


# ---------------------------------------------------------------- the user's options

def canonical_mode(value):
    """'755', '0755', 0o755 (an int, as YAML reads 0755) -> '0755'."""
    if isinstance(value, integer_types) and not isinstance(value, bool):
        return '%04o' % value
    text = str(value).strip()
    if text.startswith('0o'):
        text = text[2:]
    if not _MODE_RE.match(text):
        raise ValueError(value)
    return '%04o' % int(text, 8)


def identity(parameter, value, local, kind):
    """A user or group (name or number) as a numeric ID; names resolve only on the pool's own host."""
    number = check.numeric_id(parameter, value, kind)
    if number is not None:
        return number
    if not local:
        raise ParameterError(parameter, "'%s': give a numeric %s ID when the pool's host is remote (names "
                                        "resolve on the host the module runs on)" % (value, kind))
    try:
        return (pwd.getpwnam(value).pw_uid if kind == 'user' else grp.getgrnam(value).gr_gid)
    except KeyError:
        raise ParameterError(parameter, "no %s '%s' on this host" % (kind, value))


def absolute_path(parameter, value):
    if not isinstance(value, string_types) or not value.startswith('/'):
        raise ParameterError(parameter, "'%s' is not an absolute path" % value)
    normal = posixpath.normpath(value)
    return '/' + normal.lstrip('/') if normal.startswith('//') else normal


def _source(params, pool_type):
    given = params.get('source') or {}
    given = dict((k, v) for k, v in given.items() if v not in (None, []))
    allowed = {'dir': (), 'netfs': ('host', 'path', 'format'), 'logical': ('name', 'devices')}[pool_type]
    for key in sorted(given):
        if key not in allowed:
            raise ParameterError('source.%s' % key, "a %s pool does not take source.%s%s" % (
                pool_type, key, ' (it takes %s)' % ', '.join('source.' + a for a in allowed) if allowed else ''))
    source = {}
    if pool_type == 'netfs':
        for key in ('host', 'path'):
            if not given.get(key):
                raise ParameterError('source.%s' % key, 'a netfs pool needs the NFS server (source.host) and '
                                                        'its export (source.path)')
        source['host'] = given['host']
        source['path'] = absolute_path('source.path', given['path'])
        if given.get('format'):
            source['format'] = given['format']
    elif pool_type == 'logical':
        if given.get('name'):
            source['name'] = given['name']
        if given.get('devices'):
            source['devices'] = sorted(absolute_path('source.devices', d) for d in given['devices'])
    return source


def from_options(params, pool_type, local):
    """The desired model: only what the user specified (pool_type is the given or live type)."""
    desired = {}
    if params.get('type'):
        desired['type'] = params['type']
    if params.get('path'):
        desired['path'] = absolute_path('path', params['path'])
    if params.get('owner') is not None:
        desired['owner'] = identity('owner', params['owner'], local, 'user')
    if params.get('group') is not None:
        desired['group'] = identity('group', params['group'], local, 'group')
    if params.get('mode') is not None:
        desired['mode'] = check.file_mode('mode', params['mode'])
    if params.get('source'):
        source = _source(params, pool_type)
        if source:
            desired['source'] = source
    if params.get('mount_options') is not None:
        if pool_type != 'netfs':
            raise ParameterError('mount_options', 'only netfs pools are mounted; a %s pool takes none' % pool_type)
        for option in params['mount_options']:
            if not option or ',' in option or ' ' in option:
                raise ParameterError('mount_options', "'%s' is not one mount option: give a list, one option "
                                                      "an item (e.g. [vers=4.2, soft])" % option)
        desired['mount_options'] = list(params['mount_options'])
    return desired


def completed(name, desired, pool_type):
    """The desired model of a pool about to be created: defaults filled in, requirements checked."""
    model = dict(desired, type=pool_type)
    if pool_type == 'netfs':
        if 'source' not in model:
            raise ParameterError('source', 'a netfs pool needs source.host and source.path (the NFS export)')
        model['source'] = dict(model['source'])
        model['source'].setdefault('format', 'nfs')
    if pool_type == 'logical':
        source = dict(model.get('source') or {})
        source.setdefault('name', name)
        model['source'] = source
        model.setdefault('path', '/dev/%s' % source['name'])
    if not model.get('path'):
        raise ParameterError('path', 'a new %s pool needs its target path, e.g. /var/lib/libvirt/images' % pool_type)
    return model


# ---------------------------------------------------------------- writing the model back

def _write_permissions(target, desired):
    if not any(key in desired for key in PERMISSION_KEYS):
        return
    perms = _xml.ensure(target, 'permissions')
    for key in ('mode', 'owner', 'group'):
        if key in desired:
            _xml.ensure(perms, key).text = str(desired[key])


def _write_source(root, desired_source):
    source = root.find('source')
    if source is None:
        source = _xml.sub(root, 'source')
        target = root.find('target')
        if target is not None:   # libvirt's own order: source before target
            target.addprevious(source)
    if 'host' in desired_source:
        _xml.remove_all(source, 'host')
        _xml.sub(source, 'host', name=desired_source['host'])
    if 'path' in desired_source:
        _xml.remove_all(source, 'dir')
        _xml.sub(source, 'dir', path=desired_source['path'])
    if 'devices' in desired_source:
        _xml.remove_all(source, 'device')
        for device in desired_source['devices']:
            _xml.sub(source, 'device', path=device)
    if 'name' in desired_source:
        _xml.ensure(source, 'name').text = desired_source['name']
    if 'format' in desired_source:
        _xml.ensure(source, 'format').set('type', desired_source['format'])
    order = ('host', 'device', 'dir', 'name', 'format')
    children = sorted(source, key=lambda c: order.index(c.tag) if c.tag in order else len(order))
    for child in children:
        source.append(child)


def _write_mount_options(root, options):
    for element in root.findall(_FS + 'mount_opts'):
        root.remove(element)
    if not options:
        return root
    # the fs namespace must be declared on the root: rebuild it with the prefix mapping
    nsmap = dict(root.nsmap)
    nsmap['fs'] = FS_NAMESPACE
    new_root = etree.Element(root.tag, nsmap=nsmap, attrib=dict(root.attrib))
    for child in root:
        new_root.append(child)
    container = etree.SubElement(new_root, _FS + 'mount_opts')
    for option in options:
        etree.SubElement(container, _FS + 'option').set('name', option)
    return new_root


def write(root, desired):
    """Lay the desired model over a <pool> element (the live one: what libvirt generated stays)."""
    target = _xml.ensure(root, 'target')
    if 'path' in desired:
        _xml.ensure(target, 'path').text = desired['path']
    _write_permissions(target, desired)
    if desired.get('source'):
        _write_source(root, desired['source'])
    if 'mount_options' in desired:
        root = _write_mount_options(root, desired['mount_options'])
    return root


def new_definition(name, model):
    root = _xml.parse('<pool/>')
    root.set('type', model['type'])
    _xml.sub(root, 'name').text = name
    return write(root, model)


def is_same_path(first, second):
    return bool(first and second) and os.path.normpath(first) == os.path.normpath(second)
