# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_volume_info: volumes as kvm_volume reads them, changing nothing (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._storage import volume_model as model
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.listing import names_given, selected
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.resource import Resource
from ansible_collections.kvmops.kvm.plugins.module_utils._storage.pool import lookup_pool
from ansible_collections.kvmops.kvm.plugins.module_utils._storage.volume import PARTIAL_SUFFIX


def volume_params(pool_name, name, volume_model):
    """kvm_volume's options for this volume: given back to kvm_volume, they change nothing. A capacity under
    1 MiB is written with its unit (a bare number that small is refused as a likely mistake)."""
    size = volume_model['capacity']
    params = dict(pool=pool_name, name=name, state='present',
                  capacity=size if size is None or size >= model.SMALLEST_BARE else '%dB' % size)
    for key in ('format', 'backing', 'owner', 'group', 'mode'):
        if volume_model.get(key) is not None:
            params[key] = volume_model[key]
    return params


class VolumeInfo(Resource):
    """The volumes a kvm_volume_info run reports."""

    KIND = 'volume'

    def validate(self):
        self.pool_names = names_given(self.params, 'pool')
        for index, name in enumerate(self.params.get('name') or []):
            model.volume_name('name[%d]' % index, name)
        self.wanted = list(self.params.get('name') or [])

    def _pools(self):
        if not self.pool_names:
            return [p for p in sorted(self.conn.listAllStoragePools(), key=lambda p: p.name()) if p.isActive()]
        pools = []
        for index, name in enumerate(self.pool_names):
            pool = lookup_pool(self.conn, name)
            if pool is None:
                raise ParameterError('pool[%d]' % index, "there is no pool '%s'" % name)
            if not pool.isActive():
                raise ParameterError('pool[%d]' % index, "pool '%s' is not active: its volumes cannot be listed"
                                     % name)
            pools.append(pool)
        return pools

    def result(self):
        volumes, seen = [], set()
        for pool in self._pools():
            every = pool.listAllVolumes(0)
            markers = set(vol.name() for vol in every if vol.name().endswith(PARTIAL_SUFFIX))
            found, _missing = selected([vol for vol in every if vol.name() not in markers], self.wanted)
            for vol in found:
                seen.add(vol.name())
                root = _xml.parse(vol.XMLDesc(0))
                read = model.read(root)
                item = dict(name=vol.name(), pool=pool.name(), key=vol.key(), model=read,
                            params=volume_params(pool.name(), vol.name(), read),
                            incomplete=vol.name() + PARTIAL_SUFFIX in markers)
                item.update((key, read[key]) for key in ('path', 'format', 'capacity', 'allocation', 'backing',
                                                         'owner', 'group', 'mode'))
                for key in ('capacity', 'allocation'):
                    item[key + '_human'] = model.human(item[key]) if item[key] is not None else None
                if self.params.get('xml'):
                    item['xml'] = _xml.to_string(root)
                volumes.append(item)
        return dict(volumes=volumes, missing=[name for name in self.wanted if name not in seen])
