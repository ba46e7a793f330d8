"""The checks and the recommended domain type, from facts."""

import copy

from ansible_collections.kvmops.kvm.plugins.module_utils._host import checks

HEALTHY = dict(
    cpu=dict(arch='x86_64', vendor='GenuineIntel', model='Xeon', virtualization='vmx', hypervisor=False),
    kernel=dict(release='6.1.0-26-amd64', loadable_modules=True),
    kvm_device=dict(path='/dev/kvm', present=True, accessible=True, api_version=12, create_vm=True,
                    backend='kvm_intel', usable=True, reason=None,
                    qemu_access=dict(user='libvirt-qemu', group='libvirt-qemu', device_owner='root', device_group='kvm',
                                     device_mode='0660', read_write=True, reprobing=False, capability_cache=[])),
    vendor_module='kvm_intel',
    modules=dict(kvm=dict(state='loaded', source='x'), kvm_intel=dict(state='loaded', source='x'),
                 tun=dict(state='loaded', source='x'), vhost_net=dict(state='loaded', source='x')),
    nested=dict(module='kvm_intel', value='Y', enabled=True, persisted=True, file='f'),
    libvirt=dict(uri='qemu:///system', reachable=True, error=None, version='9.0.0', qemu_version='7.2.0',
                 emulator='/usr/bin/qemu-system-x86_64', domain_types=['kvm', 'qemu'],
                 daemon=dict(layout='modular', driver_daemon='virtqemud', running=True)),
    firmware=dict(uefi=True, loaders=['/usr/share/OVMF/OVMF_CODE_4M.fd'], secure_boot=True),
    hugepages=dict(supported=True, pools=[dict(size_kib=2048, total=512, free=512)]),
    iommu=dict(enabled=True, groups=40, kernel_cmdline=['intel_iommu=on']),
    cgroups=dict(version=2, controllers=['cpu', 'cpuset', 'io', 'memory', 'pids']),
    security=dict(libvirt_driver='apparmor'),
    devices=dict(tun=True, vhost_net=True),
)


def results(facts, allow_emulation=False):
    return dict((c['name'], c) for c in checks.run_checks(facts, allow_emulation))


def test_a_healthy_host_passes_everything():
    found = checks.run_checks(HEALTHY, False)
    assert [c['name'] for c in found] == list(checks.CHECK_NAMES)
    assert all(c['result'] == 'PASS' and c['hint'] is None for c in found), found
    assert checks.recommended_domain_type(found, HEALTHY) == 'kvm'


def this_machine():
    """A cloud VM without nested virtualization whose /dev/kvm is served by kvm_pvm."""
    facts = copy.deepcopy(HEALTHY)
    facts['cpu'].update(vendor='AuthenticAMD', model='AMD EPYC', virtualization=None, hypervisor=True)
    facts['kernel'].update(release='6.18.44', loadable_modules=False)
    facts['vendor_module'] = 'kvm_amd'
    facts['modules'] = dict(kvm=dict(state='builtin', source='/sys/module/kvm without initstate'),
                            kvm_amd=dict(state='absent', source='CONFIG_KVM_AMD is not set in kernel 6.18.44'),
                            kvm_pvm=dict(state='builtin', source='x'), tun=dict(state='builtin', source='x'),
                            vhost_net=dict(state='absent', source='x'))
    facts['nested'] = dict(module='kvm_amd', value=None, enabled=None, persisted=None, file='f')
    facts['kvm_device'].update(backend='kvm_pvm', usable=False, reason='/dev/kvm answers but it is served by kvm_pvm')
    facts['devices']['vhost_net'] = False
    return facts


