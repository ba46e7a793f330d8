"""kvm_host in-process against a fake host tree (an Intel KVM host with loadable modules) and a fake modprobe."""

import errno
import fcntl
import os
import shutil

import pytest


libvirt = pytest.importorskip('libvirt')

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import files as _files  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._host import modules as _host_modules  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.module import KvmModule  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.modules import kvm_host  # noqa: E402

RELEASE = '6.1.0-26-amd64'
INTEL_CPUINFO = ''.join(
    'processor\t: %d\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Gold 6230\n'
    'flags\t\t: fpu vme de pse msr vmx ept vpid sse2\n\n' % n for n in range(4))
MODULES_LOAD = '/etc/modules-load.d/kvmops-kvm.conf'
NESTED = '/etc/modprobe.d/kvmops-kvm-nested.conf'


class FakeHost(object):
    """A host tree under tmp_path: /proc, /sys/module, /lib/modules, /etc; modprobe acts on it."""

    def __init__(self, root):
        self.root = str(root)
        self.available = {'kvm', 'kvm_intel', 'vhost_net', 'bonding', '8021q', 'br_netfilter'}
        self.builtin = {'bridge', 'tun'}
        self.calls = []
        self.write('/proc/cpuinfo', INTEL_CPUINFO)
        self.write('/proc/modules', '')
        self.write('/proc/meminfo', 'MemTotal: 16000000 kB\nHugePages_Total: 0\nHugePages_Free: 0\n'
                                    'Hugepagesize: 2048 kB\n')
        self.write('/proc/filesystems', 'nodev\thugetlbfs\n\text4\n')
        self.write('/proc/cmdline', 'root=/dev/sda1 intel_iommu=on quiet')
        self.write('/sys/fs/cgroup/cgroup.controllers', 'cpuset cpu io memory hugetlb pids')
        self.write('/lib/modules/%s/modules.builtin' % RELEASE,
                   ''.join('kernel/net/%s/%s.ko\n' % (name, name) for name in sorted(self.builtin)))
        self.write('/dev/net/tun', '')

    def path(self, path):
        return os.path.join(self.root, path.lstrip('/'))

    def write(self, path, text):
        target = self.path(path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, 'w') as stream:
            stream.write(text)

    def read(self, path):
        with open(self.path(path)) as stream:
            return stream.read()

    def exists(self, path):
        return os.path.exists(self.path(path))

    def loaded(self, name):
        return self.exists('/sys/module/%s/initstate' % name)

    def load(self, name):
        self.write('/sys/module/%s/initstate' % name, 'live\n')
        self.write('/sys/module/%s/refcnt' % name, '0\n')
        if name == 'kvm_intel':
            options = _host_modules.parse_options(self.read(NESTED) if self.exists(NESTED) else '') or {}
            nested = options.get('kvm_intel', {}).get('nested', 'Y')
            self.write('/sys/module/kvm_intel/parameters/nested', 'Y\n' if nested in ('1', 'Y') else 'N\n')
            self.load('kvm')
            self.write('/dev/kvm', '')
        if name == 'vhost_net':
            self.write('/dev/vhost-net', '')

    def modprobe(self, args):
        self.calls.append(args)
        assert args[0] == 'modprobe'
        name = args[-1]
        if '--dry-run' in args:
            return (0, '', '') if name in self.available else (1, '', 'modprobe: FATAL: Module %s not found' % name)
        if '--remove' in args:
            if int(self.read('/sys/module/%s/refcnt' % name)):
                return 1, '', 'modprobe: FATAL: Module %s is in use.' % name
            shutil.rmtree(self.path('/sys/module/%s' % name))
            return 0, '', ''
        if name not in self.available:
            return 1, '', 'modprobe: FATAL: Module %s not found' % name
        self.load(name)
        return 0, '', ''


@pytest.fixture
def host(tmp_path, monkeypatch):
    fake = FakeHost(tmp_path)
    monkeypatch.setattr(_files, 'ROOT', fake.root)
    monkeypatch.setattr(_host_modules, 'kernel_release', lambda: RELEASE)
    monkeypatch.setattr(KvmModule, 'run_command', lambda self, args: fake.modprobe(args))

    def ioctl(fd, request, _arg):
        if request == 0xAE00:
            return 12
        if request == 0xAE01:
            return os.dup(fd)
        raise OSError(errno.ENOTTY, 'not a tty')
    monkeypatch.setattr(fcntl, 'ioctl', ioctl)
    return fake


