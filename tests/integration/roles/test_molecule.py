"""The roles' molecule scenarios (extensions/molecule/<role>: syntax, prepare, check mode, converge, idempotence,
testinfra verify, cleanup) against the lab that is up: its first Debian guest is the KVM host, its kernel NFS guest
(or a second Debian guest) the NFS server and second host; apt comes from the lab's package mirror. One molecule
run per role, on the same booted guests."""

import os
import subprocess
import time

import pytest

from harness import ROOT
from molecule_lab import write_inventory

# opt-in until they fit the CI budget: measured at 8-40 min each on this loaded 2-core machine (docs/molecule.md);
# `make test-molecule` (or KVMOPS_MOLECULE=1 in the lab stream) runs them
pytestmark = [pytest.mark.lab,
              pytest.mark.skipif(os.environ.get('KVMOPS_MOLECULE') != '1',
                                 reason='the molecule scenarios run with KVMOPS_MOLECULE=1 (make test-molecule)')]

SCENARIOS = ['hypervisor', 'host_network', 'nfs_storage']
BIN = os.path.join(ROOT, '.venv', 'bin')


@pytest.fixture(scope='module')
def molecule_env(lab, tmp_path_factory):
    from kvmlab.fixtures import LAB_HOSTS
    plain = [guest for guest in lab.guests if guest.role == 'guest']
    nfs = [guest for guest in lab.guests if guest.role == 'nfs-server']
    # two guests: the lab stream's (a Debian guest and the NFS guest), or a developer's lab with two Debian guests
    lab.up(hosts=LAB_HOSTS, storage=True, debian_guests=max(1, len(plain)), nfs_guest=bool(nfs or len(plain) < 2),
           package_mirror=True)
    inventory = write_inventory(lab, str(tmp_path_factory.mktemp('molecule-inventory')))
    return dict(os.environ, MOLECULE_LAB_INVENTORY=inventory, PATH=BIN + os.pathsep + os.environ['PATH'],
                ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'), NO_COLOR='1', PY_COLORS='0',
                ANSIBLE_FORCE_COLOR='0')


@pytest.mark.parametrize('scenario', SCENARIOS)
def test_molecule_scenario(molecule_env, scenario):
    began = time.monotonic()
    proc = subprocess.run([os.path.join(BIN, 'molecule'), 'test', '-s', scenario], cwd=ROOT, env=molecule_env,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=1800, check=False)
    print('molecule test -s %s: %.0f s' % (scenario, time.monotonic() - began))
    assert proc.returncode == 0, proc.stdout[-12000:]
    # the second converge changed nothing, and testinfra ran and passed
    assert 'idempotence' in proc.stdout and 'Idempotence completed successfully' in proc.stdout, proc.stdout[-6000:]
    assert ' passed' in proc.stdout and ' failed' not in proc.stdout.split('verify', 1)[-1].split('cleanup', 1)[0]
