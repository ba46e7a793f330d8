# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_domain's checks against the host, before anything changes (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError, ParameterError
from ansible_collections.kvmops.kvm.plugins.module_utils._host.cpu import kvm_usable_here


class HostChecks(object):
    """Reads what the host offers (once) and holds the desired guest against it."""

    def __init__(self, domain):
        self.module = domain.module
        self.domain = domain
        self.params = domain.params   # this guest's options; the uri is the module's
        self.desired = domain.desired
        self.conn = domain.conn

    def run(self):
        """Each check asks the host only when the task needs the answer: a guest that exists is held against
        the host's capabilities only for values that differ from its definition."""
        self.current = self.domain.definition_model() if self.domain.dom is not None else None
        if self.current is None or self._needs_domain_capabilities():
            self.domain.domain_type = self._domain_type()
            caps = self._domain_capabilities(self.domain.domain_type)
            self._vcpus(caps)
            self._cpu(caps)
            self._firmware(caps)
        elif self.params.get('type') == 'kvm':
            self._domain_type()   # kvm must really work here, whatever the guest is today
        self._machine()
        self._memory()
        self._files()
        self._disks()
        self._interfaces()

    def _changes(self, key):
        return key in self.desired and (self.current is None or self.desired[key] != self.current.get(key))

    def _needs_domain_capabilities(self):
        cpu_changes = self._changes('cpu') and any(
            value != (self.current.get('cpu') or {}).get(key) for key, value in self.desired['cpu'].items()
            if value is not None)
        return (self._changes('vcpus') or self._changes('max_vcpus') or cpu_changes
                or (self.desired.get('firmware') == 'uefi' and self._changes('firmware')))

    # ------------------------------------------------------------ platform

    def _domain_type(self):
        wanted = self.params.get('type') or 'auto'
        if wanted == 'auto' and self.current is not None:
            return self.current['type']
        if not self.module.is_local:
            if wanted != 'auto':
                return wanted
            return 'kvm' if self.module.capabilities.offers('kvm') else 'qemu'
        usable, reason = kvm_usable_here()
        if wanted == 'kvm' and not usable:
            raise ParameterError('type', 'kvm is not usable on this host: %s. Use type: qemu (emulation, slow) or auto'
                                 % reason)
        if wanted == 'auto':
            if not usable and self.domain.dom is None:
                self.module.warn('hardware virtualization is not usable here (%s): the guest runs under QEMU '
                                 'emulation (type qemu), much slower than kvm' % reason)
            return 'kvm' if usable else 'qemu'
        return wanted

    def _domain_capabilities(self, domain_type):
        try:
            return self.module.capabilities.domain(domain_type)
        except libvirt.libvirtError as exc:
            if self.params.get('type') in ('kvm', 'qemu'):
                raise ParameterError('type', "the host offers no '%s' guests: %s" % (domain_type, exc.get_error_message()))
            # the user chose nothing: the host is what cannot run guests, say so rather than blame an option
            raise KvmError('check', 'hypervisor', self.module.params['uri'],
                           "it cannot run guests: libvirt offers no '%s' domain capabilities (%s); is QEMU installed "
                           "there (Debian: qemu-system-x86, RHEL: qemu-kvm)? kvmops.kvm.kvm_host checks and sets up a "
                           "host" % (domain_type, exc.get_error_message()))

    def _machine(self):
        machine = self.desired.get('machine')
        if not machine or (self.current is not None and machine == self.current.get('machine')):
            return
        names = self.module.capabilities.machines()
        if machine not in names:
            raise ParameterError('machine', "'%s' is not a machine type of this host's QEMU; for example %s"
                                 % (machine, ', '.join(sorted(n for n in names if '.' not in n)[:8])))
        self.desired['machine'] = names[machine]

    def _memory(self):
        if not (self._changes('memory') or self._changes('max_memory')):
            return
        host_mib = self.conn.getInfo()[1]
        for key in ('memory', 'max_memory'):
            if self.desired.get(key) and self.desired[key] > host_mib:
                raise ParameterError(key, '%d MiB is more than the host has (%d MiB)' % (self.desired[key], host_mib))

    def _vcpus(self, caps):
        limit = int(caps.find('vcpu').get('max')) if caps.find('vcpu') is not None else None
        for key in ('vcpus', 'max_vcpus'):
            if limit and self.desired.get(key, 0) > limit:
                raise ParameterError(key, '%d is more than this host allows for one guest (%d)' % (self.desired[key], limit))

    def _cpu(self, caps):
        mode = (self.desired.get('cpu') or {}).get('mode')
        if not mode:
            return
        element = caps.find("cpu/mode[@name='%s']" % mode)
        if element is None or element.get('supported') != 'yes':
            offered = [m.get('name') for m in caps.findall('cpu/mode') if m.get('supported') == 'yes']
            raise ParameterError('cpu.mode', "'%s' is not available for %s guests on this host; available: %s"
                                 % (mode, self.domain.domain_type, ', '.join(offered)))
        model = self.desired['cpu'].get('model')
        if mode == 'custom' and model:
            usable = dict((m.text, m.get('usable')) for m in element.findall('model'))
            if model not in usable:
                raise ParameterError('cpu.model', "'%s' is not a CPU model this host knows" % model)

    def _firmware(self, caps):
        if self.desired.get('firmware') != 'uefi':
            return
        offered = [v.text for v in caps.findall("os/enum[@name='firmware']/value")]
        if 'efi' not in offered:
            raise ParameterError('firmware', 'UEFI firmware is not installed on this host (Debian: ovmf, RHEL: edk2-ovmf)')

    # ------------------------------------------------------------ files and devices

    def _files(self):
        store = self.domain.store
        for key in ('kernel', 'initrd', 'cdrom'):
            path = self.desired.get(key)
            if path and store.path_exists(path) is False:
                raise ParameterError(key, "'%s' does not exist on the host" % path)
        for index, disk in enumerate(self.desired.get('disks', [])):
            if disk.get('backing') and store.path_exists(disk['backing']) is False:
                raise ParameterError('disks[%d].backing' % index, "base image '%s' does not exist" % disk['backing'])
        seed = self.domain.seed_path
        if seed and self.module.is_local and not os.path.isdir(os.path.dirname(seed)):
            raise ParameterError('cloud_init.directory', "'%s' is not a directory" % os.path.dirname(seed))

    def _disks(self):
        store = self.domain.store
        for index, disk in enumerate(self.desired.get('disks', [])):
            at = 'disks[%d]' % index
            if disk.get('pool'):
                exists = store.volume(disk['pool'], disk['volume'], at + '.pool') is not None
            else:
                exists = store.path_exists(disk['path'])
            if exists is False and disk.get('size') is None:
                raise ParameterError(at, "'%s' does not exist; give size to create it (or backing for an overlay)"
                                     % (disk.get('volume') or disk['path']))

    def _interfaces(self):
        interfaces = self.desired.get('interfaces')
        if interfaces is None:
            return
        own = set(i.get('mac') for i in (self.current or {}).get('interfaces', []))
        for index, iface in enumerate(interfaces):
            at = 'interfaces[%d]' % index
            if iface['type'] == 'network':
                try:
                    network = self.conn.networkLookupByName(iface['source'])
                except libvirt.libvirtError:
                    raise ParameterError(at + '.network', "libvirt network '%s' does not exist on %s"
                                         % (iface['source'], self.module.params['uri']))
                if iface.get('portgroup'):
                    # libvirt defines a guest with any portgroup and fails only when the NIC is plugged in
                    groups = [g.get('name') for g in _xml.parse(network.XMLDesc(0)).findall('portgroup')]
                    if iface['portgroup'] not in groups:
                        raise ParameterError(at + '.portgroup', "libvirt network '%s' has no portgroup '%s' (it has: %s)"
                                             % (iface['source'], iface['portgroup'], ', '.join(groups) or 'none'))
            elif self.module.is_local:
                path = '/sys/class/net/%s' % iface['source'] + ('/bridge' if iface['type'] == 'bridge' else '')
                if not os.path.exists(path):
                    raise ParameterError('%s.%s' % (at, iface['type']), "host %s '%s' does not exist" % (
                        'bridge' if iface['type'] == 'bridge' else 'device', iface['source']))
            if iface.get('mac') and iface['mac'] not in own and iface['mac'] in self.domain.used_macs:
                raise ParameterError(at + '.mac', 'MAC %s is already used by guest %s'
                                     % (iface['mac'], self.domain.used_macs[iface['mac']]))


def macs_of_other_guests(conn, name):
    """{MAC: guest name} of every guest but `name` (one definition read per guest: only when a MAC is at stake)."""
    macs = {}
    for dom in conn.listAllDomains():
        if dom.name() == name:
            continue
        for mac in _xml.parse(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)).findall('devices/interface/mac'):
            macs[mac.get('address').lower()] = dom.name()
    return macs
