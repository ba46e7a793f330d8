# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Owner, group and mode of a pool's target or a volume's file: read from libvirt's XML, given by the
user, set on the host (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import grp
import os
import pwd
import re

from ansible.module_utils.six import integer_types

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import validate as check
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError, ParameterError

KEYS = ('owner', 'group', 'mode')
_MODE_RE = re.compile(r'^0?[0-7]{3,4}$')


def canonical_mode(value):
    """'755', '0755', 0o755 (an int, as YAML reads 0755) -> '0755'."""
    if isinstance(value, integer_types) and not isinstance(value, bool):
        return '%04o' % value
    text = str(value).strip()
    if text.startswith('0o'):
        text = text[2:]
    if not _MODE_RE.match(text):
        raise ValueError(value)
    return '%04o' % int(text, 8)


def identity(parameter, value, local, kind):
    """A user or group (name or number) as a numeric ID; names resolve only on the pool's own host."""
    number = check.numeric_id(parameter, value, kind)
    if number is not None:
        return number
    if not local:
        raise ParameterError(parameter, "'%s': give a numeric %s ID when the pool's host is remote (names "
                                        "resolve on the host the module runs on)" % (value, kind))
    try:
        return (pwd.getpwnam(value).pw_uid if kind == 'user' else grp.getgrnam(value).gr_gid)
    except KeyError:
        raise ParameterError(parameter, "no %s '%s' on this host" % (kind, value))


def given(params, local, example_mode):
    """owner/group/mode as the models hold them: only those the user gave."""
    found = {}
    if params.get('owner') is not None:
        found['owner'] = identity('owner', params['owner'], local, 'user')
    if params.get('group') is not None:
        found['group'] = identity('group', params['group'], local, 'group')
    if params.get('mode') is not None:
        found['mode'] = check.file_mode('mode', params['mode'])
    return found


def _int_text(element, tag):
    text = element.findtext(tag) if element is not None else None
    if text is None or text.strip() in ('', '-1'):
        return None
    return int(text.strip())


def read(target):
    """owner, group, mode of a <target> element (None: not set)."""
    perms = target.find('permissions') if target is not None else None
    mode = perms.findtext('mode') if perms is not None else None
    return {'owner': _int_text(perms, 'owner'), 'group': _int_text(perms, 'group'),
            'mode': canonical_mode(mode.strip()) if mode and mode.strip() else None}


def plan_set(plan, kind, label, path, owner=None, group=None, mode=None, detail=None, then=None):
    """Plan 'set permissions of' a pool's or volume's file on this host: None leaves that one as it is;
    `then` runs after (a volume's pool is refreshed)."""
    def apply():
        try:
            if owner is not None or group is not None:
                os.chown(path, -1 if owner is None else owner, -1 if group is None else group)
            if mode:
                os.chmod(path, int(mode, 8))
        except OSError as exc:
            raise KvmError('set permissions of', kind, label, '%s: %s' % (path, exc.strerror))
        if then is not None:
            then()
    plan.add('set permissions of', kind, label, apply, detail)
