# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""External snapshots where libvirt falls short: revert before libvirt 9.7, RAM files left after a delete (private to kvmops.kvm).

An external snapshot S froze each disk's image of the moment (its backing file) and put an overlay on top that
has taken every write since. Reverting to S while no other snapshot builds on S's overlays is therefore: stop the
guest, replace each overlay by an empty one on the same backing file, and resume the RAM image when S kept one.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError

KIND = 'snapshot'
NATIVE_REVERT = 9007000   # libvirt 9.7 reverts external snapshots itself


def native_revert(conn):
    return conn.getLibVersion() >= NATIVE_REVERT


def layers(snapshot_root, domain_root):
    """Per disk of an external snapshot: its overlay and the frozen backing file under it (from the domain
    definition the snapshot recorded), and the overlay the guest writes to now.
    [(target, overlay, backing, backing_format, active_file)]"""
    recorded = dict((d.find('target').get('dev'), d) for d in snapshot_root.findall('domain/devices/disk'))
    now = dict((d.find('target').get('dev'), d) for d in domain_root.findall('devices/disk'))
    found = []
    for disk in snapshot_root.findall('disks/disk'):
        if disk.get('snapshot') != 'external':
            continue
        target = disk.get('name')
        then = recorded.get(target)
        backing = then.find('source').get('file') if then is not None and then.find('source') is not None else None
        driver = then.find('driver') if then is not None else None
        active = now.get(target)
        active_file = active.find('source').get('file') if active is not None and active.find('source') is not None else None
        found.append((target, disk.find('source').get('file'), backing,
                      driver.get('type') if driver is not None else 'raw', active_file))
    return found


def revert_blockers(name, disk_layers, children):
    """Why this module cannot revert to the external snapshot `name` itself (an empty list: it can)."""
    problems = []
    if children:
        problems.append("snapshots %s build on its overlay files (revert to one of them, or delete them first with "
                        "state: absent; libvirt 9.7 and later revert any external snapshot)" % ', '.join(children))
    for target, overlay, backing, _fmt, active in disk_layers:
        if backing is None:
            problems.append('its definition does not say which file disk %s was on' % target)
        elif active != overlay:
            problems.append("disk %s now writes to '%s', not to the snapshot's overlay '%s'" % (target, active, overlay))
    return problems


def reverter(module, dom_of, name, disk_layers, memory_file, run_after):
    """The revert as one action: stop, fresh overlays, then the RAM image (or a cold start, or nothing).
    run_after: 'running', 'paused' or 'shutoff'."""

    def revert():
        dom = dom_of()
        if dom.isActive():
            dom.destroy()
        for target, overlay, backing, fmt, _active in disk_layers:
            if os.path.exists(overlay):
                os.unlink(overlay)
            rc, _out, err = module.run_command(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', backing, '-F', fmt, overlay])
            if rc != 0:
                raise KvmError('revert to', KIND, name, 'recreating the overlay %s of disk %s: %s' % (overlay, target, err.strip()))
        if memory_file and run_after != 'shutoff':
            definition = _xml.parse(module.conn.saveImageGetXMLDesc(memory_file, 0))
            overlays = dict((target, overlay) for target, overlay, _b, _f, _a in disk_layers)
            for disk in definition.findall('devices/disk'):
                target = disk.find('target').get('dev')
                if target in overlays:
                    disk.find('source').set('file', overlays[target])
                    _xml.remove_all(disk, 'backingStore')
                    disk.find('driver').set('type', 'qcow2')
            flags = libvirt.VIR_DOMAIN_SAVE_PAUSED if run_after == 'paused' else libvirt.VIR_DOMAIN_SAVE_RUNNING
            module.conn.restoreFlags(memory_file, _xml.to_string(definition), flags)
        elif run_after == 'running':
            dom.create()
        elif run_after == 'paused':
            dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
        snapshot = dom.snapshotLookupByName(name, 0)
        # the snapshot becomes the current one again, as libvirt's own revert makes it
        dom.snapshotCreateXML(snapshot.getXMLDesc(0), libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE |
                              libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT)
    return revert


def remove_memory_file(module, name, path):
    """libvirt (9.0) deletes an external snapshot's overlays but leaves its RAM file behind."""
    def remove():
        if path and module.is_local and os.path.exists(path):
            try:
                os.unlink(path)
            except OSError as exc:
                raise KvmError('delete', KIND, name, 'removing its RAM file %s: %s' % (path, exc))
    return remove
