"""`make demo`'s playbook builds the seeds' networks; a second run changes nothing."""

import json
import os
import subprocess

import pytest

from harness import ROOT, ansible_env

SEEDS = ('hostonly', 'private1')


def _playbook(record):
    command = [os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook'), os.path.join(ROOT, 'playbooks', 'demo.yml')]
    proc = subprocess.run(command, env=ansible_env(record), capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(record) as stream:
        return [json.loads(line) for line in stream if line.strip()]


def test_demo_builds_the_seed_networks(conn, tmp_path):
    existing = set(n.name() for n in conn.listAllNetworks())
    if existing & set(SEEDS):
        pytest.skip('the seed networks already exist on this machine (make demo ran): not ours to remove')
    try:
        first = _playbook(str(tmp_path / 'first.jsonl'))
        assert first[0]['changed'] is True
        second = _playbook(str(tmp_path / 'second.jsonl'))
        assert [task.get('changed') for task in second] == [False, False]
        hostonly = conn.networkLookupByName('hostonly')
        private1 = conn.networkLookupByName('private1')
        assert hostonly.isActive() and private1.isActive()
        assert private1.bridgeName() == 'virbr1'
        assert '192.168.100.1' in hostonly.XMLDesc(0)
        assert "range start='172.16.10.100'" in private1.XMLDesc(0)
    finally:
        for name in SEEDS:
            if name in set(n.name() for n in conn.listAllNetworks()) - existing:
                net = conn.networkLookupByName(name)
                if net.isActive():
                    net.destroy()
                net.undefine()
