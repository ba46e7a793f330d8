"""Kernel module states and the files that persist modules and options."""

import gzip

import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import files as _files
from ansible_collections.kvmops.kvm.plugins.module_utils._host import modules as kmod

RELEASE = '6.18.0-test'


def _tree(tmp_path, files):
    for path, text in files.items():
        target = tmp_path / path.lstrip('/')
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.endswith('.gz'):
            with gzip.open(str(target), 'wt') as stream:
                stream.write(text)
        else:
            target.write_text(text)


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setattr(_files, 'ROOT', str(tmp_path))
    return tmp_path


def test_a_kernel_without_loadable_modules(root):
    """This project's own machine: kvm and kvm_pvm built in, kvm_amd and vhost_net not in the kernel."""
    _tree(root, {'/sys/module/kvm/parameters/halt_poll_ns': '200000', '/sys/module/kvm_pvm/parameters/force': 'N',
                 '/proc/config.gz': 'CONFIG_KVM=y\n# CONFIG_KVM_AMD is not set\nCONFIG_TUN=y\n'
                                    '# CONFIG_VHOST_NET is not set\n# CONFIG_MODULES is not set\n'})
    calls = []
    kernel = kmod.KernelModules(calls.append, release=RELEASE)
    assert kernel.loadable_modules is False
    assert kernel.state('kvm') == ('builtin', '/sys/module/kvm without initstate')
    assert kernel.state('tun') == ('builtin', 'CONFIG_TUN=y')
    assert kernel.state('kvm-amd') == ('absent', 'CONFIG_KVM_AMD is not set in kernel %s' % RELEASE)
    assert kernel.state('bonding') == ('absent', 'kernel %s has no loadable modules' % RELEASE)
    assert calls == []


def test_a_kernel_with_loadable_modules(root):
    _tree(root, {'/proc/modules': 'kvm 1 0 - Live\n', '/sys/module/kvm/initstate': 'live',
                 '/sys/module/kvm_intel/initstate': 'live', '/sys/module/kvm_intel/parameters/nested': 'Y\n',
                 '/sys/module/kvm_intel/refcnt': '3\n',
                 '/lib/modules/%s/modules.builtin' % RELEASE: 'kernel/net/bridge/bridge.ko\n',
                 '/boot/config-%s' % RELEASE: 'CONFIG_TUN=m\n'})

    def modprobe(args):
        return (0, '', '') if args[-1] == 'vhost_net' else (1, '', 'modprobe: FATAL: Module %s not found' % args[-1])
    kernel = kmod.KernelModules(modprobe, release=RELEASE)
    assert kernel.config == {'TUN': 'm'}
    assert kernel.state('kvm_intel')[0] == 'loaded'
    assert kernel.state('bridge') == ('builtin', 'modules.builtin')
    assert kernel.state('vhost-net') == ('available', 'modprobe --dry-run')
    assert kernel.state('nbd') == ('absent', 'modprobe: FATAL: Module nbd not found')
    assert kernel.parameter('kvm_intel', 'nested') == 'Y' and kmod.flag('Y') is True and kmod.flag('0') is False
    assert kernel.refcount('kvm_intel') == 3 and kernel.refcount('kvm') == 0


def test_modules_load_file_by_meaning():
    assert kmod.parse_modules_load(None) is None
    text = '# comment\nkvm_intel\n; also a comment\n  vhost-net  \n\nkvm # trailing\n'
    assert kmod.parse_modules_load(text) == {'kvm', 'kvm_intel', 'vhost_net'}
    rendered = kmod.render_modules_load({'vhost_net', 'kvm'})
    assert rendered.startswith('# Managed by kvmops.kvm.kvm_host') and rendered.endswith('kvm\nvhost_net\n')
    assert kmod.parse_modules_load(rendered) == {'kvm', 'vhost_net'}


def test_options_file_and_other_files(root):
    assert kmod.parse_options(None) is None
    options = kmod.parse_options('options kvm-intel nested=1 enable_apicv=0 # why\nblacklist foo\n')
    assert options == {'kvm_intel': {'nested': '1', 'enable_apicv': '0'}}
    assert kmod.parse_options(kmod.render_options({'kvm_amd': {'nested': '0'}})) == {'kvm_amd': {'nested': '0'}}
    _tree(root, {'/etc/modprobe.d/kvm.conf': 'options kvm_amd nested=1\n',
                 '/etc/modprobe.d/kvmops-kvm-nested.conf': 'options kvm_amd nested=0\n',
                 '/usr/lib/modprobe.d/other.conf': 'options kvm_amd avic=1\n',
                 '/etc/modprobe.d/README': 'options kvm_amd nested=1\n'})
    assert kmod.other_option_files('kvm_amd', 'nested', kmod.NESTED_FILE) == ['/etc/modprobe.d/kvm.conf']


def test_valid_names():
    assert kmod.valid_name('8021q') and kmod.valid_name('br_netfilter') and kmod.valid_name('kvm-intel')
    assert not kmod.valid_name('') and not kmod.valid_name('a b') and not kmod.valid_name('../x')
