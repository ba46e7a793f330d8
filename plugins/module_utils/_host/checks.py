# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_host: the checks, in the spirit of virt-host-validate, made from the gathered facts (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._host import platform as platform_facts
from ansible_collections.kvmops.kvm.plugins.module_utils._host import qemu as qemu_facts
from ansible_collections.kvmops.kvm.plugins.module_utils._host.modules import ABSENT, AVAILABLE

PASS, WARN, FAIL = 'PASS', 'WARN', 'FAIL'

# the checks that only matter for hardware-accelerated guests: allow_emulation turns their
# failure into a warning (and they then satisfy `require`)
ACCELERATION_CHECKS = ('hardware_virtualization', 'kvm_module', 'kvm_device', 'libvirt_kvm')
CHECK_NAMES = ('hardware_virtualization', 'kvm_module', 'kvm_device', 'qemu_kvm_access', 'nested_virtualization',
               'libvirt_daemon',
               'libvirt_kvm', 'qemu_emulator', 'tun_device', 'vhost_net', 'cgroups', 'iommu', 'hugepages',
               'firmware_uefi', 'security_driver')


def _check(name, result, detail, hint=None):
    return dict(name=name, result=result, detail=detail, hint=hint if result != PASS else None)


def _hardware_virtualization(facts):
    cpu = facts['cpu']
    if cpu['virtualization']:
        return _check('hardware_virtualization', PASS, 'the CPU has %s' % cpu['virtualization'])
    if facts['kvm_device']['usable'] and not facts['kvm_device']['backend']:
        return _check('hardware_virtualization', PASS, '%s runs VMs' % facts['kvm_device']['path'])
    detail = 'the CPU (%s) exposes neither vmx nor svm' % (cpu['model'] or cpu['vendor'] or cpu['arch'])
    if cpu['hypervisor']:
        hint = ('this machine is itself a virtual machine whose hypervisor does not pass virtualization on: '
                'enable nested virtualization there (kvm_host nested: true on that host, and a guest CPU '
                'mode of host-passthrough), or run guests emulated (domain type qemu, allow_emulation: true)')
    else:
        hint = ('enable Intel VT-x or AMD-V (SVM) in the firmware setup, or run guests emulated '
                '(domain type qemu, allow_emulation: true)')
    return _check('hardware_virtualization', FAIL, detail, hint)


def _kvm_module(facts):
    modules = facts['modules']
    names = [name for name in ('kvm', facts['vendor_module']) if name]
    missing = [name for name in names if modules[name]['state'] in (ABSENT, AVAILABLE)]
    detail = ', '.join('%s %s' % (name, modules[name]['state']) for name in names)
    if facts['vendor_module'] is None and facts['kvm_device']['backend'] is None and facts['cpu']['arch']:
        detail += ' (no vendor module on %s)' % facts['cpu']['arch']
    if not missing:
        return _check('kvm_module', PASS, detail)
    hints = []
    for name in missing:
        if modules[name]['state'] == AVAILABLE:
            hints.append('load %s (modules: present)' % name)
        else:
            hints.append('%s is neither built in nor available as a module (%s)' % (name, modules[name]['source']))
    backend = facts['kvm_device']['backend']
    if backend and backend not in names:
        hints.append('/dev/kvm is served by %s instead' % backend)
    return _check('kvm_module', FAIL, detail, '; '.join(hints))


def _kvm_device(facts):
    device = facts['kvm_device']
    if device['usable']:
        return _check('kvm_device', PASS, '%s opens, API %s, creates a VM' % (device['path'], device['api_version']))
    if not device['present']:
        hint = 'load the kvm modules (modules: present); without them only emulated guests run'
    elif not device['accessible']:
        hint = 'run as root, or add the user to the group that owns %s (usually kvm)' % device['path']
    elif device['create_vm']:
        hint = ('hardware virtualization is not available to this kernel; guests run emulated '
                '(domain type qemu, allow_emulation: true)')
    else:
        hint = ('the kernel refuses to create a VM: hardware virtualization is off, in use by another '
                'hypervisor, or unsupported; check dmesg for kvm messages')
    return _check('kvm_device', FAIL, device['reason'], hint)


