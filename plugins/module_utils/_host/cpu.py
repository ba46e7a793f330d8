# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_host: the CPU and whether /dev/kvm really runs virtual machines (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import platform

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import files as _files

KVM_DEVICE = '/dev/kvm'
KVM_GET_API_VERSION = 0xAE00
KVM_CREATE_VM = 0xAE01
KVM_API_VERSION = 12

# CPU flags worth reporting for virtualization: the extension itself and its speed-ups
VIRT_FLAGS = ('vmx', 'svm', 'ept', 'vpid', 'npt', 'nrip_save', 'hypervisor')
VENDOR_MODULES = {'vmx': 'kvm_intel', 'svm': 'kvm_amd'}
_VENDOR_IDS = {'GenuineIntel': 'kvm_intel', 'AuthenticAMD': 'kvm_amd', 'HygonGenuine': 'kvm_amd'}
# modules that can register the KVM backend behind /dev/kvm on x86; only the first two are hardware
BACKEND_MODULES = ('kvm_intel', 'kvm_amd', 'kvm_pvm')
HARDWARE_BACKENDS = ('kvm_intel', 'kvm_amd')


def parse_cpuinfo(text, arch=None):
    """CPU facts from /proc/cpuinfo (the first processor; they are alike on a KVM host)."""
    first = {}
    count = 0
    for line in (text or '').splitlines():
        key, sep, value = line.partition(':')
        if not sep:
            continue
        key = key.strip()
        if key == 'processor':
            count += 1
        if count <= 1 and key not in first:
            first[key] = value.strip()
    flags = set(first.get('flags', first.get('Features', '')).split())
    virtualization = 'vmx' if 'vmx' in flags else 'svm' if 'svm' in flags else None
    return dict(
        arch=arch or platform.machine(),
        vendor=first.get('vendor_id') or first.get('CPU implementer'),
        model=first.get('model name') or first.get('cpu model') or first.get('Hardware'),
        count=count or None,
        virtualization=virtualization,
        flags=sorted(flag for flag in VIRT_FLAGS if flag in flags),
        hypervisor='hypervisor' in flags,
    )


def is_x86(cpu):
    return cpu['arch'] in ('x86_64', 'i686', 'i386', 'amd64')


def vendor_module(cpu, loaded_backend=None):
    """The hardware module kvm needs on this CPU (kvm_intel/kvm_amd); None off x86."""
    if loaded_backend in HARDWARE_BACKENDS:
        return loaded_backend
    if cpu['virtualization']:
        return VENDOR_MODULES[cpu['virtualization']]
    return _VENDOR_IDS.get(cpu['vendor'])


def backend(modules_present):
    """The x86 module behind /dev/kvm, from the modules present under /sys/module."""
    for name in BACKEND_MODULES:
        if name in modules_present:
            return name
    return None


def probe_kvm_device(path=KVM_DEVICE, ioctl=None):
    """Open the device and ask it for its API version and a new VM, as QEMU does first."""
    if ioctl is None:
        import fcntl
        ioctl = fcntl.ioctl
    facts = dict(path=path, present=_files.exists(path), accessible=False, api_version=None,
                 create_vm=False, reason=None)
    if not facts['present']:
        facts['reason'] = '%s does not exist' % path
        return facts
    try:
        fd = os.open(_files.host_path(path), os.O_RDWR | getattr(os, 'O_CLOEXEC', 0))
    except OSError as exc:
        facts['reason'] = 'cannot open %s: %s' % (path, os.strerror(exc.errno))
        if exc.errno in (errno.EACCES, errno.EPERM):
            facts['reason'] += ' (this user is not in its group, usually kvm)'
        return facts
    facts['accessible'] = True
    try:
        try:
            facts['api_version'] = ioctl(fd, KVM_GET_API_VERSION, 0)
        except (IOError, OSError) as exc:
            facts['reason'] = 'KVM_GET_API_VERSION failed: %s' % os.strerror(exc.errno)
            return facts
        if facts['api_version'] != KVM_API_VERSION:
            facts['reason'] = 'KVM API version %s, QEMU needs %d' % (facts['api_version'], KVM_API_VERSION)
            return facts
        try:
            vm = ioctl(fd, KVM_CREATE_VM, 0)
        except (IOError, OSError) as exc:
            facts['reason'] = 'KVM_CREATE_VM failed: %s' % os.strerror(exc.errno)
            return facts
        os.close(vm)
        facts['create_vm'] = True
    finally:
        os.close(fd)
    return facts


def kvm_usable(device, cpu, backend_module):
    """/dev/kvm runs ordinary guests: it answers, and (on x86) a hardware backend serves it.

    A software backend such as kvm_pvm answers both ioctls too, but runs only guests whose
    kernel was built for it: an ordinary guest hangs at its first instruction.
    """
    if not device['create_vm']:
        return False, device['reason']
    if is_x86(cpu) and backend_module not in HARDWARE_BACKENDS:
        if backend_module:
            return False, ('%s answers (API %s, a VM can be created) but it is served by %s, not by '
                           'kvm_intel or kvm_amd: only guests built for that backend run on it'
                           % (device['path'], device['api_version'], backend_module))
        return False, '%s answers but no hardware module (kvm_intel, kvm_amd) serves it' % device['path']
    return True, None


def kvm_usable_here():
    """(usable, reason) for this machine: the one answer kvm_domain's type=auto and kvm_host share."""
    cpu = parse_cpuinfo(_files.read_text('/proc/cpuinfo'))
    present = set(_files.list_dir('/sys/module')) if is_x86(cpu) else set()
    return kvm_usable(probe_kvm_device(), cpu, backend(present) if is_x86(cpu) else None)
