# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare a desired model with a live one, field by field (private to kvmops.kvm).

Models are canonical dicts (see the per-resource model files). Only keys present in the desired
model are compared; nested dicts are compared key by key the same way; any other value (lists
already sorted by their stable keys, strings, numbers) is compared whole.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class Difference(object):
    def __init__(self, path, before, after):
        self.path = path
        self.before = before
        self.after = after

    def __repr__(self):
        return 'Difference(%r, %r, %r)' % (self.path, self.before, self.after)


def differences(desired, current, prefix=''):
    """The list of Differences between the specified part of `desired` and `current`."""
    found = []
    for key in sorted(desired):
        want = desired[key]
        have = current.get(key) if isinstance(current, dict) else None
        path = prefix + key
        if isinstance(want, dict) and isinstance(have, dict):
            found.extend(differences(want, have, path + '.'))
        elif want != have:
            found.append(Difference(path, have, want))
    return found


def merged(current, desired):
    """`current` with the specified part of `desired` laid over it (what the result will be)."""
    if not isinstance(current, dict) or not isinstance(desired, dict):
        return desired
    result = dict(current)
    for key, value in desired.items():
        result[key] = merged(current.get(key), value) if isinstance(value, dict) else value
    return result
