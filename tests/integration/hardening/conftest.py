"""Hardening tests: every libvirt object, file, mount and bridge they make is named kvmth*, removed afterwards
even when a test failed (only kvmth* objects are touched: the daemon is shared)."""

import os
import shutil
import subprocess
import tempfile

import pytest

from harness import purge
from hardening_env import PREFIX, remove_volumes, unmount_all
from private_libvirtd import sweep


@pytest.fixture(scope='session', autouse=True)
def private_daemons_left_over():
    """Private libvirtds (private_libvirtd.py) an earlier run killed outright left running."""
    sweep()


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
