"""kvm_host on this machine, through Ansible: an x86 VM without hardware virtualization whose kernel has no
loadable modules (kvm built in, served by the software backend kvm_pvm; kvm_amd and vhost_net not in it).
The facts and checks must say exactly that; nothing on the machine is changed."""

import os
import platform
import subprocess

import pytest

from harness import contract, fails, ok

pytestmark = pytest.mark.skipif(os.path.exists('/proc/modules') or 'vmx' in open('/proc/cpuinfo').read()
                                or ' svm' in open('/proc/cpuinfo').read(),
                                reason='written for a host without hardware virtualization or loadable modules')


def _checks(facts):
    return dict((check['name'], check) for check in facts['checks'])


@pytest.fixture(scope='module')
def facts(libvirtd):
    return ok('kvm_host', {'gather': False})['kvm_host']


def test_cpu_and_kernel(facts):
    assert facts['cpu']['arch'] == platform.machine()
    assert facts['cpu']['virtualization'] is None and facts['cpu']['hypervisor'] is True
    assert facts['cpu']['count'] == os.cpu_count()
    assert facts['kernel'] == dict(release=os.uname().release, loadable_modules=False)


def test_kvm_device_is_present_but_not_usable(facts):
    device = facts['kvm_device']
    assert device['present'] and device['accessible'] and device['api_version'] == 12
    assert device['create_vm'] is True                 # the software backend answers ...
    assert device['backend'] == 'kvm_pvm' and device['usable'] is False   # ... but runs no ordinary guest
    assert 'served by kvm_pvm, not by kvm_intel or kvm_amd' in device['reason']


def test_modules_built_in_or_absent(facts):
    assert facts['vendor_module'] in ('kvm_amd', 'kvm_intel')
    assert facts['modules']['kvm']['state'] == 'builtin'
    assert facts['modules'][facts['vendor_module']]['state'] == 'absent'
    assert 'is not set in kernel' in facts['modules'][facts['vendor_module']]['source']
    assert facts['modules']['tun']['state'] == 'builtin'
    assert facts['modules']['vhost_net']['state'] == 'absent'
    assert facts['nested']['enabled'] is None


def test_checks_say_emulation_only_with_hints(facts):
    checks = _checks(facts)
    for name in ('hardware_virtualization', 'kvm_module', 'kvm_device', 'libvirt_kvm'):
        assert checks[name]['result'] == 'FAIL', checks[name]
        assert checks[name]['hint'], checks[name]
    assert 'exposes neither vmx nor svm' in checks['hardware_virtualization']['detail']
    assert 'allow_emulation' in checks['hardware_virtualization']['hint']
    for name in ('libvirt_daemon', 'qemu_emulator', 'tun_device', 'firmware_uefi'):
        assert checks[name]['result'] == 'PASS', checks[name]
    assert checks['vhost_net']['result'] == 'WARN'
    assert facts['recommended_domain_type'] == 'qemu'


def test_libvirt_facts(facts):
    lv = facts['libvirt']
    assert lv['reachable'] and lv['version'] and lv['qemu_version']
    assert lv['daemon']['running'] is True and lv['daemon']['layout'] in ('monolithic', 'modular')
    node = facts['nodeinfo']
    assert node['cpus'] == os.cpu_count() and node['memory_kib'] > node['free_memory_kib'] > 0
    assert 'qemu' in facts['domain_types'] and 'pc' in facts['machine_types']
    assert facts['max_vcpus'] >= 1 and facts['firmware']['uefi'] is True
    assert facts['security']['libvirt_driver'] is not None


def test_require_hardware_virtualization_fails_clearly(libvirtd):
    result = fails('kvm_host', {'require': ['hardware_virtualization', 'tun_device']})
    assert result['msg'].startswith("validate KVM host '%s' failed: required check did not pass: "
                                    "hardware_virtualization FAIL (the CPU" % platform.node())
    assert 'hint: this machine is itself a virtual machine' in result['msg']
    assert [c['name'] for c in result['failed_checks']] == ['hardware_virtualization']


def test_allow_emulation_passes_the_gate(libvirtd):
    result = ok('kvm_host', {'require': ['hardware_virtualization', 'kvm_device', 'libvirt_daemon'],
                             'allow_emulation': True, 'gather': True})
    assert result['changed'] is False
    checks = _checks(result['kvm_host'])
    assert checks['hardware_virtualization']['result'] == 'WARN'
    assert checks['hardware_virtualization']['hint'].startswith('allowed by allow_emulation')
    assert result['ansible_facts']['kvm_host']['recommended_domain_type'] == 'qemu'


