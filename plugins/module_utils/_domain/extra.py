# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The parts of a full domain `xml` that the typed model does not cover (private to kvmops.kvm).

Clock, features, on_* actions, cputune, controllers, channels, video... are compared by meaning, the engine's
way (_engine/extra.py): an element is laid over the definition, a device replaces its counterpart or is added.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import extra as _extra

# what the domain model reads and compares itself
MODELLED = ('name', 'uuid', 'memory', 'currentMemory', 'vcpu')
MODELLED_PARTS = {'os': (('firmware',), ('type', 'loader', 'nvram', 'boot', 'kernel', 'initrd', 'cmdline')),
                  'cpu': (('mode',), ('model',))}
MODELLED_DEVICES = ('disk', 'interface', 'graphics')


class ExtraElements(_extra.ExtraElements):
    """The unmodelled elements of the user's domain XML."""

    def __init__(self, root):
        super(ExtraElements, self).__init__(root, MODELLED, parts=MODELLED_PARTS,
                                            containers={'devices': MODELLED_DEVICES})
