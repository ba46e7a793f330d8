# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Guest disks on the host: does a path or volume exist, its format, creating and removing it (private)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError, ParameterError
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.objects import lookup

QCOW2_MAGIC = b'QFI\xfb'


class DiskStore(object):
    """Looks up guest disk files and volumes through libvirt, once per run."""

    def __init__(self, module):
        self.module = module
        self._pool_dirs = None

    @property
    def conn(self):
        return self.module.conn

    def pool(self, name, parameter):
        try:
            return self.conn.storagePoolLookupByName(name)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_POOL:
                raise ParameterError(parameter, "storage pool '%s' does not exist on %s" % (name, self.module.params['uri']))
            raise

    def volume(self, pool_name, volume_name, parameter):
        pool = self.pool(pool_name, parameter)
        return lookup(pool.storageVolLookupByName, 'volume', volume_name, libvirt.VIR_ERR_NO_STORAGE_VOL,
                      '%s/%s' % (pool_name, volume_name))

    def volume_by_path(self, path):
        try:
            return self.conn.storageVolLookupByPath(path)
        except libvirt.libvirtError:
            return None

    def path_exists(self, path):
        """Whether the file is there: True, False, or None when a remote daemon cannot tell (a file that
        is in none of its pools)."""
        if self.module.is_local:
            return os.path.exists(path)
        return True if self.volume_by_path(path) is not None else None

    def file_format(self, path):
        """qcow2 or raw, by the file's header (local) or the volume's format (remote)."""
        if self.module.is_local:
            try:
                with open(path, 'rb') as stream:
                    return 'qcow2' if stream.read(4) == QCOW2_MAGIC else 'raw'
            except IOError:
                return None
        volume = self.volume_by_path(path)
        if volume is None:
            return None
        fmt = _xml.parse(volume.XMLDesc(0)).find('target/format')
        return fmt.get('type') if fmt is not None else None

    def pool_for_directory(self, directory):
        """The pool whose target is this directory (so volumes made there are libvirt's own)."""
        if self._pool_dirs is None:
            self._pool_dirs = {}
            for pool in self.conn.listAllStoragePools():
                path = _xml.parse(pool.XMLDesc(0)).findtext('target/path')
                if path:
                    self._pool_dirs[os.path.normpath(path)] = pool
        return self._pool_dirs.get(os.path.normpath(directory))

    def creator(self, disk):
        """A function that creates the disk's volume (qcow2 or raw, optionally an overlay)."""
        if disk.get('pool'):
            pool = self.pool(disk['pool'], 'disks')
            name = disk['volume']
        else:
            pool = self.pool_for_directory(os.path.dirname(disk['path']))
            name = os.path.basename(disk['path'])
            if pool is None:
                return self._qemu_img_creator(disk)
        volume = _xml.parse('<volume/>')
        _xml.sub(volume, 'name').text = name
        _xml.sub(volume, 'capacity', unit='bytes').text = str(disk.get('size') or 0)
        target = _xml.sub(volume, 'target')
        _xml.sub(target, 'format', type=disk.get('format') or 'qcow2')
        if disk.get('backing'):
            backing = _xml.sub(volume, 'backingStore')
            _xml.sub(backing, 'path').text = disk['backing']
            _xml.sub(backing, 'format', type=self.file_format(disk['backing']) or 'qcow2')
        definition = _xml.to_string(volume)

        def create():
            pool.createXML(definition, 0)
        return create

    def _qemu_img_creator(self, disk):
        """No pool covers the directory: qemu-img, which libvirt's own dir pools use too."""
        if not self.module.is_local:
            raise ParameterError('disks', "no storage pool on %s holds '%s'; give pool and volume instead of path"
                                 % (self.module.params['uri'], disk['path']))
        command = ['qemu-img', 'create', '-q', '-f', disk.get('format') or 'qcow2']
        if disk.get('backing'):
            command += ['-b', disk['backing'], '-F', self.file_format(disk['backing']) or 'qcow2']
        command.append(disk['path'])
        if disk.get('size'):
            command.append(str(disk['size']))

        def create():
            rc, _out, err = self.module.run_command(command)
            if rc != 0:
                raise KvmError('create', 'disk', disk['path'], err.strip())
        return create

    def remover(self, disk):
        """A function that deletes a disk's volume (used only with remove_storage)."""
        volume = (self.volume(disk['pool'], disk['volume'], 'disks') if disk.get('pool')
                  else self.volume_by_path(disk['path']) if disk.get('path') else None)

        def remove():
            if volume is not None:
                volume.delete(0)
            elif disk.get('path') and self.module.is_local and os.path.exists(disk['path']):
                os.unlink(disk['path'])
        return remove