def _qemu_kvm_access(facts):
    """Not an acceleration check: an emulation-only host pays for the re-probing just the same."""
    device = facts['kvm_device']
    access = device['qemu_access']
    if not device['present']:
        return _check('qemu_kvm_access', PASS, '%s does not exist; libvirt has no KVM to re-check' % device['path'])
    shown = '%s is %s:%s %s' % (device['path'], access['device_owner'], access['device_group'], access['device_mode'])
    if access['user'] is None or access['read_write'] is None:
        return _check('qemu_kvm_access', WARN, '%s; the user QEMU runs as is unknown' % shown,
                      'set user (and group) in %s' % qemu_facts.QEMU_CONF)
    runs_as = "QEMU runs as '%s' (group '%s')" % (access['user'], access['group'])
    if access['read_write']:
        return _check('qemu_kvm_access', PASS, '%s; %s and can open it read-write' % (shown, runs_as))
    detail = '%s; %s and cannot open it read-write' % (shown, runs_as)
    if access['reprobing']:
        detail += ('; libvirt re-probes QEMU on every call: its capability cache (%s) records KVM, which this '
                   'user cannot open now' % ', '.join(access['capability_cache']))
    else:
        detail += '; libvirt re-probes QEMU on every call whenever its probe (as root) saw KVM'
    hint = ('give %s to the kvm group as distributions do, and put the QEMU user in it: a udev rule '
            '(KERNEL=="kvm", GROUP="kvm", MODE="0660" in /etc/udev/rules.d/65-kvm.rules; where no udev runs, '
            'chgrp kvm %s && chmod 0660 %s at boot), usermod -a -G kvm %s, then restart the libvirt daemon; '
            'never open it to everyone (0666). The hypervisor role does this.'
            % (device['path'], device['path'], device['path'], access['user']))
    return _check('qemu_kvm_access', FAIL, detail, hint)


def _nested(facts):
    nested = facts['nested']
    if nested['module'] is None:
        return _check('nested_virtualization', WARN, 'no vendor module', 'nested virtualization needs kvm_intel or kvm_amd')
    if nested['enabled']:
        return _check('nested_virtualization', PASS, '%s nested=%s' % (nested['module'], nested['value']))
    if nested['enabled'] is None:
        state = facts['modules'][nested['module']]['state']
        if state == ABSENT:
            return _check('nested_virtualization', WARN, '%s is absent' % nested['module'],
                          'nested virtualization needs %s (see kvm_module)' % nested['module'])
        return _check('nested_virtualization', WARN, '%s is %s, its nested parameter unknown' % (nested['module'], state),
                      'load %s (modules: present) to know' % nested['module'])
    return _check('nested_virtualization', WARN, '%s nested=%s' % (nested['module'], nested['value']),
                  'nested: true enables it (guests may then run their own KVM guests)')


def _libvirt_daemon(facts):
    lv = facts['libvirt']
    daemon = lv['daemon']
    if lv['reachable']:
        detail = 'libvirt %s (%s, %s)' % (lv['version'], daemon['layout'] or 'unknown layout',
                                          daemon['driver_daemon'] or 'socket')
        return _check('libvirt_daemon', PASS, detail)
    if daemon['driver_daemon'] == 'virtqemud':
        hint = 'start it: systemctl enable --now virtqemud.socket (and virtnetworkd, virtstoraged, ... sockets)'
    elif daemon['driver_daemon'] == 'libvirtd':
        hint = 'start it: systemctl enable --now libvirtd'
    else:
        hint = 'install libvirt (Debian: libvirt-daemon-system; RHEL: libvirt) and start its daemon'
    return _check('libvirt_daemon', FAIL, 'cannot connect to %s: %s' % (lv['uri'], lv['error']), hint)


def _libvirt_kvm(facts):
    lv = facts['libvirt']
    if not lv['reachable']:
        return _check('libvirt_kvm', WARN, 'libvirt cannot be asked', 'start the libvirt daemon, then check again')
    if 'kvm' in lv['domain_types'] and not facts['kvm_device']['usable']:
        return _check('libvirt_kvm', FAIL, 'libvirt offers domain type kvm, but %s cannot run ordinary guests '
                      '(see kvm_device)' % facts['kvm_device']['path'],
                      'guests of type kvm would not start or not boot: use domain type qemu')
    if 'kvm' in lv['domain_types']:
        return _check('libvirt_kvm', PASS, 'libvirt offers domain types %s' % ', '.join(lv['domain_types']))
    return _check('libvirt_kvm', FAIL, 'libvirt offers domain types %s' % (', '.join(lv['domain_types']) or 'none'),
                  'libvirt probes /dev/kvm when its QEMU driver starts: load the kvm modules, make /dev/kvm usable '
                  'for the qemu user, then restart the daemon')


def _qemu_emulator(facts):
    lv = facts['libvirt']
    if lv['emulator'] and lv['qemu_version']:
        return _check('qemu_emulator', PASS, '%s %s' % (lv['emulator'], lv['qemu_version']))
    detail = '%s gives no version' % lv['emulator'] if lv['emulator'] else 'no QEMU emulator found'
    return _check('qemu_emulator', FAIL, detail, 'install QEMU (Debian: qemu-system-x86; RHEL: qemu-kvm)')


def _device_check(facts, name, key, missing_result, hint):
    path = '/dev/net/tun' if key == 'tun' else '/dev/vhost-net'
    if facts['devices'][key]:
        return _check(name, PASS, '%s exists' % path)
    state = facts['modules'].get(key, {}).get('state')
    detail = '%s is missing' % path + (' (%s %s)' % (key, state) if state else '')
    return _check(name, missing_result, detail, hint)