@pytest.fixture
def run(module_runner):
    libvirt.registerErrorHandler(lambda *_: None, None)
    return module_runner(kvm_host)


def checks(result):
    return dict((check['name'], check) for check in result['kvm_host']['checks'])


def test_facts_of_an_intel_host_before_loading(host, run):
    result = run()
    facts = result['kvm_host']
    assert result['changed'] is False and result['actions'] == []
    assert facts['cpu']['vendor'] == 'GenuineIntel' and facts['cpu']['virtualization'] == 'vmx'
    assert facts['cpu']['flags'] == ['ept', 'vmx', 'vpid'] and facts['cpu']['count'] == 4
    assert facts['vendor_module'] == 'kvm_intel'
    assert facts['modules']['kvm_intel']['state'] == 'available'
    assert facts['modules']['tun']['state'] == 'builtin'
    assert facts['kvm_device']['present'] is False and facts['kvm_device']['usable'] is False
    assert facts['iommu']['kernel_cmdline'] == ['intel_iommu=on']
    assert facts['cgroups'] == {'version': 2, 'controllers': ['cpu', 'cpuset', 'hugetlb', 'io', 'memory', 'pids']}
    found = checks(result)
    assert found['hardware_virtualization']['result'] == 'PASS'
    assert found['kvm_module']['result'] == 'FAIL' and 'load kvm' in found['kvm_module']['hint']
    assert found['kvm_device']['result'] == 'FAIL'
    assert found['tun_device']['result'] == 'PASS'
    assert found['cgroups']['result'] == 'PASS'
    assert found['libvirt_daemon']['result'] == 'PASS'      # the test driver answers
    assert facts['recommended_domain_type'] == 'qemu'
    assert 'ansible_facts' not in result


def test_modules_present_contract(host, run):
    args = dict(modules='present', extra_modules=['vhost_net', 'tun', 'bridge', 'br-netfilter'])
    predicted = run(check=True, **args)
    assert not host.loaded('kvm_intel') and not host.exists(MODULES_LOAD)
    applied = run(**args)
    expected = ["load kernel module 'kvm'", "load kernel module 'kvm_intel'", "load kernel module 'vhost_net'",
                "load kernel module 'br_netfilter'",
                "write file '%s': br_netfilter, kvm, kvm_intel, vhost_net" % MODULES_LOAD]
    assert predicted['actions'] == applied['actions'] == expected
    assert predicted['diff'] == applied['diff']
    assert applied['diff']['before']['modules_load'] is None
    assert applied['diff']['after']['modules_load'] == ['br_netfilter', 'kvm', 'kvm_intel', 'vhost_net']
    assert applied['diff']['after']['modules']['kvm_intel'] == 'loaded'
    assert _host_modules.parse_modules_load(host.read(MODULES_LOAD)) == {'kvm', 'kvm_intel', 'vhost_net',
                                                                         'br_netfilter'}
    facts = applied['kvm_host']
    assert facts['modules']['kvm_intel']['state'] == 'loaded' and facts['modules']['bridge']['state'] == 'builtin'
    assert facts['kvm_device']['usable'] is True and facts['recommended_domain_type'] == 'qemu'  # no kvm in test driver
    assert checks(applied)['kvm_device']['result'] == 'PASS' and checks(applied)['vhost_net']['result'] == 'PASS'
    assert run(check=True, **args)['changed'] is False
    assert run(**args)['changed'] is False


def test_modules_file_is_compared_by_meaning(host, run):
    for name in ('kvm', 'kvm_intel'):
        host.load(name)
    host.write(MODULES_LOAD, '# mine\nkvm-intel\n\nkvm  # the core\n')
    assert run(modules='present')['changed'] is False
    changed = run(modules='present', extra_modules=['8021q'])
    assert changed['actions'] == ["load kernel module '8021q'",
                                  "write file '%s': 8021q, kvm, kvm_intel" % MODULES_LOAD]
    assert changed['diff']['before']['modules_load'] == ['kvm', 'kvm_intel']


def test_missing_module_fails_before_changing_anything(host, run):
    result = run(modules='present', extra_modules=['vhost_net', 'nosuchmod'])
    assert result['rc'] == 1
    assert result['msg'].startswith("load kernel module 'nosuchmod' failed: it is neither built in nor available")
    assert not host.loaded('vhost_net') and not host.exists(MODULES_LOAD)


