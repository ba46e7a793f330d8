"""Who QEMU runs as, whether it can open /dev/kvm, and the capability cache that shows re-probing."""

import os

import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import files as _files
from ansible_collections.kvmops.kvm.plugins.module_utils._host import qemu


def test_configured_identity_ignores_comments():
    text = '#user = "libvirt-qemu"\n# group = "x"\nuser = "qemu"\n  group = "kvm"\n'
    assert qemu.configured_identity(text) == ('qemu', 'kvm')
    assert qemu.configured_identity('#user = "root"\n') == (None, None)
    assert qemu.configured_identity(None) == (None, None)


@pytest.mark.parametrize('mode, owner, group, uid, gids, expected', [
    (0o600, 0, 0, 0, set(), True),          # root opens anything
    (0o600, 0, 0, 64055, {64055}, False),   # the trap: the kernel's default without udev
    (0o660, 0, 107, 64055, {64055, 107}, True),
    (0o660, 0, 107, 64055, {64055}, False),
    (0o666, 0, 0, 64055, set(), True),
    (0o600, 64055, 0, 64055, set(), True),
    (0o400, 64055, 0, 64055, set(), False),
])
def test_can_read_write(mode, owner, group, uid, gids, expected):
    assert qemu.can_read_write(mode, owner, group, uid, gids) is expected


@pytest.fixture
def fake_root(tmp_path, monkeypatch):
    monkeypatch.setattr(_files, 'ROOT', str(tmp_path))
    (tmp_path / 'etc/libvirt').mkdir(parents=True)
    (tmp_path / 'dev').mkdir()
    (tmp_path / 'var/cache/libvirt/qemu/capabilities').mkdir(parents=True)
    return tmp_path


def nobody_is_qemu(root):
    (root / 'etc/libvirt/qemu.conf').write_text('user = "nobody"\ngroup = "nogroup"\n')


def test_device_closed_to_qemu_with_kvm_in_the_cache_is_reprobing(fake_root):
    nobody_is_qemu(fake_root)
    device = fake_root / 'dev/kvm'
    device.write_text('')
    os.chmod(str(device), 0o600)
    (fake_root / 'var/cache/libvirt/qemu/capabilities/abc.xml').write_text("<qemuCaps>\n  <flag name='kvm'/>\n")
    (fake_root / 'var/cache/libvirt/qemu/capabilities/def.xml').write_text("<qemuCaps>\n  <flag name='tcg'/>\n")
    facts = qemu.qemu_device_access('/dev/kvm')
    assert facts['user'] == 'nobody' and facts['group'] == 'nogroup' and facts['device_mode'] == '0600'
    assert facts['read_write'] is False and facts['reprobing'] is True
    assert facts['capability_cache'] == ['/var/cache/libvirt/qemu/capabilities/abc.xml']


def test_device_open_to_qemu(fake_root):
    nobody_is_qemu(fake_root)
    device = fake_root / 'dev/kvm'
    device.write_text('')
    os.chmod(str(device), 0o666)
    facts = qemu.qemu_device_access('/dev/kvm')
    assert facts['read_write'] is True and facts['reprobing'] is False and facts['capability_cache'] == []


def test_default_user_when_qemu_conf_names_none(fake_root, monkeypatch):
    (fake_root / 'etc/libvirt/qemu.conf').write_text('#user = "libvirt-qemu"\n')
    (fake_root / 'dev/kvm').write_text('')
    monkeypatch.setattr(qemu, 'DEFAULT_USERS', ('no-such-user-here', 'nobody'))
    assert qemu.qemu_device_access('/dev/kvm')['user'] == 'nobody'


def test_no_device(fake_root):
    facts = qemu.qemu_device_access('/dev/kvm')
    assert facts['read_write'] is None and facts['device_mode'] is None and facts['reprobing'] is False
