# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a failed step left behind, read back from libvirt, so a failure says the state it leaves (private to kvmops.kvm).

Actions name their object by kind and name ('domain', 'web1'; 'volume', 'images/web1.qcow2'; 'seed ISO', a path):
that is enough to look the object up again without asking the resource, whatever state it was left in.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt

_DOMAIN_STATES = {
    'VIR_DOMAIN_NOSTATE': 'no state', 'VIR_DOMAIN_RUNNING': 'running', 'VIR_DOMAIN_BLOCKED': 'running',
    'VIR_DOMAIN_PAUSED': 'paused', 'VIR_DOMAIN_SHUTDOWN': 'shutting down', 'VIR_DOMAIN_SHUTOFF': 'shut off',
    'VIR_DOMAIN_CRASHED': 'crashed', 'VIR_DOMAIN_PMSUSPENDED': 'suspended'}


def _defined(obj):
    return 'defined' if obj.isPersistent() else 'transient'


def _domain(conn, name):
    dom = conn.lookupByName(name)
    state = dom.state()[0]
    names = dict((getattr(libvirt, key, None), text) for key, text in _DOMAIN_STATES.items())
    return '%s, %s' % (names.get(state, 'state %s' % state), _defined(dom))


def _network(conn, name):
    net = conn.networkLookupByName(name)
    return '%s, %s' % ('active' if net.isActive() else 'inactive', _defined(net))


def _pool(conn, name):
    pool = conn.storagePoolLookupByName(name)
    return '%s, %s' % ('active' if pool.isActive() else 'inactive', _defined(pool))


def _volume(conn, label):
    pool_name, _sep, name = label.partition('/')
    if not name:   # a disk named by its path
        vol = conn.storageVolLookupByPath(label)
    else:
        vol = conn.storagePoolLookupByName(pool_name).storageVolLookupByName(name)
    return 'present, %d bytes' % vol.info()[1]


_READERS = {'domain': _domain, 'network': _network, 'pool': _pool, 'volume': _volume}


def state_left(conn, kind, name):
    """A short description of the object as it is now ('shut off, defined', 'absent'), or None when the
    kind is not one libvirt or the file system can tell."""
    if kind in _READERS:
        try:
            return _READERS[kind](conn, name)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() in (libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_ERR_NO_NETWORK,
                                        libvirt.VIR_ERR_NO_STORAGE_POOL, libvirt.VIR_ERR_NO_STORAGE_VOL):
                return 'absent'
            return 'unknown (%s)' % (exc.get_error_message() or exc)
    if name.startswith('/'):
        return 'present' if os.path.exists(name) else 'absent'
    return None


def describe_failure(conn, resource_kind, resource_name, failed):
    """{object label: state} of the resource and of the object the failed action touched."""
    seen = {}
    for kind, name in ((resource_kind, resource_name), (failed.kind, failed.name)):
        if not kind or not name or '%s %s' % (kind, name) in seen:
            continue
        try:
            state = state_left(conn, kind, name)
        except Exception as exc:  # the daemon may be gone: the failure itself is what matters then
            state = 'unknown (%s)' % exc
        if state is not None:
            seen['%s %s' % (kind, name)] = state
    return seen
