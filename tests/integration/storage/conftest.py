"""Storage tests: every pool, volume and guest they make is named kvmtest-* and lives in a directory of
their own, removed afterwards even when a test failed."""

import os
import shutil
import tempfile

import pytest

from harness import purge

PREFIX = 'kvmtest-'


@pytest.fixture(autouse=True)
def clean(conn):
    purge(conn, PREFIX)
    yield
    purge(conn, PREFIX)


@pytest.fixture
def workdir():
    """A directory QEMU's user can traverse (pytest's tmp_path is 0700 root)."""
    path = tempfile.mkdtemp(prefix=PREFIX, dir='/var/tmp')
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def pytest_configure(config):
    config.addinivalue_line('markers', 'lab: slow tests inside lab Debian guests (netfs pools)')
