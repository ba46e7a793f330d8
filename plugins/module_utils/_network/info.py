# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_network_info: networks as kvm_network reads them, changing nothing (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._network import model
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.listing import names_given, selected
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.resource import Resource


def network_params(name, network_model, active, autostart):
    """kvm_network's options for this network: given back to kvm_network, they change nothing."""
    params = dict(name=name, state='active' if active else 'inactive', autostart=autostart)
    for key in ('mode', 'bridge', 'forward_dev', 'mtu', 'domain', 'ipv4', 'ipv6', 'dns_hosts'):
        if network_model.get(key) is not None:
            params[key] = network_model[key]
    if params.get('mode') == 'bridge':
        for key in ('mtu', 'domain', 'dns_hosts'):
            params.pop(key, None)
    return params


class NetworkInfo(Resource):
    """The networks a kvm_network_info run reports."""

    KIND = 'network'

    def validate(self):
        self.wanted = names_given(self.params)

    def result(self):
        networks = []
        found_nets, missing = selected(self.conn.listAllNetworks(), self.wanted)
        for net in found_nets:
            root = self.persistent_definition(net, libvirt.VIR_NETWORK_XML_INACTIVE)
            found = model.read(root)
            active, autostart = bool(net.isActive()), bool(net.autostart())
            try:
                bridge = net.bridgeName() if active else found.get('bridge')
            except libvirt.libvirtError:
                bridge = found.get('bridge')
            item = dict(name=net.name(), uuid=net.UUIDString(), active=active, autostart=autostart,
                        persistent=bool(net.isPersistent()), bridge=bridge, model=found,
                        params=network_params(net.name(), found, active, autostart))
            if self.params.get('xml'):
                item['xml'] = _xml.to_string(root)
            networks.append(item)
        return dict(networks=networks, missing=missing)
