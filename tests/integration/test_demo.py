"""`make demo`'s job on the lab: every host checked and given the seeds' networks, a guest with an address
on the first; a second run changes nothing."""

import json
import os
import subprocess

import pytest

from harness import ROOT, ansible_env

pytestmark = pytest.mark.lab


def _playbook(inventory, record):
    command = [os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook'), '-i', inventory,
               os.path.join(ROOT, 'playbooks', 'demo.yml')]
    proc = subprocess.run(command, env=ansible_env(record), capture_output=True, text=True, timeout=900, check=False,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(record) as stream:
        return [json.loads(line) for line in stream if line.strip()]


def test_demo_on_the_lab(lab, tmp_path):
    lab.up(hosts=2, storage=True)   # as make demo does; the lab's own tests may have taken it down
    first_host = lab.hosts[0]
    try:
        _playbook(str(lab.inventory_path), str(tmp_path / 'first.jsonl'))
        second = _playbook(str(lab.inventory_path), str(tmp_path / 'second.jsonl'))
        assert [task for task in second if task.get('changed')] == []
        for host in lab.hosts:
            conn = host.connect()
            try:
                assert set(n.name() for n in conn.listAllNetworks() if n.isActive()) >= set(['hostonly', 'private1'])
                assert conn.networkLookupByName('private1').bridgeName() == 'virbr1'
            finally:
                conn.close()
        guest = [task for task in second if 'domain' in task][0]['domain']
        assert guest['state'] == 'running' and guest['interfaces'][0]['ipv4'][0].startswith('172.16.10.')
    finally:
        conn = first_host.connect()
        try:
            for dom in conn.listAllDomains():
                if dom.name() == 'demo-web1':
                    dom.destroy()
                    dom.undefine()
            for name in ('hostonly', 'private1'):
                for net in conn.listAllNetworks():
                    if net.name() == name:
                        net.destroy()
                        net.undefine()
        finally:
            conn.close()
