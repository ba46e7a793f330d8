"""The NFS checks, with the network and the mount faked where this host cannot do them (no NFS client)."""

import errno
import os
import socket

import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._storage import nfs as _nfs


def test_probe_refused_and_open():
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    assert _nfs.probe('127.0.0.1', port) is None
    listener.close()
    assert _nfs.probe('127.0.0.1', port)   # refused now: a reason


def test_v3_also_needs_rpcbind(monkeypatch):
    asked = []
    monkeypatch.setattr(_nfs, 'probe', lambda host, port: asked.append(port))
    _nfs.check_reachable('h', ['vers=3'])
    _nfs.check_reachable('h', ['vers=4.2'])
    assert asked == [2049, 111, 2049]


def test_unreachable_message(monkeypatch):
    monkeypatch.setattr(_nfs, 'probe', lambda host, port: 'Connection refused')
    with pytest.raises(_nfs.NfsProblem, match='does not answer on TCP 2049'):
        _nfs.check_reachable('nfs1', [])


def test_export_name_brackets_ipv6():
    assert _nfs.export_name('fd00::2', '/e') == '[fd00::2]:/e'
    assert _nfs.export_name('nfs1', '/e') == 'nfs1:/e'


def test_selinux_boolean(tmp_path):
    assert _nfs.selinux_virt_use_nfs(str(tmp_path)) is None
    (tmp_path / 'enforce').write_text('1')
    (tmp_path / 'booleans').mkdir()
    (tmp_path / 'booleans' / 'virt_use_nfs').write_text('0 0')
    assert _nfs.selinux_virt_use_nfs(str(tmp_path)) is False
    (tmp_path / 'booleans' / 'virt_use_nfs').write_text('1 1')
    assert _nfs.selinux_virt_use_nfs(str(tmp_path)) is True


def test_qemu_account_from_qemu_conf(tmp_path):
    conf = tmp_path / 'qemu.conf'
    conf.write_text('#user = "nobody"\nuser = "root"\n')
    assert _nfs.qemu_account(str(conf))[:2] == ('root', 0)


class FakeMount(object):
    """run_command that 'mounts' by doing nothing: the temporary directory stands in for the export."""

    def __init__(self, rc=0, err=''):
        self.rc, self.err, self.calls = rc, err, []

    def __call__(self, args):
        self.calls.append(args)
        return (self.rc, '', self.err) if args[2] == 'mount' else (0, '', '')


def trial(runner, account=('libvirt-qemu', 64055, 64055)):
    return _nfs.TrialMount(runner, '/sbin/mount.nfs', 'nfs1', '/export', 'nfs', ['vers=4.2'], account)


def test_trial_mount_passes_and_unmounts():
    runner = FakeMount()
    trial(runner).run()
    assert runner.calls[0][2:6] == ['mount', '-t', 'nfs', '-o'] and runner.calls[0][-2] == 'nfs1:/export'
    assert runner.calls[1][2] == 'umount'


def test_access_denied_names_the_fix():
    with pytest.raises(_nfs.NfsProblem, match="refuses this host"):
        trial(FakeMount(32, 'mount.nfs: access denied by server while mounting nfs1:/export')).run()


def test_root_squash_is_detected(monkeypatch):
    def squashed_chown(_path, _uid, _gid):
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))
    monkeypatch.setattr(_nfs.os, 'chown', squashed_chown)
    runner = FakeMount()
    with pytest.raises(_nfs.NfsProblem, match='no_root_squash, or with anonuid=64055,anongid=64055'):
        trial(runner).run()
    assert runner.calls[-1][2] == 'umount'


def test_unwritable_export_is_detected(monkeypatch):
    def denied(*_args):
        raise OSError(errno.EACCES, os.strerror(errno.EACCES))
    monkeypatch.setattr(_nfs.os, 'open', denied)
    with pytest.raises(_nfs.NfsProblem, match='cannot create files'):
        trial(FakeMount()).run()


def test_missing_mount_helper():
    with pytest.raises(_nfs.NfsProblem, match='nfs-common'):
        _nfs.TrialMount(FakeMount(), None, 'h', '/e', 'nfs', [], None).run()
