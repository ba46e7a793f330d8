# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Finding storage pools and volumes: by name, by path, by target directory (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.objects import lookup


def lookup_pool(conn, name):
    """The pool, or None when there is none by that name."""
    return lookup(conn.storagePoolLookupByName, 'pool', name, libvirt.VIR_ERR_NO_STORAGE_POOL)


def lookup_volume(pool, pool_name, name):
    """The pool's volume, or None when it has none by that name; named '<pool>/<volume>' in errors."""
    return lookup(pool.storageVolLookupByName, 'volume', name, libvirt.VIR_ERR_NO_STORAGE_VOL,
                  '%s/%s' % (pool_name, name))


def volume_by_path(conn, path):
    """The volume of any pool whose file (or device) is `path`, or None."""
    try:
        return conn.storageVolLookupByPath(path)
    except libvirt.libvirtError:
        return None


def pools_by_target(conn):
    """{normalized target directory: pool} of every pool that has a target path."""
    found = {}
    for pool in conn.listAllStoragePools():
        path = _xml.parse(pool.XMLDesc(0)).findtext('target/path')
        if path:
            found[os.path.normpath(path)] = pool
    return found
