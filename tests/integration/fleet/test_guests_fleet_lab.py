"""playbooks/drift.yml (the guests role's fleet entry point) on the lab: the guests the inventory describes, checked and
put back on two lab hypervisor hosts from this machine (the controller) in one kvm_domains run over qemu+ssh, each
host read back through libvirt. Guests are defined, not started, named <lab prefix>fg-*, removed afterwards."""

import json
import os
import subprocess

import libvirt
import pytest
import yaml

from fleet_lab import defined_on, prefix as _prefix, purge as _purge
from harness import ROOT, ansible_env

pytestmark = pytest.mark.lab


def prefix():
    return _prefix('fg')


def purge(hosts):
    _purge(hosts, prefix())


def on(host):
    return defined_on(host, prefix())


@pytest.fixture
def hosts(lab):
    pair = lab.hosts[:2]
    purge(pair)
    yield pair
    purge(pair)


def drift(lab, tmp_path, hosts, guests, check=False):
    """(rc, the fleet task's record, every record) of one run of playbooks/drift.yml over the hosts."""
    extra = tmp_path / 'vars.yml'
    extra.write_text(yaml.safe_dump(dict(guests_list=guests)))
    record = tmp_path / ('%s.jsonl' % len(list(tmp_path.glob('*.jsonl'))))
    command = [os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook'), '-i', str(lab.inventory_path), '-f', '10',
               '-l', ','.join(host.name for host in hosts), '-e', '@%s' % extra,
               os.path.join(ROOT, 'playbooks', 'drift.yml')] + (['--check', '--diff'] if check else [])
    proc = subprocess.run(command, env=ansible_env(str(record)), capture_output=True, text=True, timeout=600,
                          check=False, stdin=subprocess.DEVNULL)
    with open(record) as stream:
        records = [json.loads(line) for line in stream if line.strip()]
    fleet = [r for r in records if r['_task'].endswith('Every hypervisor\'s guests, from the controller, in one task')]
    assert len(fleet) == 1, proc.stdout + proc.stderr   # run once, for the whole play
    return proc.returncode, fleet[0], records


def test_drift_check_of_two_hypervisors_from_the_controller(lab, hosts, tmp_path):
    h1, h2 = hosts
    gone = prefix() + 'gone'
    conn = h1.connect()
    try:
        conn.defineXML("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                       "<os><type arch='x86_64'>hvm</type></os></domain>" % gone)
    finally:
        conn.close()
    guests = [dict(name=prefix() + 'all', type='qemu', memory=64, vcpus=1, state='present'),
              dict(name=prefix() + 'two', hypervisor=h2.name, type='qemu', memory=96, vcpus=1, state='present'),
              dict(name=gone, hypervisor=h1.name, state='absent')]

    rc, predicted, _records = drift(lab, tmp_path, hosts, guests, check=True)
    assert rc == 0 and predicted['changed'], predicted
    assert sorted(on(h1)) == [gone] and on(h2) == {}   # check mode touched nothing
    rc, applied, _records = drift(lab, tmp_path, hosts, guests)
    assert rc == 0 and applied['changed'] and applied['actions'] == predicted['actions'], applied
    assert sorted(on(h1)) == [prefix() + 'all'] and sorted(on(h2)) == [prefix() + 'all', prefix() + 'two']
    assert int(on(h2)[prefix() + 'two'].findtext('memory')) == 96 * 1024
    for check in (True, False):
        rc, again, records = drift(lab, tmp_path, hosts, guests, check=check)
        assert rc == 0 and not again['changed'] and again['actions'] == [], again
        assert [r['_task'] for r in records if r.get('changed')] == []

    # one guest drifts on one host: only that host's entry changes
    conn = h2.connect()
    try:
        conn.lookupByName(prefix() + 'all').setMemoryFlags(48 * 1024, libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    finally:
        conn.close()
    rc, found, _records = drift(lab, tmp_path, hosts, guests, check=True)
    assert rc == 0 and found['changed']
    assert [name for name, result in found['hypervisors'].items() if result['changed']] == [h2.name], found
    rc, fixed, _records = drift(lab, tmp_path, hosts, guests)
    assert rc == 0 and fixed['actions'] == found['actions']
    assert int(on(h2)[prefix() + 'all'].findtext('currentMemory')) == 64 * 1024
