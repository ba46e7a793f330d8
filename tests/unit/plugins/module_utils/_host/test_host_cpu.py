"""CPU facts and the /dev/kvm probe."""

import errno
import os

import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import files as _files
from ansible_collections.kvmops.kvm.plugins.module_utils._host import cpu

AMD_GUEST = ('processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\n'
             'flags\t\t: fpu sse2 hypervisor lahf_lm\n\nprocessor\t: 1\nvendor_id\t: AuthenticAMD\n'
             'model name\t: AMD EPYC\nflags\t\t: fpu sse2 hypervisor lahf_lm\n')
AMD_HOST = 'processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7763\nflags\t\t: fpu svm npt nrip_save\n'
ARM = 'processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm\nCPU implementer\t: 0x41\n'


def test_parse_amd_guest_without_svm():
    facts = cpu.parse_cpuinfo(AMD_GUEST, arch='x86_64')
    assert facts == dict(arch='x86_64', vendor='AuthenticAMD', model='AMD EPYC', count=2, virtualization=None,
                         flags=['hypervisor'], hypervisor=True)
    assert cpu.vendor_module(facts) == 'kvm_amd'


def test_parse_amd_host_and_arm():
    host = cpu.parse_cpuinfo(AMD_HOST, arch='x86_64')
    assert host['virtualization'] == 'svm' and host['flags'] == ['npt', 'nrip_save', 'svm']
    arm = cpu.parse_cpuinfo(ARM, arch='aarch64')
    assert arm['vendor'] == '0x41' and arm['virtualization'] is None and not cpu.is_x86(arm)


def test_vendor_module_prefers_the_loaded_hardware_backend():
    facts = cpu.parse_cpuinfo(AMD_GUEST, arch='x86_64')
    assert cpu.vendor_module(facts, 'kvm_pvm') == 'kvm_amd'
    assert cpu.vendor_module(facts, 'kvm_intel') == 'kvm_intel'
    assert cpu.backend({'kvm', 'kvm_pvm', 'bridge'}) == 'kvm_pvm'
    assert cpu.backend({'kvm'}) is None


@pytest.fixture
def device(tmp_path, monkeypatch):
    monkeypatch.setattr(_files, 'ROOT', str(tmp_path))
    (tmp_path / 'dev').mkdir()
    (tmp_path / 'dev' / 'kvm').write_text('')
    return tmp_path / 'dev' / 'kvm'


def _ioctl(api=12, create_error=None):
    def ioctl(fd, request, _arg):
        if request == cpu.KVM_GET_API_VERSION:
            return api
        if create_error:
            raise OSError(create_error, os.strerror(create_error))
        return os.dup(fd)
    return ioctl


def test_probe_usable(device):
    facts = cpu.probe_kvm_device(ioctl=_ioctl())
    assert facts == dict(path='/dev/kvm', present=True, accessible=True, api_version=12, create_vm=True, reason=None)


def test_probe_refusals(device, tmp_path):
    assert cpu.probe_kvm_device(ioctl=_ioctl(api=11))['reason'] == 'KVM API version 11, QEMU needs 12'
    refused = cpu.probe_kvm_device(ioctl=_ioctl(create_error=errno.EBUSY))
    assert refused['create_vm'] is False and refused['reason'] == 'KVM_CREATE_VM failed: %s' % os.strerror(errno.EBUSY)
    device.unlink()
    missing = cpu.probe_kvm_device(ioctl=_ioctl())
    assert missing['present'] is False and missing['reason'] == '/dev/kvm does not exist'


def test_probe_permission(device):
    if os.geteuid() == 0:
        pytest.skip('root opens any file')
    device.chmod(0)
    denied = cpu.probe_kvm_device(ioctl=_ioctl())
    assert denied['accessible'] is False and 'group' in denied['reason']


def test_a_software_backend_is_not_usable():
    x86 = dict(arch='x86_64')
    answering = dict(path='/dev/kvm', create_vm=True, api_version=12, reason=None)
    usable, reason = cpu.kvm_usable(answering, x86, 'kvm_pvm')
    assert usable is False and 'served by kvm_pvm, not by kvm_intel or kvm_amd' in reason
    assert cpu.kvm_usable(answering, x86, 'kvm_intel') == (True, None)
    assert cpu.kvm_usable(answering, dict(arch='aarch64'), None) == (True, None)
