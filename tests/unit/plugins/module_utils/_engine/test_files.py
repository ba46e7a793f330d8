"""The managed host's files (_engine/files.py), under a fake root."""

import os
import shutil

import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import files as _files


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setattr(_files, 'ROOT', str(tmp_path))
    return tmp_path


class FakeAnsible(object):
    def __init__(self):
        self.moves = []

    def atomic_move(self, source, target):
        """As Ansible's: a file it creates gets the umask's default mode (0644 here), an existing one keeps its own."""
        self.moves.append(target)
        creating = not os.path.exists(target)
        mode = None if creating else os.stat(target).st_mode & 0o7777
        shutil.move(source, target)
        os.chmod(target, 0o644 if creating else mode)


class FakeModule(object):
    def __init__(self):
        self.ansible = FakeAnsible()


def test_host_paths_are_taken_under_root(root):
    assert _files.host_path('/etc/modules-load.d/kvm.conf') == str(root / 'etc/modules-load.d/kvm.conf')
    assert _files.host_path('etc/x') == str(root / 'etc/x')


def test_reading_missing_files_gives_the_default(root):
    (root / 'etc').mkdir()
    (root / 'etc' / 'a.conf').write_bytes(b'kvm_intel\n\xff')
    assert _files.exists('/etc/a.conf') and not _files.exists('/etc/b.conf')
    assert _files.read_text('/etc/a.conf') == u'kvm_intel\n\ufffd'   # undecodable bytes do not fail a read
    assert _files.read_text('/etc/b.conf') is None
    assert _files.read_text('/etc/b.conf', default='') == ''


def test_listing_and_matching(root):
    for name in ('b.conf', 'a.conf', 'c.txt'):
        (root / 'etc' / 'modprobe.d').mkdir(parents=True, exist_ok=True)
        (root / 'etc' / 'modprobe.d' / name).write_text('x')
    assert _files.list_dir('/etc/modprobe.d') == ['a.conf', 'b.conf', 'c.txt']
    assert _files.list_dir('/etc/none') == []
    assert _files.matching('/etc/modprobe.d/*.conf') == ['/etc/modprobe.d/a.conf', '/etc/modprobe.d/b.conf']
    assert _files.matching('/sys/module/kvm*') == []


def test_write_atomically_creates_the_directory_sets_the_mode_and_leaves_no_temporary(root):
    module = FakeModule()
    _files.write_atomically(module, '/etc/modules-load.d/kvmops.conf', u'kvm\nvhost_net\n', mode=0o600)
    target = root / 'etc' / 'modules-load.d' / 'kvmops.conf'
    assert target.read_text() == 'kvm\nvhost_net\n'
    assert oct(os.stat(str(target)).st_mode & 0o777) == oct(0o600)
    assert module.ansible.moves == [str(target)]
    assert os.listdir(str(target.parent)) == ['kvmops.conf']
    _files.write_atomically(module, '/etc/modules-load.d/kvmops.conf', u'kvm\n')
    assert target.read_text() == 'kvm\n'
    assert oct(os.stat(str(target)).st_mode & 0o777) == oct(0o600)   # no mode given: the file keeps its own


def test_a_new_file_gets_the_mode_asked_although_atomic_move_gives_new_files_0644(root):
    """NetworkManager refuses keyfiles others may read: kvm_bridge's profiles must end 0600."""
    _files.write_atomically(FakeModule(), '/etc/NetworkManager/system-connections/x.nmconnection', u'[connection]\n',
                            mode=0o600)
    target = root / 'etc' / 'NetworkManager' / 'system-connections' / 'x.nmconnection'
    assert oct(os.stat(str(target)).st_mode & 0o777) == oct(0o600)
    _files.write_atomically(FakeModule(), '/etc/new.conf', u'x\n')
    assert oct(os.stat(str(root / 'etc' / 'new.conf')).st_mode & 0o777) == oct(0o644)


def test_a_failed_write_leaves_no_temporary(root):
    class Refusing(FakeAnsible):
        def atomic_move(self, source, target):
            raise OSError('read-only file system')
    module = FakeModule()
    module.ansible = Refusing()
    with pytest.raises(OSError):
        _files.write_atomically(module, '/etc/x.conf', u'x')
    assert os.listdir(str(root / 'etc')) == []


def test_remove_is_quiet_when_the_file_is_already_gone(root):
    (root / 'f').write_text('x')
    _files.remove('/f')
    _files.remove('/f')
    assert not _files.exists('/f')
    (root / 'd').mkdir()
    with pytest.raises(OSError):
        _files.remove('/d')   # there, and not removable as a file: that is an error
