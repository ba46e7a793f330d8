"""The guest-side kvm_host tests run in a lab Debian guest (fixtures from kvmlab.fixtures)."""

import pytest


@pytest.fixture(scope='module')
def lab_guest(request):
    """(lab, Debian guest)."""
    return request.getfixturevalue('lab'), request.getfixturevalue('lab_debian_guest')
