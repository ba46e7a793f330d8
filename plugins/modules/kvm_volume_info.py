#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: kvm_volume_info
short_description: Report volumes of libvirt storage pools as kvm_volume reads them
version_added: 0.2.0
description:
  - Lists the volumes of every active pool, or of the given pools, all of them or the named ones, with
    the same canonical model M(kvmops.kvm.kvm_volume) compares with (capacity in bytes, mode as V('0600')).
  - RV(volumes[].params) are M(kvmops.kvm.kvm_volume) options; given back to it, they change nothing.
  - Never changes anything (pools are not refreshed).
author:
  - kvmops.kvm maintainers (@kvmops)
extends_documentation_fragment:
  - kvmops.kvm.connection
  - kvmops.kvm.connection.info_attributes
options:
  pool:
    description:
      - Pools whose volumes to report (a name or a list); every active pool when not given.
      - A named pool that does not exist or is not active fails the task.
    type: list
    elements: str
  name:
    description: Names of the volumes to report (a name or a list); all when not given.
    type: list
    elements: str
  xml:
    description: Also return each volume's XML description.
    type: bool
    default: false
seealso:
  - module: kvmops.kvm.kvm_volume
  - module: kvmops.kvm.kvm_pool_info
'''

EXAMPLES = r'''
- name: Every volume of the default pool
  kvmops.kvm.kvm_volume_info:
    pool: default
  register: found

- name: One volume's size, for people
  kvmops.kvm.kvm_volume_info:
    pool: default
    name: web1.qcow2
  register: web1

- name: Show it
  ansible.builtin.debug:
    msg: "{{ web1.volumes[0].capacity_human }}"
'''

RETURN = r'''
volumes:
  description: The volumes, by pool and then by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the volume.
      type: str
      sample: web1.qcow2
    pool:
      description: Its pool.
      type: str
      sample: default
    path:
      description: Its path on the hypervisor.
      type: str
      sample: /var/lib/libvirt/images/web1.qcow2
    key:
      description: libvirt's key of the volume.
      type: str
    format:
      description: Its format.
      type: str
      sample: qcow2
    capacity:
      description: Virtual size in bytes (the unit kvm_volume's O(kvmops.kvm.kvm_volume#module:capacity) takes bare).
      type: int
      sample: 10737418240
    capacity_human:
      description: RV(volumes[].capacity) in binary units.
      type: str
      sample: 10 GiB
    allocation:
      description: Bytes it takes on disk.
      type: int
    allocation_human:
      description: RV(volumes[].allocation) in binary units.
      type: str
    backing:
      description: Path of its backing image, if it is an overlay.
      type: str
    owner:
      description: Numeric owner of its file.
      type: int
    group:
      description: Numeric group of its file.
      type: int
    mode:
      description: Mode of its file.
      type: str
      sample: '0600'
    incomplete:
      description:
        - True when an upload into the volume was cut off (its marker volume C(<name>.kvmops-partial) is there); it
          holds part of its image. Marker volumes themselves are not listed.
      type: bool
      sample: false
    model:
      description: The canonical model kvm_volume compares with.
      type: dict
    params:
      description: M(kvmops.kvm.kvm_volume) options describing the volume as it is.
      type: dict
      sample: {pool: default, name: web1.qcow2, state: present, capacity: 10737418240, format: qcow2, mode: '0600'}
    xml:
      description: The volume's XML description, with O(xml=true).
      type: str
      returned: when O(xml=true)
missing:
  description: Names given in O(name) found in none of the pools.
  returned: always
  type: list
  elements: str
  sample: []
'''

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.module import KvmModule, info_argument_spec
from ansible_collections.kvmops.kvm.plugins.module_utils._storage.volume_info import VolumeInfo


def argument_spec():
    return info_argument_spec(pool=dict(type='list', elements='str'))


def main():
    KvmModule(argument_spec()).run_info(VolumeInfo)


if __name__ == '__main__':
    main()
