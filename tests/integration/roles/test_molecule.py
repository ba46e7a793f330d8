"""The roles' molecule scenarios (extensions/molecule/<role>: syntax, prepare, check mode, converge, idempotence,
testinfra verify, cleanup) against the lab that is up: guests on its first hypervisor host; hypervisor, host_network
and nfs_storage on its first Debian guest (the KVM host) and its kernel NFS guest (or a second Debian guest: the NFS
server and second host), apt from the lab's package mirror. All of them in one molecule run, on the guests already
booted, over one ssh connection per guest, with facts gathered once."""

import os
import re
import subprocess
import threading
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
STEP_LINE = re.compile(r'\[(\w+) > (\w+)\] (?:\x1b\[\d+m)?(Executing|Executed: \w+)')


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


def run_timed(command, env, timeout):
    """Run molecule; (exit code, its output, [(scenario, step, seconds, outcome)]): molecule prints no times, and
    the budget of `make test` wants to know which step took them."""
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    lines, steps, started = [], [], {}
    try:
        for line in proc.stdout:
            lines.append(line)
            match = STEP_LINE.search(line)
            if not match:
                continue
            if match.group(3) == 'Executing':
                started.setdefault(match.group(1, 2), time.monotonic())
            elif match.group(1, 2) in started:
                steps.append(match.group(1, 2) + (time.monotonic() - started.pop(match.group(1, 2)), match.group(3)))
    finally:
        timer.cancel()
    return proc.wait(), ''.join(lines), steps


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
    returncode, output, steps = run_timed(command, molecule_env, 3600)
    print('molecule test %s: %.0f s' % (' '.join('-s ' + s for s in SCENARIOS), time.monotonic() - began))
    for scenario, step, seconds, outcome in steps:
        print('  %-13s %-12s %5.0f s  %s' % (scenario, step, seconds, outcome))
    assert returncode == 0, output[-12000:]
    for scenario in SCENARIOS:
        # every step of every scenario ran and succeeded (idempotence fails on any change in the second converge)
        for step in STEPS:
            assert re.search(r'\[%s > %s\] Executed: Successful' % (scenario, step), output), (
                scenario, step, output[-6000:])
    verified = re.findall(r'=+ (\d+ passed[^=]*) in [\d.]+s =+', output)
    assert len(verified) == len(SCENARIOS) and 'failed' not in ' '.join(verified), output[-6000:]
