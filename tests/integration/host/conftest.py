"""The lab's fixtures (a Debian guest reachable over ssh) for the guest-side kvm_host tests, when the lab exists."""

import sys
from pathlib import Path

import pytest

LAB_DIR = Path(__file__).resolve().parents[2] / 'lab'

try:
    sys.path.insert(0, str(LAB_DIR))
    from kvmlab.fixtures import lab, lab_debian_guest, lab_debian_image  # noqa: F401  pylint: disable=unused-import
    LAB_IMPORT_ERROR = None
except ImportError as exc:    # the lab is optional: its tests skip
    LAB_IMPORT_ERROR = exc


def pytest_configure(config):
    config.addinivalue_line('markers', 'lab: slow lab tests that boot the Debian guest image')


@pytest.fixture(scope='module')
def lab_guest(request):
    """(lab, Debian guest), or a skip when the lab cannot be imported."""
    if LAB_IMPORT_ERROR is not None:
        pytest.skip('the lab (tests/lab/kvmlab) cannot be imported: %s' % LAB_IMPORT_ERROR)
    return request.getfixturevalue('lab'), request.getfixturevalue('lab_debian_guest')
