# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Guest disks on the host: does a path or volume exist, its format, creating and removing it (private)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError, ParameterError
# A guest disk is a storage volume: it is found, defined and read exactly as kvm_pool and kvm_volume do it,
# through the storage package, so that the two never disagree about a pool, a volume or an image.
from ansible_collections.kvmops.kvm.plugins.module_utils._storage import volume_model as _volumes
from ansible_collections.kvmops.kvm.plugins.module_utils._storage.lookup import (
    lookup_pool, lookup_volume, pools_by_target, volume_by_path)


class DiskStore(object):
    """Looks up guest disk files and volumes through libvirt, once per run."""

    def __init__(self, module):
        self.module = module
        self._pool_dirs = None

    @property
    def conn(self):
        return self.module.conn

    def pool(self, name, parameter):
        pool = lookup_pool(self.conn, name)
        if pool is None:
            raise ParameterError(parameter, "storage pool '%s' does not exist on %s" % (name, self.module.params['uri']))
        return pool

    def volume(self, pool_name, volume_name, parameter):
        return lookup_volume(self.pool(pool_name, parameter), pool_name, volume_name)

    def volume_by_path(self, path):
        return volume_by_path(self.conn, path)

    def volume_path(self, pool_name, volume_name):
        """The file of a pool's volume, or None when the pool or the volume is not there."""
        pool = lookup_pool(self.conn, pool_name)
        volume = lookup_volume(pool, pool_name, volume_name) if pool is not None else None
        return volume.path() if volume is not None else None

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
                return _volumes.image_info(path)[0]
            except (IOError, OSError):
                return None
        volume = self.volume_by_path(path)
        if volume is None:
            return None
        return _volumes.read(_xml.parse(volume.XMLDesc(0)))['format']

    def pool_for_directory(self, directory):
        """The pool whose target is this directory (so volumes made there are libvirt's own)."""
        if self._pool_dirs is None:
            self._pool_dirs = pools_by_target(self.conn)
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
        backing = None
        if disk.get('backing'):
            backing = dict(path=disk['backing'], format=self.file_format(disk['backing']) or 'qcow2')
        definition = _volumes.new_definition(name, disk.get('size') or 0, disk.get('format') or 'qcow2', None, backing)

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
