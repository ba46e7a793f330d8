import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "lab"))

# pylint: disable-next=unused-import,wrong-import-position
from kvmlab.fixtures import lab, lab_debian_guest, lab_debian_image  # noqa: E402,F401


def pytest_configure(config):
    config.addinivalue_line("markers", "lab: slow lab tests that boot the Debian guest image")
