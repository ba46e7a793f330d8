# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_host: facts and checks, then kernel modules and nested virtualization: read -> plan -> apply
(private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import socket

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import files as _files
from ansible_collections.kvmops.kvm.plugins.module_utils._host import checks
from ansible_collections.kvmops.kvm.plugins.module_utils._host import cpu as cpu_facts
from ansible_collections.kvmops.kvm.plugins.module_utils._host import libvirt_facts
from ansible_collections.kvmops.kvm.plugins.module_utils._host import modules as kmod
from ansible_collections.kvmops.kvm.plugins.module_utils._host import platform as platform_facts
from ansible_collections.kvmops.kvm.plugins.module_utils._host import qemu as qemu_facts
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError, ParameterError
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.resource import Resource

KIND = 'kernel module'
_ALWAYS_REPORTED = ('kvm', 'tun', 'vhost_net')


def gather_facts(module, kernel, extra_modules=()):
    """Everything kvm_host knows about the machine; reads only."""
    cpu = cpu_facts.parse_cpuinfo(_files.read_text('/proc/cpuinfo'))
    backend = cpu_facts.backend(kernel.present) if cpu_facts.is_x86(cpu) else None
    vendor = cpu_facts.vendor_module(cpu, backend) if cpu_facts.is_x86(cpu) else None
    names = list(_ALWAYS_REPORTED) + [name for name in (vendor, backend) if name] + list(extra_modules)
    modules = {}
    for name in names:
        state, source = kernel.state(name)
        modules[name] = dict(state=state, source=source)
    device = cpu_facts.probe_kvm_device()
    device['backend'] = backend
    device['usable'], reason = cpu_facts.kvm_usable(device, cpu, backend)
    device['reason'] = reason
    device['qemu_access'] = qemu_facts.qemu_device_access(device['path'])
    lv = libvirt_facts.gather(module, cpu)
    security = platform_facts.security()
    if lv['reachable']:
        security['libvirt_driver'] = next((m for m in lv['security_models'] if m != 'dac'), 'none')
    firmware = lv.pop('firmware')
    if firmware is None and not lv['reachable']:
        descriptors = libvirt_facts.firmware_descriptors()
        firmware = dict(uefi=bool(descriptors), loaders=descriptors, secure_boot=None)
    facts = dict(
        cpu=cpu,
        kernel=dict(release=kernel.release, loadable_modules=kernel.loadable_modules),
        kvm_device=device,
        vendor_module=vendor,
        modules=modules,
        nested=_nested_facts(kernel, vendor),
        modules_load=dict(path=kmod.MODULES_LOAD_FILE, modules=_sorted_or_none(
            kmod.parse_modules_load(_files.read_text(kmod.MODULES_LOAD_FILE)))),
        libvirt=lv,
        nodeinfo=lv.pop('nodeinfo'),
        domain_types=lv.pop('domain_types'),
        machine_types=lv.pop('machine_types'),
        max_vcpus=lv.pop('max_vcpus'),
        domain_capabilities=lv.pop('domain_capabilities'),
        firmware=firmware,
        hugepages=platform_facts.hugepages(),
        iommu=platform_facts.iommu(),
        cgroups=platform_facts.cgroups(),
        security=security,
        devices=platform_facts.devices(),
    )
    facts['libvirt']['domain_types'] = facts['domain_types']
    return facts


def _sorted_or_none(names):
    return None if names is None else sorted(names)


def _nested_facts(kernel, vendor):
    if vendor is None:
        return dict(module=None, value=None, enabled=None, persisted=None, file=kmod.NESTED_FILE)
    value = kernel.parameter(vendor, 'nested')
    persisted = (kmod.parse_options(_files.read_text(kmod.NESTED_FILE)) or {}).get(vendor, {}).get('nested')
    return dict(module=vendor, value=value, enabled=kmod.flag(value), persisted=kmod.flag(persisted),
                file=kmod.NESTED_FILE)


def _finish(facts, allow_emulation):
    facts['checks'] = checks.run_checks(facts, allow_emulation)
    facts['recommended_domain_type'] = checks.recommended_domain_type(facts['checks'], facts)
    chosen = facts['domain_capabilities'].get(facts['recommended_domain_type'])
    if chosen:
        facts['max_vcpus'] = chosen['max_vcpus']
        facts['firmware'] = dict(uefi=chosen['uefi'], loaders=chosen['loaders'], secure_boot=chosen['secure_boot'])
    return facts


class Host(Resource):
    """The KVM host the module runs on (one per run: it has no name)."""

    KIND = 'KVM host'

    def __init__(self, module, params=None):
        super(Host, self).__init__(module, params)
        self.kernel = None
        self.facts = None
        self.extra = []
        self.reload_required = False
        self._plan = None

    # ------------------------------------------------------------ validation (reads only)

    def validate(self):
        for name in self.params['extra_modules'] or []:
            if not kmod.valid_name(name):
                raise ParameterError('extra_modules', "'%s' is not a kernel module name" % name)
            if kmod.canonical(name) not in self.extra:
                self.extra.append(kmod.canonical(name))
        unknown = [name for name in self.params['require'] or [] if name not in checks.CHECK_NAMES]
        if unknown:
            raise ParameterError('require', 'unknown check%s %s; the checks are %s' % (
                's' if len(unknown) > 1 else '', ', '.join(unknown), ', '.join(checks.CHECK_NAMES)))
        if not self.module.is_local:
            self.module.warn("kvm_host reads the kernel of the machine it runs on; uri '%s' is another host's "
                             "daemon, so its libvirt facts describe a different machine" % self.params['uri'])
        self._gather()

    def _gather(self):
        self.kernel = kmod.KernelModules(self.module.run_command)
        self.facts = _finish(gather_facts(self.module, self.kernel, self.extra), self.params['allow_emulation'])

    # ------------------------------------------------------------ planning

    def plan(self, plan):
        self._plan = plan
        self._require()
        if self.params['nested'] is not None:
            self._plan_nested(plan)
        if self.params['modules'] == 'present':
            self._plan_modules(plan)

    def _require(self):
        failed = checks.unmet(self.facts['checks'], self.params['require'] or [], self.params['allow_emulation'])
        if failed:
            reason = 'required check%s did not pass: %s' % ('s' if len(failed) > 1 else '', '; '.join(
                '%s %s (%s; hint: %s)' % (c['name'], c['result'], c['detail'], c['hint']) for c in failed))
            raise KvmError('validate', self.KIND, socket.gethostname(), reason,
                           failed_checks=failed, kvm_host=self.facts)

    def _plan_modules(self, plan):
        vendor = self.facts['vendor_module']
        wanted = [name for name in ('kvm', vendor) if name] + [name for name in self.extra if name not in ('kvm', vendor)]
        persist = set()
        for name in wanted:
            state, source = self.facts['modules'][name]['state'], self.facts['modules'][name]['source']
            if state == kmod.ABSENT:
                if name in ('kvm', vendor) and self.params['allow_emulation']:
                    self.module.warn("kernel module '%s' is not available (%s): skipped, as allow_emulation lets "
                                     "guests run emulated" % (name, source))
                    continue
                reason = self._absent_reason(name, source)
                if name in ('kvm', vendor):
                    reason += '; allow_emulation: true skips it'
                raise KvmError('load', KIND, name, reason)
            if state == kmod.AVAILABLE:
                plan.difference('modules.%s' % name, state, kmod.LOADED)
                plan.add('load', KIND, name, self._loader(name))
            if state in (kmod.AVAILABLE, kmod.LOADED):
                persist.add(name)
        self._plan_file(plan, 'modules_load', kmod.MODULES_LOAD_FILE,
                        kmod.parse_modules_load(_files.read_text(kmod.MODULES_LOAD_FILE)), persist,
                        _sorted_or_none, kmod.render_modules_load)

    def _absent_reason(self, name, source):
        reason = 'it is neither built in nor available as a loadable module (%s)' % source
        if name == self.facts['vendor_module'] and not self.facts['cpu']['virtualization']:
            reason += '; the CPU exposes no %s, so it could not run anyway' % ('vmx' if name == 'kvm_intel' else 'svm')
        return reason

    def _plan_file(self, plan, key, path, current, wanted, shown, render):
        """Our own file: written when its meaning differs, removed when it would be empty."""
        if not wanted:
            wanted = None
        if current == wanted or (current is not None and not current and wanted is None):
            return
        plan.difference(key, shown(current), shown(wanted))
        if wanted is None:
            plan.add('remove', 'file', path, lambda: _files.remove(path))
        else:
            text = render(wanted)
            plan.add('write', 'file', path, lambda: _files.write_atomically(self.module, path, text),
                     ', '.join(shown(wanted)) if key == 'modules_load' else text.splitlines()[-1])

    def _plan_nested(self, plan):
        desired = self.params['nested']
        vendor = self.facts['vendor_module']
        action = 'enable nested virtualization on' if desired else 'disable nested virtualization on'
        if vendor is None:
            raise KvmError(action, KIND, 'kvm', 'there is no vendor module (kvm_intel, kvm_amd) on this CPU (%s)'
                           % self.facts['cpu']['arch'])
        state, source = self.facts['modules'][vendor]['state'], self.facts['modules'][vendor]['source']
        runtime = self.facts['nested']['enabled']
        if state == kmod.ABSENT:
            if not desired:
                self.module.warn("kernel module '%s' is not available (%s): nested virtualization is off" % (vendor, source))
                return
            raise KvmError(action, KIND, vendor, self._absent_reason(vendor, source))
        if state == kmod.BUILTIN:
            if runtime != desired:
                raise KvmError(action, KIND, vendor, 'it is built into the kernel, where modprobe.d options do not '
                               'apply: set %s.nested=%d on the kernel command line and reboot' % (vendor, int(desired)))
            return
        current = kmod.parse_options(_files.read_text(kmod.NESTED_FILE))
        if current is not None and 'nested' in current.get(vendor, {}):
            current[vendor]['nested'] = '1' if kmod.flag(current[vendor]['nested']) else '0'
        self._plan_file(plan, 'nested_options', kmod.NESTED_FILE, current, {vendor: {'nested': str(int(desired))}},
                        lambda options: options, kmod.render_options)
        others = kmod.other_option_files(vendor, 'nested', kmod.NESTED_FILE)
        if others:
            self.module.warn('%s also set the nested option of %s; modprobe combines them and the last one read '
                             'wins' % (', '.join(others), vendor))
        if state != kmod.LOADED or runtime == desired:
            return
        if self.kernel.refcount(vendor) == 0:
            plan.difference('nested.enabled', runtime, desired)
            plan.add('reload', KIND, vendor, self._reloader(vendor), 'nested=%d' % int(desired))
        else:
            self.reload_required = True
            self.module.warn('%s is in use by %d virtual machine(s): nested=%d takes effect when it is reloaded '
                             '(all guests stopped) or the host reboots' % (vendor, self.kernel.refcount(vendor),
                                                                           int(desired)))

    def _loader(self, name):
        def load():
            loaded, error = self.kernel.load(name)
            if not loaded:
                raise KvmError('load', KIND, name, error or 'modprobe failed')
        return load

    def _reloader(self, name):
        def reload():
            for step in (self.kernel.unload, self.kernel.load):
                done, error = step(name)
                if not done:
                    raise KvmError('reload', KIND, name, error or 'modprobe failed')
        return reload

    # ------------------------------------------------------------ result

    def result(self):
        if not self.predicting and self._plan is not None and self._plan.changed:
            self._gather()
        result = dict(kvm_host=self.facts, reload_required=self.reload_required)
        if self.params['gather']:
            result['ansible_facts'] = dict(kvm_host=self.facts)
        return result
