# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a migration needs to know of a guest, read from its domain XML: disks, NICs, CPU, memory
(private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import posixpath

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml

# cache modes that bypass the host page cache: the destination reads what the source wrote
SAFE_CACHE_MODES = ('none', 'directsync')
# network protocols whose cache coherence libvirt itself accepts for migration
COHERENT_PROTOCOLS = ('rbd',)


def disks(root):
    """Every disk of the guest as a dict: target, device, kind (file/block/network/volume/dir), path (file and
    block), protocol/url (network), pool/volume (volume), cache, readonly, shareable, backing (paths), backing_format (of the first)."""
    found = []
    for disk in root.findall('devices/disk'):
        source = disk.find('source')
        driver = disk.find('driver')
        item = dict(
            target=disk.find('target').get('dev') if disk.find('target') is not None else None,
            device=disk.get('device', 'disk'),
            kind=disk.get('type', 'file'),
            path=None, protocol=None, url=None, pool=None, volume=None,
            cache=driver.get('cache') if driver is not None else None,
            format=driver.get('type') if driver is not None else None,
            readonly=disk.find('readonly') is not None,
            shareable=disk.find('shareable') is not None,
            backing=[], backing_format=None,
        )
        if source is not None:
            if item['kind'] == 'file':
                item['path'] = source.get('file')
            elif item['kind'] == 'block':
                item['path'] = source.get('dev')
            elif item['kind'] == 'dir':
                item['path'] = source.get('dir')
            elif item['kind'] == 'network':
                item['protocol'] = source.get('protocol')
                host = source.find('host')
                item['url'] = '%s://%s/%s' % (item['protocol'], host.get('name') if host is not None else '',
                                              (source.get('name') or '').lstrip('/'))
            elif item['kind'] == 'volume':
                item['pool'] = source.get('pool')
                item['volume'] = source.get('volume')
        backing = disk.find('backingStore')
        if backing is not None and backing.find('format') is not None:
            item['backing_format'] = backing.find('format').get('type')
        while backing is not None and backing.find('source') is not None:
            item['backing'].append(backing.find('source').get('file') or backing.find('source').get('dev'))
            backing = backing.find('backingStore')
        found.append(item)
    return found


def label(disk):
    """How messages name a disk: 'disk vda (/path)'."""
    where = disk['path'] or disk['url'] or ('%s/%s' % (disk['pool'], disk['volume']) if disk['pool'] else 'empty')
    return "%s %s (%s)" % (disk['device'], disk['target'], where)


def is_empty(disk):
    return not (disk['path'] or disk['url'] or disk['volume'])


def cache_is_safe(disk):
    """Whether a disk left on shared storage keeps its data coherent across the switch-over."""
    if disk['readonly'] or disk['shareable'] or is_empty(disk):
        return True
    if disk['protocol'] in COHERENT_PROTOCOLS:
        return True
    return (disk['cache'] or 'default') in SAFE_CACHE_MODES


def directory(disk):
    return posixpath.dirname(disk['path']) if disk['path'] else None


def nics(root):
    """Every NIC as a dict: mac, kind, network, bridge, dev (direct), portgroup."""
    found = []
    for nic in root.findall('devices/interface'):
        source = nic.find('source')
        mac = nic.find('mac')
        item = dict(mac=mac.get('address') if mac is not None else None, kind=nic.get('type'),
                    network=None, bridge=None, dev=None, portgroup=None)
        if source is not None:
            item['network'] = source.get('network') if item['kind'] == 'network' else None
            item['bridge'] = source.get('bridge')
            item['dev'] = source.get('dev') if item['kind'] == 'direct' else None
            item['portgroup'] = source.get('portgroup')
        found.append(item)
    return found


def cpu(root):
    """(mode, the <cpu> element as XML text) or (None, None) when the guest has no CPU definition."""
    element = root.find('cpu')
    if element is None:
        return None, None
    return element.get('mode', 'custom'), _xml.to_string(element)


def memory_bytes(root):
    """The guest's memory (its <memory>, what it may use), in bytes."""
    element = root.find('memory')
    return _xml.to_bytes(element.text, element.get('unit', 'KiB')) if element is not None else 0


def machine(root):
    os_type = root.find('os/type')
    if os_type is None:
        return None, None
    return os_type.get('arch'), os_type.get('machine')
