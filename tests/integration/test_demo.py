"""`make demo`'s job on the lab, the seeds' lab on one machine: site.yml gives both hosts the seeds' networks and the
shared pool on the storage's export, a guest is deployed on kvm1 with its disk there and live-migrated to kvm2, a
summary ends it; the second run changes nothing and says the guest is already where it should be."""

import json
import os
import subprocess

import pytest

from demo_objects import DEFAULT_POOL, GUEST, NETWORKS, POOL, clean
from harness import ROOT, ansible_env

pytestmark = pytest.mark.lab

libvirt = pytest.importorskip('libvirt')


def _playbook(inventory, record):
    command = [os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook'), '-i', inventory,
               '-i', os.path.join(ROOT, 'playbooks', 'inventory', 'lab'), os.path.join(ROOT, 'playbooks', 'demo.yml')]
    proc = subprocess.run(command, env=ansible_env(record), capture_output=True, text=True, timeout=900, check=False,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(record) as stream:
        return [json.loads(line) for line in stream if line.strip()]


def _summary(records):
    return [r for r in records if r['_task'] == 'Summary'][0]['msg']


def test_demo_on_the_lab(lab, tmp_path):
    lab.up(hosts=2, storage=True)   # as make demo does; the lab's own tests may have taken it down
    kvm1, kvm2 = lab.hosts[:2]
    disk = os.path.join(lab.storage.export_dir, GUEST + '.qcow2')
    clean(lab)
    try:
        first = _playbook(str(lab.inventory_path), str(tmp_path / 'first.jsonl'))
        summary = _summary(first)
        assert summary['runs_on'] == kvm2.name
        assert summary['migration'].startswith('moved live from %s to %s in ' % (kvm1.name, kvm2.name)), summary
        migration = [r for r in first if r['_task'].startswith('Migrate it')][0]
        assert migration['changed'] and migration['duration_s'] > 0 and migration['downtime_ms'] >= 0
        assert migration['precheck']['storage']['verdict'] == 'pass'

        # no init system there: the settings the role wrote are reported as a restart still to do, nothing restarted
        told = [r for r in first if r['_task'].endswith('Tell that the libvirt daemons need a restart')]
        assert told and all('restart_required' in r['msg'] for r in told), [r['_task'] for r in first]

        second = _playbook(str(lab.inventory_path), str(tmp_path / 'second.jsonl'))
        assert [(r['_host'], r['_task']) for r in second if r.get('changed')] == []
        summary = _summary(second)
        assert summary['runs_on'] == kvm2.name
        assert summary['migration'] == 'already on %s, where it should be: nothing moved' % kvm2.name
        # the summary lists every network of a host: other suites of the session may have left theirs there
        assert len(summary['hosts']) == 3
        assert all('hostonly' in line and 'private1' in line for line in summary['hosts'][:2]), summary['hosts']

        for host in (kvm1, kvm2):
            conn = host.connect()
            try:
                assert set(n.name() for n in conn.listAllNetworks() if n.isActive()) >= set(NETWORKS)
                assert conn.networkLookupByName('private1').bridgeName() == 'virbr1'
                pool = conn.storagePoolLookupByName(POOL)
                assert pool.isActive() and lab.storage.export_dir in pool.XMLDesc()
                # the whole hypervisor role ran (its switches for namespaced hosts): the default pool, the settings
                default = conn.storagePoolLookupByName(DEFAULT_POOL)
                assert default.isActive() and default.autostart()
                assert '<path>/var/lib/libvirt/images</path>' in default.XMLDesc()
                running = [d.name() for d in conn.listAllDomains() if d.isActive()]
                defined = [d.name() for d in conn.listAllDomains()]
            finally:
                conn.close()
            if host is kvm2:
                assert GUEST in running
            else:
                assert GUEST not in defined   # moved, not copied: it can never start on both
            with open(os.path.join(host.state_dir, 'etc', 'libvirtd.conf')) as stream:
                assert 'listen_tcp = 0' in stream.read().splitlines()   # the role's setting, in the host's own file
        assert os.path.exists(disk)
        conn = kvm2.connect()
        try:
            assert disk in conn.lookupByName(GUEST).XMLDesc()
        finally:
            conn.close()
    finally:
        clean(lab)