def test_extra_modules_need_modules_and_valid_names(host, run):
    assert 'required by' in run(extra_modules=['tun'])['msg']
    bad = run(modules='present', extra_modules=['tun; rm -rf /'])
    assert bad['msg'].startswith("Invalid parameter 'extra_modules'") and bad['parameter'] == 'extra_modules'


def test_nested_written_and_applied_by_reload(host, run):
    host.write(NESTED.replace('kvmops-kvm-nested', 'other'), 'options kvm_intel nested=1\n')
    host.load('kvm_intel')
    host.write('/sys/module/kvm_intel/parameters/nested', 'N\n')
    predicted = run(check=True, nested=True)
    applied = run(nested=True)
    assert applied['actions'] == predicted['actions'] == [
        "write file '%s': options kvm_intel nested=1" % NESTED, "reload kernel module 'kvm_intel': nested=1"]
    assert applied['diff'] == predicted['diff'] == {
        'before': {'nested_options': None, 'nested': {'enabled': False}},
        'after': {'nested_options': {'kvm_intel': {'nested': '1'}}, 'nested': {'enabled': True}}}
    assert any('other.conf' in str(w) for w in applied['warnings'])
    assert ['modprobe', '--remove', 'kvm_intel'] in host.calls
    assert applied['kvm_host']['nested']['enabled'] is True and applied['kvm_host']['nested']['persisted'] is True
    assert checks(applied)['nested_virtualization']['result'] == 'PASS'
    assert run(nested=True)['changed'] is False


def test_nested_with_running_guests_needs_a_reload(host, run):
    host.write(NESTED, 'options kvm_intel nested=Y\n')   # same meaning as nested=1: not rewritten
    host.load('kvm_intel')
    host.write('/sys/module/kvm_intel/parameters/nested', 'N\n')
    host.write('/sys/module/kvm_intel/refcnt', '2\n')
    result = run(nested=True)
    assert result['changed'] is False and result['reload_required'] is True
    assert any('in use by 2 virtual machine' in str(w) for w in result['warnings'])
    off = run(nested=False)
    assert off['actions'] == ["write file '%s': options kvm_intel nested=0" % NESTED]
    assert off['reload_required'] is False


def test_nested_on_a_builtin_vendor_module(host, run):
    host.write('/sys/module/kvm_intel/parameters/nested', 'Y\n')   # built in: no initstate
    assert run(nested=True)['changed'] is False
    failed = run(nested=False)
    assert failed['msg'] == ("disable nested virtualization on kernel module 'kvm_intel' failed: it is built into "
                             "the kernel, where modprobe.d options do not apply: set kvm_intel.nested=0 on the kernel "
                             "command line and reboot")


def test_require_names_every_failed_check(host, run):
    result = run(require=['hardware_virtualization', 'kvm_device', 'vhost_net'])
    assert result['rc'] == 1
    assert result['msg'].startswith("validate KVM host '")
    assert 'required checks did not pass: kvm_device FAIL (/dev/kvm does not exist; hint: load the kvm modules' \
        in result['msg']
    assert 'vhost_net WARN' in result['msg'] and 'hardware_virtualization' not in result['msg']
    assert [check['name'] for check in result['failed_checks']] == ['kvm_device', 'vhost_net']


def test_require_rejects_unknown_checks(host, run):
    result = run(require=['kvm_device', 'warp_drive'])
    assert result['parameter'] == 'require' and 'unknown check warp_drive' in result['msg']


def test_gather_returns_ansible_facts(host, run):
    result = run(gather=True)
    assert result['ansible_facts']['kvm_host']['vendor_module'] == 'kvm_intel'


def test_without_libvirt_python(host, run, monkeypatch):
    from ansible_collections.kvmops.kvm.plugins.module_utils._engine import deps as _deps
    from ansible_collections.kvmops.kvm.plugins.module_utils._host import libvirt_facts as _host_libvirt
    monkeypatch.setattr(_host_libvirt, 'libvirt', _deps._NotInstalled())
    result = run(modules='present')
    assert result['changed'] is True and host.loaded('kvm_intel')
    assert result['kvm_host']['libvirt']['reachable'] is False
    assert result['kvm_host']['libvirt']['error'] == 'libvirt-python is not installed on this host'
    assert checks(result)['libvirt_daemon']['result'] == 'FAIL'
