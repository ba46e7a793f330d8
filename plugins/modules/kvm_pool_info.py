#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: kvm_pool_info
short_description: Report libvirt storage pools as kvm_pool reads them
version_added: 0.2.0
description:
  - Lists every storage pool, or the named ones, with their state, sizes, volumes and the same canonical
    model M(kvmops.kvm.kvm_pool) compares with.
  - RV(pools[].params) are M(kvmops.kvm.kvm_pool) options; given back to it, they change nothing.
  - Never changes anything. The pools are not refreshed, so volumes made outside libvirt show after the next
    M(kvmops.kvm.kvm_volume) task or pool refresh.
author:
  - kvmops.kvm maintainers (@kvmops)
extends_documentation_fragment:
  - kvmops.kvm.connection
  - kvmops.kvm.connection.info_attributes
options:
  name:
    description: Names of the pools to report (a name or a list); all pools when not given.
    type: list
    elements: str
  xml:
    description: Also return each pool's persistent XML definition.
    type: bool
    default: false
seealso:
  - module: kvmops.kvm.kvm_pool
  - module: kvmops.kvm.kvm_volume_info
'''

EXAMPLES = r'''
- name: All pools
  kvmops.kvm.kvm_pool_info:
  register: found

- name: Free space of the default pool
  kvmops.kvm.kvm_pool_info:
    name: default
  register: default_pool

- name: Fail early when it is short of space
  ansible.builtin.assert:
    that: default_pool.pools[0].available > 20 * 1024 ** 3
    fail_msg: "default has only {{ default_pool.pools[0].available_human }} free"
'''

RETURN = r'''
pools:
  description: The pools, in name order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the pool.
      type: str
      sample: default
    uuid:
      description: UUID of the pool.
      type: str
    type:
      description: Pool type.
      type: str
      sample: dir
    path:
      description: Target path.
      type: str
      sample: /var/lib/libvirt/images
    active:
      description: Whether it is started.
      type: bool
    autostart:
      description: Whether it starts with the daemon.
      type: bool
    persistent:
      description: Whether it has a persistent definition.
      type: bool
    capacity:
      description: Size in bytes (null while inactive).
      type: int
    allocation:
      description: Bytes in use (null while inactive).
      type: int
    available:
      description: Free bytes (null while inactive).
      type: int
    capacity_human:
      description: RV(pools[].capacity) in binary units.
      type: str
      sample: 98.3 GiB
    allocation_human:
      description: RV(pools[].allocation) in binary units.
      type: str
    available_human:
      description: RV(pools[].available) in binary units.
      type: str
    volumes:
      description: Names of its volumes (null while inactive).
      type: list
      elements: str
    model:
      description: The persistent definition as the canonical model kvm_pool compares with.
      type: dict
      sample: {type: dir, path: /var/lib/libvirt/images, owner: 0, group: 0, mode: '0711',
               source: {host: null, path: null, format: null, name: null, devices: []}, mount_options: []}
    params:
      description: M(kvmops.kvm.kvm_pool) options describing the pool as it is.
      type: dict
      sample: {name: default, state: active, autostart: true, type: dir, path: /var/lib/libvirt/images}
    xml:
      description: The persistent XML definition, with O(xml=true).
      type: str
      returned: when O(xml=true)
missing:
  description: Names given in O(name) that no pool has.
  returned: always
  type: list
  elements: str
  sample: []
'''

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.module import KvmModule, info_argument_spec
from ansible_collections.kvmops.kvm.plugins.module_utils._storage.pool_info import PoolInfo


def argument_spec():
    return info_argument_spec()


def main():
    KvmModule(argument_spec()).run_info(PoolInfo)


if __name__ == '__main__':
    main()
