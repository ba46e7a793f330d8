# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_domain_info: guests as kvm_domain reads them, changing nothing (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._domain import model
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.listing import names_given, selected
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.resource import Resource

_BOOT_DEVICES = ('hd', 'cdrom', 'network')
_DISK_OPTIONS = ('path', 'pool', 'volume', 'target', 'bus', 'format', 'cache', 'readonly')


def power_state(dom):
    """kvm_domain's state for the guest as it is: running, paused or shutdown (off)."""
    state = dom.state()[0]
    if state in (libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PMSUSPENDED):
        return 'paused'
    if state in (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_BLOCKED, libvirt.VIR_DOMAIN_SHUTDOWN):
        return 'running'
    return 'shutdown'


def _disks(disks):
    result = []
    for disk in disks:
        item = dict((key, disk[key]) for key in _DISK_OPTIONS if disk.get(key) is not None)
        if item.get('pool'):
            item.pop('path', None)
        elif not item.get('path'):
            return None   # a disk without a path or volume (network storage): not expressible as options
        result.append(item)
    return result


def _interfaces(interfaces):
    result = []
    for iface in interfaces:
        if iface['type'] not in ('network', 'bridge', 'direct') or not iface.get('source'):
            return None   # e.g. a user-mode NIC: the options cannot say it, so the list is left out
        item = {iface['type']: iface['source']}
        for key in ('model', 'mac', 'portgroup', 'link_state'):
            if iface.get(key) is not None:
                item[key] = iface[key]
        result.append(item)
    return result


def domain_params(name, found, state, autostart):
    """kvm_domain's options for this guest: given back to kvm_domain, they change nothing. Devices the
    options cannot express leave their whole list out (a list given to kvm_domain is the guest's list)."""
    params = dict(name=name, state=state, autostart=autostart)
    if found.get('type') in ('kvm', 'qemu'):
        params['type'] = found['type']
    for key in ('memory', 'max_memory', 'vcpus', 'max_vcpus', 'machine', 'firmware', 'kernel', 'initrd', 'cmdline'):
        if found.get(key) is not None:
            params[key] = found[key]
    if (found.get('cpu') or {}).get('mode'):
        params['cpu'] = dict((k, v) for k, v in found['cpu'].items() if v is not None)
    boot = [dev for dev in found.get('boot') or [] if dev in _BOOT_DEVICES]
    if boot and not found.get('kernel'):
        params['boot'] = boot
    disks = _disks(found.get('disks') or [])
    if disks is not None:
        params['disks'] = disks
    if found.get('cdroms'):
        params['cdrom'] = found['cdroms'][0].get('path') or ''
    interfaces = _interfaces(found.get('interfaces') or [])
    if interfaces is not None:
        params['interfaces'] = interfaces
    graphics = found.get('graphics')
    if graphics:
        params['graphics'] = dict((k, v) for k, v in graphics.items() if k != 'password' and v is not None)
    return params


def public_model(found):
    """The compared model without secrets (graphics passwords are never returned)."""
    result = model.comparable(found)
    if result.get('graphics') and result['graphics'].get('password'):
        result['graphics'] = dict(result['graphics'], password='********')
    return result


class DomainInfo(Resource):
    """The guests a kvm_domain_info run reports."""

    KIND = 'domain'

    def validate(self):
        self.wanted = names_given(self.params)

    def result(self):
        domains = []
        found_domains, missing = selected(self.conn.listAllDomains(0), self.wanted)
        for dom in found_domains:
            root = self.persistent_definition(dom, libvirt.VIR_DOMAIN_XML_INACTIVE)
            found = model.read(root)
            state, autostart = power_state(dom), bool(dom.autostart())
            item = dict(name=dom.name(), uuid=dom.UUIDString(), state=state, autostart=autostart,
                        persistent=bool(dom.isPersistent()), type=found.get('type'), memory=found.get('memory'),
                        vcpus=found.get('vcpus'), model=public_model(found),
                        params=domain_params(dom.name(), found, state, autostart))
            if self.params.get('xml'):
                item['xml'] = _xml.to_string(root)   # read without the secure flag: no graphics password
            domains.append(item)
        return dict(domains=domains, missing=missing)
