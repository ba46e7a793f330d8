"""Storage tests: every pool, volume and guest they make is named kvmtest-* and lives in a directory of
their own, removed afterwards even when a test failed."""

import os
import shutil
import tempfile

import pytest

PREFIX = 'kvmtest-'


def purge(conn):
    for dom in conn.listAllDomains():
        if dom.name().startswith(PREFIX):
            if dom.isActive():
                dom.destroy()
            if dom.isPersistent():
                dom.undefine()
    for pool in conn.listAllStoragePools():
        if pool.name().startswith(PREFIX):
            if pool.isActive():
                pool.destroy()
            if pool.isPersistent():
                pool.undefine()


@pytest.fixture(autouse=True)
def clean(conn):
    purge(conn)
    yield
    purge(conn)


@pytest.fixture
def workdir():
    """A directory QEMU's user can traverse (pytest's tmp_path is 0700 root)."""
    path = tempfile.mkdtemp(prefix=PREFIX, dir='/var/tmp')
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def pytest_configure(config):
    config.addinivalue_line('markers', 'lab: slow tests inside lab Debian guests (netfs pools)')
