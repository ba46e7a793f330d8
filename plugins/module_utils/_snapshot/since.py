# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a guest is still as a snapshot left it: a mark kept in the domain's metadata (private to kvmops.kvm).

After each create or revert the module writes a mark into the domain's own metadata: which snapshot, and the
disks' write position. Running guest: into the live definition only (it vanishes with the QEMU process), with
the domain ID and each disk's write counters (virDomainBlockStats). Shut-off guest: into the persistent
definition, with each disk's modification time (libvirt's volume timestamps, or the file's on a local host).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import etree, libvirt

NAMESPACE = 'https://kvmops.github.io/xmlns/kvm_snapshot/1'
KEY = 'kvmops-snapshot'


def _mtime(conn, path, is_local):
    """A disk file's modification time as text (nanoseconds kept), or None when it cannot be read."""
    try:
        volume = conn.storageVolLookupByPath(path)
        mtime = _xml.parse(volume.XMLDesc(0)).findtext('target/timestamps/mtime')
        if mtime:
            return mtime
    except libvirt.libvirtError:
        pass
    if is_local:
        try:
            return '%d' % os.stat(path).st_mtime_ns
        except OSError:
            return None
    return None


def _as_ns(text):
    """libvirt writes '1700000000.123456789'; os.stat gives nanoseconds: one scale to compare."""
    if text is None:
        return None
    if '.' in text:
        seconds, fraction = text.split('.', 1)
        return int(seconds) * 10 ** 9 + int((fraction + '000000000')[:9])
    return int(text) if len(text) > 12 else int(text) * 10 ** 9


def observe(conn, dom, targets_files, is_local):
    """Where the guest stands now: its domain ID (-1 when off) and, per disk target, the write counters (running)
    or the file's modification time (off)."""
    active = bool(dom.isActive())
    disks = {}
    for target, path in targets_files:
        if active:
            try:
                stats = dom.blockStats(target)
                disks[target] = dict(wr_reqs=str(stats[2]), wr_bytes=str(stats[3]))
            except libvirt.libvirtError:
                disks[target] = dict(wr_reqs=None, wr_bytes=None)
        else:
            disks[target] = dict(mtime=_mtime(conn, path, is_local) if path else None)
    return dict(domain_id=str(dom.ID()) if active else '-1', disks=disks)


def _flags(active):
    if active:
        return libvirt.VIR_DOMAIN_AFFECT_LIVE
    return libvirt.VIR_DOMAIN_AFFECT_CONFIG


def mark(conn, dom, snapshot, targets_files, is_local):
    """Write the mark: `snapshot` is where the guest stands, as of now."""
    seen = observe(conn, dom, targets_files, is_local)
    active = seen['domain_id'] != '-1'
    root = etree.Element('since', snapshot=snapshot, domain_id=seen['domain_id'])
    for target in sorted(seen['disks']):
        values = dict((k, v) for k, v in seen['disks'][target].items() if v is not None)
        _xml.sub(root, 'disk', target=target, **values)
    dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, _xml.to_string(root), KEY, NAMESPACE, _flags(active))


def read_mark(dom, active):
    """The mark as written (in the live definition of a running guest, else the persistent one), or None."""
    try:
        text = dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, NAMESPACE, _flags(active))
    except libvirt.libvirtError:
        return None
    root = _xml.parse(text)
    disks = {}
    for disk in root.findall('disk'):
        disks[disk.get('target')] = dict((k, v) for k, v in disk.attrib.items() if k != 'target')
    return dict(snapshot=root.get('snapshot'), domain_id=root.get('domain_id'), disks=disks)


def changes_since(conn, dom, snapshot, targets_files, is_local):
    """Why the guest is no longer as `snapshot` left it (a list of reasons; empty: nothing changed).
    Assumes the caller checked that `snapshot` is the current one and the power state is right."""
    seen = observe(conn, dom, targets_files, is_local)
    recorded = read_mark(dom, seen['domain_id'] != '-1')
    if recorded is None or recorded['snapshot'] != snapshot:
        return ['no record that the guest was left at this snapshot by this module (reverted elsewhere?)']
    if seen['domain_id'] != recorded['domain_id']:
        return ['the guest was restarted since (domain ID %s, then %s)' % (seen['domain_id'], recorded['domain_id'])]
    reasons = []
    for target, now in sorted(seen['disks'].items()):
        then = recorded['disks'].get(target)
        if then is None:
            reasons.append('disk %s was not there then' % target)
        elif 'mtime' in now:
            if now['mtime'] is None or then.get('mtime') is None or _as_ns(now['mtime']) > _as_ns(then['mtime']):
                reasons.append('disk %s was modified since' % target)
        elif now['wr_reqs'] is None or (now['wr_reqs'], now['wr_bytes']) != (then.get('wr_reqs'), then.get('wr_bytes')):
            reasons.append('disk %s was written since' % target)
    return reasons