def _cgroups(facts):
    cg = facts['cgroups']
    missing = platform_facts.missing_controllers(cg)
    detail = 'cgroup %s: %s' % ('hybrid' if cg['version'] == 'hybrid' else 'v%s' % cg['version'], ', '.join(cg['controllers']) or 'no controllers')
    if not missing:
        return _check('cgroups', PASS, detail)
    return _check('cgroups', WARN, detail + '; missing %s' % ', '.join(missing),
                  'enable the missing controllers (kernel config, systemd or the cgroup mounts); without them '
                  'libvirt cannot limit or pin guests')


def _iommu(facts):
    iommu = facts['iommu']
    if iommu['enabled']:
        return _check('iommu', PASS, '%d IOMMU groups' % iommu['groups'])
    vendor = 'intel_iommu=on' if facts['vendor_module'] == 'kvm_intel' else 'amd_iommu=on'
    return _check('iommu', WARN, 'no IOMMU groups (kernel command line: %s)' % (' '.join(iommu['kernel_cmdline']) or 'no iommu options'),
                  'only needed for PCI passthrough: enable VT-d/AMD-Vi in the firmware and add %s iommu=pt to the '
                  'kernel command line' % vendor)


def _hugepages(facts):
    pages = facts['hugepages']
    if not pages['supported']:
        return _check('hugepages', FAIL, 'the kernel has no hugetlbfs', 'a kernel with CONFIG_HUGETLBFS is needed for '
                      'guests backed by huge pages')
    reserved = [pool for pool in pages['pools'] if pool['total']]
    if reserved:
        return _check('hugepages', PASS, ', '.join('%d x %d KiB (%d free)' % (p['total'], p['size_kib'], p['free'])
                                                   for p in reserved))
    return _check('hugepages', WARN, 'no huge pages reserved', 'only needed for guests with memoryBacking/hugepages: '
                  'reserve them with vm.nr_hugepages or hugepages= on the kernel command line')


def _firmware(facts):
    firmware = facts['firmware']
    if firmware and firmware['uefi']:
        return _check('firmware_uefi', PASS, 'UEFI loaders: %s' % (', '.join(firmware['loaders']) or 'from descriptors'))
    return _check('firmware_uefi', WARN, 'no UEFI firmware offered', 'install OVMF (Debian: ovmf; RHEL: edk2-ovmf) '
                  'for UEFI guests, then restart the libvirt daemon')


def _security(facts):
    driver = facts['security']['libvirt_driver']
    if driver in ('selinux', 'apparmor'):
        return _check('security_driver', PASS, 'libvirt confines guests with %s' % driver)
    if driver is None:
        return _check('security_driver', WARN, 'libvirt cannot be asked', 'start the libvirt daemon, then check again')
    return _check('security_driver', WARN, 'libvirt security driver: %s' % driver,
                  'guests are confined only by user and file permissions (DAC); enable SELinux or AppArmor and '
                  'restart the libvirt daemon for sVirt confinement')


def run_checks(facts, allow_emulation):
    checks = [
        _hardware_virtualization(facts), _kvm_module(facts), _kvm_device(facts), _qemu_kvm_access(facts), _nested(facts),
        _libvirt_daemon(facts), _libvirt_kvm(facts), _qemu_emulator(facts),
        _device_check(facts, 'tun_device', 'tun', FAIL, 'load tun (modules: present, extra_modules: [tun]); '
                      'guests cannot have tap network interfaces without it'),
        _device_check(facts, 'vhost_net', 'vhost_net', WARN, 'load vhost_net (modules: present, extra_modules: '
                      '[vhost_net]) for faster virtio networking'),
        _cgroups(facts), _iommu(facts), _hugepages(facts), _firmware(facts), _security(facts),
    ]
    if allow_emulation:
        for check in checks:
            if check['name'] in ACCELERATION_CHECKS and check['result'] == FAIL:
                check['result'] = WARN
                check['hint'] = ('allowed by allow_emulation: guests run emulated (domain type qemu); for hardware '
                                 'acceleration: %s' % check['hint'])
    return checks


def recommended_domain_type(checks, facts):
    results = dict((check['name'], check['result']) for check in checks)
    accelerated = all(results[name] == PASS for name in ('hardware_virtualization', 'kvm_module', 'kvm_device'))
    offered = not facts['libvirt']['reachable'] or 'kvm' in facts['libvirt']['domain_types']
    return 'kvm' if accelerated and offered else 'qemu'


def unmet(checks, required, allow_emulation):
    """The required checks that did not pass (an acceleration check waived by allow_emulation passes)."""
    return [check for check in checks if check['name'] in required and check['result'] != PASS
            and not (allow_emulation and check['name'] in ACCELERATION_CHECKS)]