def test_modules_present_counts_built_in_modules_as_loaded(libvirtd):
    args = {'modules': 'present', 'extra_modules': ['tun', 'bridge', 'br_netfilter', 'macvtap'],
            'allow_emulation': True}
    _predicted, applied, _last = contract('kvm_host', args, expect_change=False)
    modules = applied['kvm_host']['modules']
    assert [modules[name]['state'] for name in ('kvm', 'tun', 'bridge', 'br_netfilter', 'macvtap')] == ['builtin'] * 5
    assert applied['kvm_host']['modules_load']['modules'] is None     # nothing loadable to persist
    assert 'skipped, as allow_emulation' in applied['_stderr'] + str(applied.get('warnings'))


def test_modules_present_fails_on_a_missing_module(libvirtd):
    vendor = fails('kvm_host', {'modules': 'present'}, check=True)
    assert vendor['msg'].startswith("load kernel module 'kvm_")
    assert 'neither built in nor available as a loadable module' in vendor['msg']
    missing = fails('kvm_host', {'modules': 'present', 'extra_modules': ['vhost_net'], 'allow_emulation': True})
    assert missing['msg'].startswith("load kernel module 'vhost_net' failed: it is neither built in nor available "
                                     "as a loadable module (CONFIG_VHOST_NET is not set in kernel")


def test_nested_needs_the_vendor_module(libvirtd):
    failed = fails('kvm_host', {'nested': True})
    assert failed['msg'].startswith("enable nested virtualization on kernel module 'kvm_")
    off = ok('kvm_host', {'nested': False})
    assert off['changed'] is False and not os.path.exists('/etc/modprobe.d/kvmops-kvm-nested.conf')


def test_facts_without_a_libvirt_daemon():
    result = ok('kvm_host', {'uri': 'qemu:///system?socket=/nonexistent/libvirt-sock'})
    facts = result['kvm_host']
    assert facts['libvirt']['reachable'] is False and 'nonexistent' in facts['libvirt']['error']
    assert facts['nodeinfo'] is None and facts['max_vcpus'] is None and facts['domain_types'] == []
    assert facts['libvirt']['qemu_version'] and facts['firmware']['uefi'] is True   # from QEMU and its descriptors
    checks = _checks(facts)
    assert checks['libvirt_daemon']['result'] == 'FAIL' and checks['libvirt_daemon']['hint']
    assert checks['qemu_emulator']['result'] == 'PASS'


@pytest.mark.skipif(not os.path.exists('/usr/bin/python3'), reason='needs the system python')
def test_runs_without_libvirt_python_and_lxml():
    """kvm_host checks a machine before libvirt is installed: the system python here has neither library."""
    probe = subprocess.run(['/usr/bin/python3', '-c', 'import libvirt'], capture_output=True, check=False)
    if probe.returncode == 0:
        pytest.skip('the system python has libvirt-python')
    result = ok('kvm_host', {'allow_emulation': True, 'require': ['hardware_virtualization', 'tun_device']},
                extra=('-e', 'ansible_python_interpreter=/usr/bin/python3'))
    facts = result['kvm_host']
    assert facts['libvirt']['error'] == 'libvirt-python is not installed on this host'
    assert facts['modules']['kvm']['state'] == 'builtin' and facts['kvm_device']['create_vm'] is True
    assert _checks(facts)['libvirt_daemon']['result'] == 'FAIL'


def test_qemu_can_open_the_kvm_device_as_set_up_by_the_harness(facts):
    access = facts['kvm_device']['qemu_access']
    assert access['user'] == 'libvirt-qemu' and access['device_group'] == 'kvm' and access['device_mode'] == '0660'
    assert access['read_write'] is True and access['reprobing'] is False
    assert _checks(facts)['qemu_kvm_access']['result'] == 'PASS'


@pytest.fixture
def kvm_device_locked_down():
    """/dev/kvm as the kernel leaves it where no udev runs (0600 root:root), restored afterwards."""
    before = os.stat('/dev/kvm')
    os.chown('/dev/kvm', 0, 0)
    os.chmod('/dev/kvm', 0o600)
    try:
        yield
    finally:
        os.chown('/dev/kvm', before.st_uid, before.st_gid)
        os.chmod('/dev/kvm', before.st_mode & 0o7777)


def test_reprobing_trap_is_named_with_its_fix(libvirtd, kvm_device_locked_down):
    libvirtd.getDomainCapabilities(None, None, None, 'qemu')   # libvirt re-probes: its cache says kvm (probed as root)
    result = fails('kvm_host', {'require': ['qemu_kvm_access'], 'allow_emulation': True})
    check = _checks(result['kvm_host'])['qemu_kvm_access']
    assert check['result'] == 'FAIL'
    assert "/dev/kvm is root:root 0600; QEMU runs as 'libvirt-qemu'" in check['detail']
    assert 'libvirt re-probes QEMU on every call: its capability cache (/var/cache/libvirt/qemu/capabilities/' \
        in check['detail']
    assert 'GROUP="kvm", MODE="0660"' in check['hint'] and 'usermod -a -G kvm libvirt-qemu' in check['hint']
    assert 'qemu_kvm_access FAIL' in result['msg']
    assert result['kvm_host']['kvm_device']['qemu_access']['reprobing'] is True
