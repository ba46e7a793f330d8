"""Hardening tests: every libvirt object, file, mount and bridge they make is named kvmth*, removed afterwards
even when a test failed (only kvmth* objects are touched: the daemon is shared)."""

import os
import shutil
import subprocess
import tempfile

import pytest

from harness import purge

PREFIX = 'kvmth'


def unmount_all(root):
    """Unmount every mount below `root` (tmpfs made for a test)."""
    with open('/proc/mounts') as stream:
        points = [line.split()[1] for line in stream if line.split()[1].startswith(root)]
    for point in sorted(points, reverse=True):
        subprocess.run(['umount', '-l', point], check=False)


def remove_volumes(conn):
    for pool in conn.listAllStoragePools():
        if pool.name().startswith(PREFIX) and pool.isActive():
            try:
                pool.refresh(0)
                for volume in pool.listAllVolumes(0):
                    volume.delete(0)
            except Exception:  # a half-broken pool: purge undefines it anyway
                pass


@pytest.fixture(autouse=True)
def clean(conn):
    remove_volumes(conn)
    purge(conn, PREFIX)
    yield
    remove_volumes(conn)
    purge(conn, PREFIX)


@pytest.fixture
def workdir():
    """A directory QEMU's user can traverse (pytest's tmp_path is 0700 root)."""
    path = tempfile.mkdtemp(prefix=PREFIX + '-', dir='/var/tmp')
    os.chmod(path, 0o755)
    yield path
    unmount_all(path)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def tmpfs(workdir):
    """mount(size) -> a directory below workdir with a tmpfs of that size (a file system that fills up)."""
    def mount(size, name='fs'):
        path = os.path.join(workdir, name)
        os.makedirs(path)
        subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=%s,mode=0755' % size, PREFIX + '-tmpfs', path], check=True)
        return path
    return mount
