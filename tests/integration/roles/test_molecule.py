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
from molecule_lab import close_connections, control_directory, write_inventory

pytestmark = pytest.mark.lab

# `make test` runs the guests scenario (on a namespaced lab host: about a minute). The three scenarios on the TCG
# Debian guests stay opt-in (KVMOPS_MOLECULE=1, `make test-molecule`): each Ansible task there is a Python start in
# an emulated guest, 5-50 s, and the three add 15-40 min (docs/molecule.md) against a budget of ~8
GUEST_SCENARIOS = ['hypervisor', 'host_network', 'nfs_storage']
ALL = os.environ.get('KVMOPS_MOLECULE') == '1'
# hypervisor first: it installs QEMU and libvirt's configuration that nfs_storage's pool then uses
SCENARIOS = (GUEST_SCENARIOS if ALL else []) + ['guests']
BIN = os.path.join(ROOT, '.venv', 'bin')
# every scenario's steps (molecule logs "[scenario > step] Executed: Successful" for each)
STEPS = ['syntax', 'prepare', 'check', 'converge', 'idempotence', 'verify', 'cleanup']


@pytest.fixture(scope='module')
def molecule_env(lab, tmp_path_factory):
    from kvmlab.fixtures import LAB_HOSTS
    plain = [guest for guest in lab.guests if guest.role == 'guest']
    nfs = [guest for guest in lab.guests if guest.role == 'nfs-server']
    if ALL:
        # two guests: the lab stream's (a Debian guest and the NFS guest), or a developer's lab with two Debian guests
        lab.up(hosts=LAB_HOSTS, storage=True, debian_guests=max(1, len(plain)), nfs_guest=bool(nfs or len(plain) < 2),
               package_mirror=True)
    else:
        lab.up(hosts=LAB_HOSTS, storage=True)
    control = control_directory()
    try:
        inventory = write_inventory(lab, str(tmp_path_factory.mktemp('molecule') / 'inventory'), control,
                                    debian_guests=ALL)
        yield dict(os.environ, MOLECULE_LAB_INVENTORY=inventory, PATH=BIN + os.pathsep + os.environ['PATH'],
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'), NO_COLOR='1', PY_COLORS='0',
                   ANSIBLE_FORCE_COLOR='0')
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
