"""kvm_bridge tests run the module inside network namespaces made here (prefix kvmtb<test slot>-), never in the root
one; each integration stream purges only its own."""

import subprocess

import pytest

from netns import NETNS_PREFIX, Lab


def _purge():
    names = subprocess.run(['ip', 'netns', 'list'], capture_output=True, text=True, check=False).stdout.split()
    for name in names:
        if name.startswith(NETNS_PREFIX):
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
