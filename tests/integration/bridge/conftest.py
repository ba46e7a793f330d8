"""kvm_bridge tests run the module inside network namespaces made here (prefix kvmtb), never in the root one."""

import subprocess

import pytest

from netns import PREFIX, Lab


def _purge():
    names = subprocess.run(['ip', 'netns', 'list'], capture_output=True, text=True, check=False).stdout.split()
    for name in names:
        if name.startswith(PREFIX + '-'):
            subprocess.run(['ip', 'netns', 'del', name], capture_output=True, check=False)


@pytest.fixture(scope='session', autouse=True)
def kvmtb_purge():
    _purge()
    yield
    _purge()


@pytest.fixture
def ns(request):
    """A fresh host namespace with nic0..nic2 (nic0 has the address and the default route) and its LAN."""
    slot = 1 + (hash(request.node.name) % 200)
    made = Lab(slot).up()
    yield made
    made.down()
