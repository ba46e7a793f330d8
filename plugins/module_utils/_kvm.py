# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is hardware virtualization usable here? (private to kvmops.kvm)

libvirt offers domain type 'kvm' as soon as /dev/kvm exists. That is not enough: the device may refuse
to create a VM, or be backed by a software implementation (kvm_pvm, for paravirtualized guest kernels
only) on a CPU without VT-x/AMD-V. Usable means: the CPU has vmx or svm, a vendor module drives
/dev/kvm, and the kernel creates a VM when asked.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import fcntl
import os

KVM_DEVICE = '/dev/kvm'
KVM_GET_API_VERSION = 0xAE00
KVM_CREATE_VM = 0xAE01
KVM_API_VERSION = 12
VENDOR_MODULES = {'vmx': 'kvm_intel', 'svm': 'kvm_amd'}


def cpu_virtualization_flag(cpuinfo='/proc/cpuinfo'):
    """'vmx', 'svm' or None, from the CPU flags the kernel sees."""
    try:
        with open(cpuinfo) as stream:
            for line in stream:
                if line.startswith('flags'):
                    flags = set(line.split(':', 1)[1].split())
                    return next((flag for flag in ('vmx', 'svm') if flag in flags), None)
    except IOError:
        pass
    return None


def kvm_backends(sys_module='/sys/module'):
    """The kvm backend modules present (kvm_intel, kvm_amd, kvm_pvm, ...)."""
    try:
        return sorted(name for name in os.listdir(sys_module) if name.startswith('kvm_'))
    except OSError:
        return []


def probe_kvm(device=KVM_DEVICE):
    """(usable, reason): reason says why not, or is None when hardware-accelerated guests can run."""
    flag = cpu_virtualization_flag()
    if flag is None:
        backends = kvm_backends()
        return False, ('the CPU has no vmx or svm flag: hardware virtualization (VT-x/AMD-V) is off in the firmware '
                       'or not passed to this VM%s' % (
                           '; %s is served by %s, which runs only paravirtualized guest kernels'
                           % (device, ', '.join(backends)) if backends and os.path.exists(device) else ''))
    if VENDOR_MODULES[flag] not in kvm_backends():
        return False, 'the CPU has %s but %s is not loaded' % (flag, VENDOR_MODULES[flag])
    if not os.path.exists(device):
        return False, '%s does not exist: no kvm module loaded, or virtualization is off in the firmware' % device
    try:
        fd = os.open(device, os.O_RDWR | os.O_CLOEXEC)
    except OSError as exc:
        return False, 'cannot open %s: %s (is this user in the kvm group?)' % (device, exc.strerror)
    try:
        try:
            version = fcntl.ioctl(fd, KVM_GET_API_VERSION, 0)
        except OSError as exc:
            return False, '%s does not answer KVM_GET_API_VERSION: %s' % (device, exc.strerror)
        if version != KVM_API_VERSION:
            return False, '%s speaks KVM API %s, not %s' % (device, version, KVM_API_VERSION)
        try:
            vm = fcntl.ioctl(fd, KVM_CREATE_VM, 0)
        except OSError as exc:
            return False, ('%s exists but the kernel cannot create a VM (%s): hardware virtualization (VT-x/AMD-V) '
                           'is unavailable, e.g. disabled in the firmware or not passed to this VM' % (device, exc.strerror))
        os.close(vm)
        return True, None
    finally:
        os.close(fd)
