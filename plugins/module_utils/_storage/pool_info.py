# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_pool_info: storage pools as kvm_pool reads them, changing nothing (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._storage import pool_model as model
from ansible_collections.kvmops.kvm.plugins.module_utils._storage.pool import pool_facts
from ansible_collections.kvmops.kvm.plugins.module_utils._storage.volume_model import human
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.listing import names_given, selected
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.resource import Resource

_SOURCE_KEYS = {'dir': (), 'netfs': ('host', 'path', 'format'), 'logical': ('name', 'devices')}


def pool_params(name, pool_model, active, autostart):
    """kvm_pool's options for this pool: given back to kvm_pool, they change nothing."""
    params = dict(name=name, state='active' if active else 'inactive', autostart=autostart)
    for key in ('type', 'path', 'owner', 'group', 'mode'):
        if pool_model.get(key) is not None:
            params[key] = pool_model[key]
    source = dict((key, pool_model['source'][key]) for key in _SOURCE_KEYS.get(pool_model['type'], ())
                  if pool_model['source'].get(key) not in (None, []))
    if source:
        params['source'] = source
    if pool_model['type'] == 'netfs' and pool_model.get('mount_options'):
        params['mount_options'] = pool_model['mount_options']
    return params


class PoolInfo(Resource):
    """The pools a kvm_pool_info run reports."""

    KIND = 'pool'

    def validate(self):
        self.wanted = names_given(self.params)

    def result(self):
        pools = []
        found_pools, missing = selected(self.conn.listAllStoragePools(), self.wanted)
        for pool in found_pools:
            root = self.persistent_definition(pool, libvirt.VIR_STORAGE_XML_INACTIVE)
            found = model.read(root)
            item = pool_facts(pool, pool.name())
            for key in ('capacity', 'allocation', 'available'):
                item[key + '_human'] = human(item[key]) if item[key] is not None else None
            item['volumes'] = sorted(v.name() for v in pool.listAllVolumes(0)) if item['active'] else None
            item.update(model=found, params=pool_params(pool.name(), found, item['active'], item['autostart']))
            if self.params.get('xml'):
                item['xml'] = _xml.to_string(root)
            pools.append(item)
        return dict(pools=pools, missing=missing)
