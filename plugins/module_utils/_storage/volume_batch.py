# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the earlier items of a kvm_volumes batch will make: a base image or clone source not there yet (private to kvmops.kvm).

A batch creates its volumes in list order, so an overlay (backing) or a clone (source.volume) may name a volume an
earlier item creates; it is validated against that promise, and resolved against the real volume when created.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError


def _matches(other, pool_name, value):
    if value.startswith('/'):
        path = promised_path(other)
        return path is not None and os.path.normpath(path) == os.path.normpath(value)
    return other.pool_name == pool_name and other.name == value


def made_earlier(volume, pool_name, value, option):
    """The earlier item of the batch that creates the volume `value` (a name in `pool_name`, or an absolute path),
    or None. An earlier item that deletes it is bad input for `option`: this one would need what that one removes."""
    found = None
    for other in volume.earlier:
        if getattr(other, 'KIND', None) != volume.KIND or not _matches(other, pool_name, value):
            continue
        if other.state == 'absent':
            if other.vol is not None:
                raise ParameterError(option, "volume '%s' is deleted by an earlier item of this batch (state: absent)"
                                             % other.label)
            found = None
        elif other.vol is None:
            found = other   # not there yet: the earlier item creates it
    return found


def promised_path(other):
    """Where an earlier item's new volume will be (None when its pool has no target path)."""
    directory = other.pool_directory()
    return os.path.join(directory, other.name) if directory else None


def promise(other):
    """What an earlier item's new volume will be, as model.read() gives a volume: format and capacity None when
    not known before it is made (a download's)."""
    fmt = other.desired.get('format', 'raw' if other.pool_type == 'logical' else None)
    size = other.desired.get('capacity') or (other.source.size if other.source else None)
    return dict(path=promised_path(other), format=fmt, capacity=size, backing=None)
