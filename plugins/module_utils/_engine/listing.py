# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The objects an info module reports: all of a kind, or the named ones (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import validate as check


def names_given(params, parameter='name'):
    """The names asked for (checked), or [] for all."""
    return [check.object_name('%s[%d]' % (parameter, index), name)
            for index, name in enumerate(params.get(parameter) or [])]


def selected(listed, wanted, name_of=lambda obj: obj.name()):
    """(objects, missing): those of `listed` named in `wanted` (all when it is empty), in name order, and the
    wanted names that are not there."""
    by_name = dict((name_of(obj), obj) for obj in listed)
    missing = [name for name in wanted if name not in by_name]
    names = sorted(set(wanted) - set(missing)) if wanted else sorted(by_name)
    return [by_name[name] for name in names], missing