def test_no_hardware_virtualization():
    facts = this_machine()
    found = results(facts)
    assert found['hardware_virtualization']['result'] == 'FAIL'
    assert 'itself a virtual machine' in found['hardware_virtualization']['hint']
    assert found['kvm_module']['result'] == 'FAIL'
    assert found['kvm_module']['detail'] == 'kvm builtin, kvm_amd absent'
    assert 'served by kvm_pvm instead' in found['kvm_module']['hint']
    assert found['kvm_device']['result'] == 'FAIL' and 'kvm_pvm' in found['kvm_device']['detail']
    assert found['libvirt_kvm']['result'] == 'FAIL'     # libvirt offers kvm, but it would not run
    assert found['nested_virtualization']['result'] == 'WARN'
    assert found['vhost_net']['result'] == 'WARN'
    assert checks.recommended_domain_type(list(found.values()), facts) == 'qemu'
    assert [c['name'] for c in checks.unmet(list(found.values()), ['hardware_virtualization', 'tun_device'], False)] \
        == ['hardware_virtualization']


def test_allow_emulation_turns_acceleration_failures_into_warnings():
    found = results(this_machine(), allow_emulation=True)
    for name in checks.ACCELERATION_CHECKS:
        assert found[name]['result'] == 'WARN'
        assert found[name]['hint'].startswith('allowed by allow_emulation')
    required = ['hardware_virtualization', 'kvm_device', 'vhost_net']
    assert [c['name'] for c in checks.unmet(list(found.values()), required, True)] == ['vhost_net']


def test_without_libvirt():
    facts = copy.deepcopy(HEALTHY)
    facts['libvirt'].update(reachable=False, error='Failed to connect socket', version=None, domain_types=[],
                            daemon=dict(layout='monolithic', driver_daemon='libvirtd', running=False))
    facts['security']['libvirt_driver'] = None
    found = results(facts)
    assert found['libvirt_daemon']['result'] == 'FAIL'
    assert found['libvirt_daemon']['hint'] == 'start it: systemctl enable --now libvirtd'
    assert found['libvirt_kvm']['result'] == 'WARN' and found['security_driver']['result'] == 'WARN'
    assert found['qemu_emulator']['result'] == 'PASS'
    assert checks.recommended_domain_type(list(found.values()), facts) == 'kvm'


def test_optional_features():
    facts = copy.deepcopy(HEALTHY)
    facts['hugepages'] = dict(supported=True, pools=[dict(size_kib=2048, total=0, free=0)])
    facts['iommu'] = dict(enabled=False, groups=0, kernel_cmdline=[])
    facts['cgroups'] = dict(version=1, controllers=['cpu', 'memory'])
    facts['firmware'] = None
    facts['security']['libvirt_driver'] = 'none'
    found = results(facts)
    assert [found[n]['result'] for n in ('hugepages', 'iommu', 'cgroups', 'firmware_uefi', 'security_driver')] == \
        ['WARN'] * 5
    assert 'intel_iommu=on' in found['iommu']['hint']
    assert 'missing cpuacct, cpuset, devices, blkio' in found['cgroups']['detail']
    facts['hugepages']['supported'] = False
    assert results(facts)['hugepages']['result'] == 'FAIL'


def test_qemu_kvm_access_names_the_reprobing_trap_and_the_fix():
    facts = copy.deepcopy(HEALTHY)
    facts['kvm_device']['qemu_access'].update(device_group='root', device_mode='0600', read_write=False, reprobing=True,
                                              capability_cache=['/var/cache/libvirt/qemu/capabilities/a.xml'])
    found = results(facts, allow_emulation=True)['qemu_kvm_access']
    assert found['result'] == 'FAIL'   # not waived by allow_emulation: emulated hosts pay the same price
    assert "/dev/kvm is root:root 0600; QEMU runs as 'libvirt-qemu'" in found['detail']
    assert 'libvirt re-probes QEMU on every call' in found['detail'] and 'a.xml' in found['detail']
    assert 'GROUP="kvm", MODE="0660"' in found['hint'] and 'usermod -a -G kvm libvirt-qemu' in found['hint']
    assert [c['name'] for c in checks.unmet(list(results(facts, True).values()), ['qemu_kvm_access'], True)] == [
        'qemu_kvm_access']


def test_qemu_kvm_access_without_a_device_passes():
    facts = copy.deepcopy(HEALTHY)
    facts['kvm_device'].update(present=False, usable=False)
    assert results(facts)['qemu_kvm_access']['result'] == 'PASS'
