# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_host: whether the user QEMU runs as can open /dev/kvm, and libvirt's re-probing trap (private to kvmops.kvm).

libvirt probes QEMU as root and caches what it found. On every later call it asks whether /dev/kvm is
still usable by the QEMU user; when the probe saw KVM and that user cannot open the device, libvirt
throws the cache away and probes QEMU again: seconds for each call, on every call.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import grp
import os
import pwd
import re
import stat

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import files as _files

QEMU_CONF = '/etc/libvirt/qemu.conf'
CAPABILITY_CACHE = '/var/cache/libvirt/qemu/capabilities'
# the user QEMU runs as when qemu.conf names none: the distributions' build defaults
DEFAULT_USERS = ('libvirt-qemu', 'qemu')
_SETTING = re.compile(r'^\s*(user|group)\s*=\s*"([^"]*)"', re.MULTILINE)


def configured_identity(text):
    """(user, group) as qemu.conf sets them; None for what it leaves to the build default."""
    found = dict((key, value) for key, value in _SETTING.findall(text or ''))
    return found.get('user'), found.get('group')


def _resolve_user(name):
    """The passwd entry for a qemu.conf user ('name', '100' or '+0'), or None."""
    if name is None:
        for default in DEFAULT_USERS:
            entry = _resolve_user(default)
            if entry is not None:
                return entry
        return None
    try:
        if name.startswith('+'):
            return pwd.getpwuid(int(name[1:]))
        return pwd.getpwnam(name)
    except (KeyError, ValueError):
        if name.isdigit():
            try:
                return pwd.getpwuid(int(name))
            except KeyError:
                return None
        return None


def qemu_user():
    """The passwd entry of the user QEMU runs as here (qemu.conf, else the build default), or None."""
    return _resolve_user(configured_identity(_files.read_text(QEMU_CONF))[0])


def _resolve_group(name, user):
    if name is None:
        return user.pw_gid if user is not None else None
    try:
        if name.startswith('+') or name.isdigit():
            return int(name.lstrip('+'))
        return grp.getgrnam(name).gr_gid
    except (KeyError, ValueError):
        return None


def _supplementary_gids(user):
    return set(group.gr_gid for group in grp.getgrall() if user.pw_name in group.gr_mem)


def can_read_write(mode, owner, group, uid, gids):
    """Whether a process with `uid` and `gids` may open a file of this mode and ownership read-write."""
    if uid == 0:
        return True
    if uid == owner:
        return mode & 0o600 == 0o600
    if group in gids:
        return mode & 0o060 == 0o060
    return mode & 0o006 == 0o006


def _name_of_group(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _name_of_user(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def cache_says_kvm():
    """The capability cache files that record KVM as probed (libvirt re-checks /dev/kvm against these)."""
    found = []
    for entry in _files.list_dir(CAPABILITY_CACHE):
        path = '%s/%s' % (CAPABILITY_CACHE, entry)
        if entry.endswith('.xml') and "<flag name='kvm'/>" in (_files.read_text(path) or ''):
            found.append(path)
    return found


def qemu_device_access(device_path):
    """Who QEMU runs as and whether it can open the KVM device read-write; None fields when unknown."""
    user_name, group_name = configured_identity(_files.read_text(QEMU_CONF))
    user = _resolve_user(user_name)
    facts = dict(user=user.pw_name if user else user_name, group=None, device_owner=None, device_group=None,
                 device_mode=None, read_write=None, reprobing=False, capability_cache=[])
    try:
        info = os.stat(_files.host_path(device_path))
    except OSError:
        return facts
    facts.update(device_owner=_name_of_user(info.st_uid), device_group=_name_of_group(info.st_gid),
                 device_mode='%04o' % stat.S_IMODE(info.st_mode))
    if user is None:
        return facts
    gid = _resolve_group(group_name, user)
    facts['group'] = _name_of_group(gid) if gid is not None else group_name
    gids = _supplementary_gids(user) | set([gid, user.pw_gid])
    facts['read_write'] = can_read_write(stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid, user.pw_uid, gids)
    if not facts['read_write']:
        facts['capability_cache'] = cache_says_kvm()
        facts['reprobing'] = bool(facts['capability_cache'])
    return facts
