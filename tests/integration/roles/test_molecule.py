"""The roles' molecule scenarios (extensions/molecule/<role>: syntax, prepare, check mode, converge, idempotence,
testinfra verify, cleanup) against the lab that is up: guests on its first hypervisor host; hypervisor, host_network
and nfs_storage on its first Debian guest (the KVM host) and its kernel NFS guest (or a second Debian guest: the NFS
server and second host), apt from the lab's package mirror. All of them in one molecule run, on the guests already
booted, over one ssh connection per guest, with facts gathered once."""

import os
import re
import subprocess
import time

import pytest

from harness import ROOT
from molecule_lab import close_connections, control_directory, mitogen_env, write_inventory

pytestmark = pytest.mark.lab

# `make test` runs all four (lab stream). The three on the TCG Debian guests run their Ansible tasks through Mitogen
# (molecule_lab.mitogen_env): a task there is about a second instead of a Python start and an AnsiballZ import in an
# emulated guest (10-45 s), which had kept them out of the budget (docs/molecule.md). KVMOPS_MOLECULE_SCENARIOS
# (comma-separated) runs some of them, for work on one role.
GUEST_SCENARIOS = ['hypervisor', 'host_network', 'nfs_storage']
# hypervisor first: it installs QEMU and libvirt's configuration that nfs_storage's pool then uses
WANTED = os.environ.get('KVMOPS_MOLECULE_SCENARIOS')
SCENARIOS = [name for name in GUEST_SCENARIOS + ['guests'] if not WANTED or name in WANTED.split(',')]
ON_GUESTS = any(name in GUEST_SCENARIOS for name in SCENARIOS)
BIN = os.path.join(ROOT, '.venv', 'bin')
# every scenario's steps (molecule logs "[scenario > step] Executed: Successful" for each)
STEPS = ['syntax', 'prepare', 'check', 'converge', 'idempotence', 'verify', 'cleanup']


@pytest.fixture(scope='module')
def molecule_env(lab, tmp_path_factory):
    from kvmlab.fixtures import LAB_HOSTS
    plain = [guest for guest in lab.guests if guest.role == 'guest']
    nfs = [guest for guest in lab.guests if guest.role == 'nfs-server']
    if ON_GUESTS:
        # two guests: the lab stream's (a Debian guest and the NFS guest), or a developer's lab with two Debian guests
        lab.up(hosts=LAB_HOSTS, storage=True, debian_guests=max(1, len(plain)), nfs_guest=bool(nfs or len(plain) < 2),
               package_mirror=True)
    else:
        lab.up(hosts=LAB_HOSTS, storage=True)
    control = control_directory()
    try:
        inventory = write_inventory(lab, str(tmp_path_factory.mktemp('molecule') / 'inventory'), control,
                                    debian_guests=ON_GUESTS)
        env = dict(os.environ, MOLECULE_LAB_INVENTORY=inventory, PATH=BIN + os.pathsep + os.environ['PATH'],
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'), NO_COLOR='1', PY_COLORS='0',
                   ANSIBLE_FORCE_COLOR='0')
        env.update(mitogen_env())
        yield env
    finally:
        close_connections(lab, control)


def test_molecule_scenarios(molecule_env):
    scenarios = []
    for scenario in SCENARIOS:
        scenarios += ['-s', scenario]
    # molecule keeps each scenario's state (prepared: true) between runs, and nothing is destroyed here (managed:
    # false): forget it, or a second run would skip prepare
    subprocess.run([os.path.join(BIN, 'molecule'), 'reset'] + scenarios, cwd=ROOT, env=molecule_env,
                   stdin=subprocess.DEVNULL, capture_output=True, timeout=300, check=True)
    command = [os.path.join(BIN, 'molecule'), 'test'] + scenarios
    began = time.monotonic()
    proc = subprocess.run(command, cwd=ROOT, env=molecule_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=3600, check=False)
    print('molecule test %s: %.0f s' % (' '.join('-s ' + s for s in SCENARIOS), time.monotonic() - began))
    print('\n'.join(line for line in proc.stdout.splitlines() if '] Executed:' in line or 'RECAP' in line))
    assert proc.returncode == 0, proc.stdout[-12000:]
    for scenario in SCENARIOS:
        # every step of every scenario ran and succeeded (idempotence fails on any change in the second converge)
        for step in STEPS:
            assert re.search(r'\[%s > %s\] Executed: Successful' % (scenario, step), proc.stdout), (
                scenario, step, proc.stdout[-6000:])
    verified = re.findall(r'=+ (\d+ passed[^=]*) in [\d.]+s =+', proc.stdout)
    assert len(verified) == len(SCENARIOS) and 'failed' not in ' '.join(verified), proc.stdout[-6000:]
