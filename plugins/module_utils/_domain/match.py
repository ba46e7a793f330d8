# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Match the desired devices to the guest's by stable keys and fill in what the user left out (private).

Disks match by target, else by path or volume; NICs by MAC, else by position. What a match supplies
(target, MAC, bus, format) is kept, so nothing libvirt or an earlier run chose is regenerated.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib

from ansible_collections.kvmops.kvm.plugins.module_utils._domain.model import DISK_PREFIX


def generated_mac(name, index, taken):
    """A MAC for a NIC the user gave none: derived from guest and position, so check mode and the real run
    agree, and skipping any MAC another device on the host already has."""
    counter = 0
    while True:
        digest = hashlib.sha256(('%s/%d/%d' % (name, index, counter)).encode('utf-8')).hexdigest()
        mac = '52:54:00:%s:%s:%s' % (digest[0:2], digest[2:4], digest[4:6])
        if mac not in taken:
            return mac
        counter += 1


def _free_target(bus, used):
    prefix = DISK_PREFIX.get(bus, 'sd')
    letter = 0
    while '%s%s' % (prefix, chr(ord('a') + letter)) in used:
        letter += 1
    target = '%s%s' % (prefix, chr(ord('a') + letter))
    used.add(target)
    return target


def _disk_key(disk):
    return ('volume', disk.get('pool'), disk.get('volume')) if disk.get('volume') else ('path', disk.get('path'))


def _file_of(disk, store):
    """The file a disk is, however it is named: its path, or the path of the pool volume it names (None when that
    pool or volume is not there)."""
    return store.volume_path(disk['pool'], disk['volume']) if disk.get('volume') else disk.get('path')


def _complete_disks(wanted, current, used, domain):
    by_target = dict((d['target'], d) for d in current)
    by_key = dict((_disk_key(d), d) for d in current)
    by_file = None
    result = []
    for disk in wanted:
        match = by_target.get(disk['target']) if disk.get('target') else by_key.get(_disk_key(disk))
        done = dict(disk)
        if match is None and not disk.get('target') and current:
            # a pool volume and the file at its path are one disk, whichever way the task and the guest name it
            # (kept as the guest names it); asked only when the names differ, so a usual run costs no lookup
            if by_file is None:
                by_file = dict((_file_of(d, domain.store), d) for d in current)
                by_file.pop(None, None)
            match = by_file.get(_file_of(disk, domain.store))
            if match is not None:
                done.update(path=match.get('path'), pool=match.get('pool'), volume=match.get('volume'))
        if match is not None:
            done['target'] = match['target']
        for key in ('bus', 'format', 'cache', 'readonly'):
            if done.get(key) is None:
                done[key] = match.get(key) if match is not None else None
        done['bus'] = done['bus'] or 'virtio'
        done['readonly'] = bool(done['readonly'])
        if done['format'] is None and done.get('path') and domain.store.path_exists(done['path']):
            done['format'] = domain.store.file_format(done['path'])
        done['format'] = done['format'] or 'qcow2'
        result.append(done)
    for done in result:
        if not done.get('target'):
            done['target'] = _free_target(done['bus'], used)
    return result


def _cdrom_bus(machine):
    return 'sata' if machine and 'q35' in machine else 'ide'


def _complete_cdroms(desired, current, used, seed_path, machine):
    users = [c for c in current if c.get('path') != seed_path or seed_path is None]
    seeds = [c for c in current if seed_path is not None and c.get('path') == seed_path]
    bus = _cdrom_bus(machine)
    result = []
    if 'cdrom' in desired:
        drive = dict(users[0]) if users else {'target': None, 'bus': bus}
        drive['path'] = desired['cdrom'] or None
        if not drive['target']:
            drive['target'] = _free_target(bus, used)
        result.append(drive)
        result.extend(users[1:])
    else:
        result.extend(users)
    if seed_path is not None:
        drive = dict(seeds[0]) if seeds else {'target': _free_target(bus, used), 'bus': bus}
        drive['path'] = seed_path
        result.append(drive)
    return [dict(target=c['target'], bus=c['bus'], path=c.get('path')) for c in result]


def _complete_interfaces(wanted, current, domain):
    explicit = set(i['mac'] for i in wanted if i.get('mac'))
    claimed = set(explicit)
    result = []
    for index, iface in enumerate(wanted):
        done = dict(iface)
        if not done.get('mac'):
            positional = current[index]['mac'] if index < len(current) else None
            if positional and positional not in claimed:
                done['mac'] = positional
            else:
                done['mac'] = generated_mac(domain.name, index, set(domain.used_macs) | claimed)
            claimed.add(done['mac'])
        result.append(done)
    return result


def complete(desired, current, domain):
    """`desired` with every device keyed and filled in against `current` (a model, or None for a new guest)."""
    current = current or {}
    result = dict((k, v) for k, v in desired.items() if k not in ('cdrom', 'seed'))
    used = set(d['target'] for d in current.get('disks', []) + current.get('cdroms', []))
    used |= set(d['target'] for d in desired.get('disks', []) if d.get('target'))
    if 'disks' in desired:
        result['disks'] = _complete_disks(desired['disks'], current.get('disks', []), used, domain)
    if 'cdrom' in desired or 'seed' in desired:
        machine = desired.get('machine') or current.get('machine')
        result['cdroms'] = _complete_cdroms(desired, current.get('cdroms', []), used, desired.get('seed'), machine)
    if 'interfaces' in desired:
        result['interfaces'] = _complete_interfaces(desired['interfaces'], current.get('interfaces', []), domain)
    return result
