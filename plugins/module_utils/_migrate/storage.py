# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a guest's disks live as seen from both hosts: proof of shared storage (the same pool, or a marker
file written on the source and looked for on the destination), and the destination's pools for a copy
(private to kvmops.kvm).

Everything goes through libvirt's storage API, so it works over any URI (no shell on either host): a
directory outside every pool is read through a transient directory pool, removed again at once."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import posixpath
import uuid

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import etree, libvirt

PROBE_PREFIX = 'kvmops-probe-'


def pool_target(pool):
    return _xml.parse(pool.XMLDesc(0)).findtext('target/path')


def pool_at(conn, directory, active_only=True):
    """The pool whose target path is `directory`, or None."""
    for pool in conn.listAllStoragePools(0):
        if active_only and not pool.isActive():
            continue
        if (pool_target(pool) or '').rstrip('/') == directory.rstrip('/'):
            return pool
    return None


class _DirectoryView(object):
    """A pool that shows `directory` on one host: an existing active one, else a transient dir pool made
    for the probe (None when the directory is not there)."""

    def __init__(self, conn, directory):
        self.conn = conn
        self.directory = directory
        self.transient = False
        self.pool = pool_at(conn, directory)
        if self.pool is None:
            xml = ("<pool type='dir'><name>%s%s</name><target><path>%s</path></target></pool>"
                   % (PROBE_PREFIX, uuid.uuid4().hex[:12], directory))
            try:
                self.pool = conn.storagePoolCreateXML(xml, 0)
                self.transient = True
            except libvirt.libvirtError:
                self.pool = None   # no such directory there (or not readable)

    def has(self, name):
        if self.pool is None:
            return False
        self.pool.refresh(0)
        try:
            self.pool.storageVolLookupByName(name)
            return True
        except libvirt.libvirtError:
            return False

    def close(self):
        if self.transient and self.pool is not None:
            try:
                self.pool.destroy()
            except libvirt.libvirtError:
                pass


class StorageView(object):
    """Answers, once per directory, whether source and destination see the same files there."""

    def __init__(self, source, destination):
        self.source = source
        self.destination = destination
        self._shared = {}

    def directory_shared(self, directory):
        """(shared, how): a marker file made on the source is looked for on the destination."""
        if directory not in self._shared:
            self._shared[directory] = self._probe(directory)
        return self._shared[directory]

    def _probe(self, directory):
        here = _DirectoryView(self.source, directory)
        there = None
        marker = None
        try:
            if here.pool is None:
                return False, 'the source cannot read %s' % directory
            name = '%s%s' % (PROBE_PREFIX, uuid.uuid4().hex[:12])
            try:
                marker = here.pool.createXML("<volume><name>%s</name><capacity>0</capacity><target>"
                                             "<format type='raw'/></target></volume>" % name, 0)
            except libvirt.libvirtError as exc:
                return False, 'cannot write a marker file in %s on the source: %s' % (directory, exc)
            there = _DirectoryView(self.destination, directory)
            if there.pool is None:
                return False, '%s does not exist on the destination' % directory
            if there.has(name):
                return True, 'a marker file written in %s on the source is seen there on the destination' % directory
            return False, ('%s on the destination is another directory (a marker file written on the source is not '
                           'there)' % directory)
        finally:
            if marker is not None:
                try:
                    marker.delete(0)
                except libvirt.libvirtError:
                    pass
            for view in (there, here):
                if view is not None:
                    view.close()

    def destination_has_file(self, path):
        view = _DirectoryView(self.destination, posixpath.dirname(path))
        try:
            return view.has(posixpath.basename(path))
        finally:
            view.close()

    def destination_knows(self, path):
        """The destination pool that has a volume at `path` (block devices, pool volumes), or None."""
        try:
            return self.destination.storageVolLookupByPath(path).storagePoolLookupByVolume().name()
        except libvirt.libvirtError:
            return None


def source_pool_of(conn, path):
    """The source pool holding `path`, or None."""
    try:
        return conn.storageVolLookupByPath(path).storagePoolLookupByVolume()
    except libvirt.libvirtError:
        return None


def copy_pool_definition(source_pool, directory, taken_names):
    """XML of a dir pool for the destination at `directory`, named after the source's pool when that name
    is free there; the name used."""
    name = source_pool.name() if source_pool is not None else None
    if not name or name in taken_names:
        name = 'migrated-%s' % (posixpath.basename(directory.rstrip('/')) or 'root')
    root = _xml.parse("<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>" % (name, directory))
    if source_pool is not None:
        permissions = _xml.parse(source_pool.XMLDesc(0)).find('target/permissions')
        if permissions is not None:
            root.find('target').append(permissions)
    return name, _xml.to_string(root)


def top_image_volume(name, capacity, fmt, backing_path, backing_format):
    """Volume XML of an empty top image over the same backing file (copy_incremental's destination)."""
    root = etree.Element('volume')
    etree.SubElement(root, 'name').text = name
    etree.SubElement(root, 'capacity', unit='bytes').text = str(int(capacity))
    target = etree.SubElement(root, 'target')
    etree.SubElement(target, 'format', type=fmt)
    if backing_path:
        backing = etree.SubElement(root, 'backingStore')
        etree.SubElement(backing, 'path').text = backing_path
        etree.SubElement(backing, 'format', type=backing_format)
    return _xml.to_string(root)
