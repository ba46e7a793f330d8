# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Guest snapshots: libvirt's snapshot XML <-> the canonical dict the module compares and returns (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import os

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import etree

TYPES = ('internal', 'external')
CHILDREN = ('keep', 'delete')
# settings a snapshot has for good once taken: compared, never changed in place
SETTINGS = ('description', 'memory', 'disk_only', 'type')


def snapshotted_disks(domain_root):
    """The guest's disks a snapshot covers: writable disks that do not opt out (snapshot='no').
    Each: target, format (None when undeclared), source type, file."""
    disks = []
    for disk in domain_root.findall('devices/disk'):
        if disk.get('device', 'disk') != 'disk' or disk.find('readonly') is not None or disk.get('snapshot') == 'no':
            continue
        source = disk.find('source')
        driver = disk.find('driver')
        disks.append(dict(target=disk.find('target').get('dev'),
                          format=driver.get('type') if driver is not None else None,
                          source_type=disk.get('type', 'file'),
                          file=source.get('file') if source is not None else None))
    return disks


def overlay_path(disk_file, name):
    """Where an external snapshot's overlay goes: libvirt's own choice, the disk's name with the snapshot name as
    suffix in place of its extension (/images/g1.qcow2 -> /images/g1.before)."""
    base, _ext = os.path.splitext(disk_file)
    return '%s.%s' % (base, name)


def memory_path(domain_name, disk_file, name):
    """Where an external snapshot keeps the guest's RAM: beside its first disk."""
    return os.path.join(os.path.dirname(disk_file), '%s.%s.mem' % (domain_name, name))


def new_definition(name, description, memory, external, disks, domain_name):
    """The <domainsnapshot> to create: internal or external disks (overlay files named as libvirt would), RAM
    kept or not."""
    root = etree.Element('domainsnapshot')
    _xml.sub(root, 'name').text = name
    if description:
        _xml.sub(root, 'description').text = description
    if memory and external:
        _xml.sub(root, 'memory', snapshot='external', file=memory_path(domain_name, disks[0]['file'], name))
    elif not memory:
        _xml.sub(root, 'memory', snapshot='no')
    element = _xml.sub(root, 'disks')
    for disk in disks:
        if external:
            item = _xml.sub(element, 'disk', name=disk['target'], snapshot='external', type='file')
            _xml.sub(item, 'driver', type='qcow2')
            _xml.sub(item, 'source', file=overlay_path(disk['file'], name))
        else:
            _xml.sub(element, 'disk', name=disk['target'], snapshot='internal')
    return root


def _iso(epoch):
    if epoch is None:
        return None
    return datetime.datetime.utcfromtimestamp(epoch).strftime('%Y-%m-%dT%H:%M:%SZ')


def read(root):
    """A snapshot's XML as the module's dict (without its place in the tree: parent, children, current)."""
    memory = root.find('memory')
    memory_mode = memory.get('snapshot') if memory is not None else None
    state = root.findtext('state')
    if memory_mode is None:   # older definitions: only the state says whether RAM was kept
        memory_mode = 'internal' if state in ('running', 'paused') else 'no'
    disks = []
    for disk in root.findall('disks/disk'):
        source = disk.find('source')
        disks.append(dict(name=disk.get('name'), snapshot=disk.get('snapshot') or 'internal',
                          file=source.get('file') if source is not None else None))
    external = memory_mode == 'external' or any(d['snapshot'] == 'external' for d in disks)
    created = root.findtext('creationTime')
    created = int(created) if created else None
    return dict(
        name=root.findtext('name'),
        description=root.findtext('description') or None,
        state=state,
        created=_iso(created),
        creation_time=created,
        memory=memory_mode != 'no',
        memory_file=memory.get('file') if memory is not None else None,
        disk_only=memory_mode == 'no',
        type='external' if external else 'internal',
        disks=disks,
        parent=root.findtext('parent/name'),
    )


def differing_settings(wanted, have):
    """The settings a user gave that an existing snapshot does not have: [(setting, have, wanted)]."""
    found = []
    for key in SETTINGS:
        if wanted.get(key) is None or key == 'disk_only' and not wanted[key]:
            continue
        now = have.get(key)
        if key == 'description':
            now = now or ''
        if wanted[key] != now:
            found.append((key, have.get(key), wanted[key]))
    return found


def _age_order(snapshots):
    """Oldest first: by creation time (seconds; one not taken yet is the newest), then a parent before its children,
    then by name."""
    def depth(item):
        seen, count = set(), 0
        while item['parent'] in snapshots and item['parent'] not in seen:
            seen.add(item['parent'])
            item = snapshots[item['parent']]
            count += 1
        return count

    def key(item):
        created = item['creation_time']
        return (created is None, created or 0, depth(item), item['name'])
    return sorted(snapshots.values(), key=key)


def tree(snapshots, current):
    """The whole tree as a list ordered oldest first; each with its parent, direct children and whether it is the
    domain's current snapshot. `snapshots`: name -> read() dict."""
    children = dict((name, []) for name in snapshots)
    for item in snapshots.values():
        if item['parent'] in children:
            children[item['parent']].append(item['name'])
    ordered = _age_order(snapshots)
    position = dict((item['name'], index) for index, item in enumerate(ordered))
    result = []
    for item in ordered:
        kids = sorted(children[item['name']], key=position.get)
        result.append(dict(item, children=kids, current=item['name'] == current))
    return result


def oldest_beyond(snapshots, keep, spared):
    """The names to prune so that at most `keep` remain, oldest first; never those in `spared`."""
    ordered = [item['name'] for item in _age_order(snapshots)]
    excess = len(ordered) - keep
    doomed = []
    for name in ordered:
        if excess <= 0:
            break
        if name in spared:
            continue
        doomed.append(name)
        excess -= 1
    return doomed
