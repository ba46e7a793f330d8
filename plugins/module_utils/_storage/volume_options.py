# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_volume's options, shared by kvm_volume and the items of kvm_volumes (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._storage.volume_model import FORMATS

# a volume is an overlay on a base image or made from a source, not both
MUTUALLY_EXCLUSIVE = [('backing', 'source')]


def argument_spec():
    """The options of one volume (without uri)."""
    return dict(
        pool=dict(type='str', required=True),
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        capacity=dict(type='raw'),
        format=dict(type='str', choices=list(FORMATS)),
        backing=dict(type='str'),
        source=dict(type='dict', options=dict(
            volume=dict(type='str'),
            pool=dict(type='str'),
            file=dict(type='path'),
            url=dict(type='str'),
            checksum=dict(type='str'))),
        owner=dict(type='raw'),
        group=dict(type='raw'),
        mode=dict(type='raw'),
    )
