"""playbooks/evacuate.yml on the lab: 4 tiny guests drain from h1 to h2, 2 at a time (kvm_migrate's batch path);
the one whose disk only h1 sees fails its storage pre-check, is reported, and still runs at home.
playbooks/migrate.yml moves one back."""

import json
import os
import subprocess
import tempfile

from conftest import defined_on, runs_on
from harness import ROOT, ansible_env


def playbook(lab, name, extra):
    """(return code, every task result recorded, ansible-playbook's output)."""
    with tempfile.NamedTemporaryFile(suffix='.jsonl') as record:
        command = [os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook'), '-i', str(lab.inventory_path),
                   os.path.join(ROOT, 'playbooks', name), '-e', json.dumps(extra)]
        proc = subprocess.run(command, env=ansible_env(record.name), capture_output=True, text=True, timeout=900,
                              check=False, stdin=subprocess.DEVNULL)
        with open(record.name) as stream:
            results = [json.loads(line) for line in stream if line.strip()]
    return proc.returncode, results, proc.stdout + proc.stderr


def task_results(results, task_name):
    found = [r for r in results if r['_task'] == task_name]
    assert found, 'no task %r' % task_name
    return found


def test_evacuate_two_at_a_time_and_a_guest_that_cannot_move(mig):
    names = [mig.prefix + 'ev%d' % i for i in range(4)]
    for name in names[:3]:
        mig.define(mig.h1, mig.lab.tiny_guest_xml(name, ip=None))
    stuck = names[3]
    mig.define(mig.h1, mig.lab.tiny_guest_xml(stuck, ip=None, disks=[mig.local_disk(mig.h1, stuck)]))
    for name in names:
        mig.lab.wait_for_marker(mig.h1, name, timeout=120)

    rc, results, output = playbook(mig.lab, 'evacuate.yml', dict(
        evacuate_host=mig.h1.name, evacuate_targets=[mig.h2.name], evacuate_parallel=2,
        evacuate_fail_on_leftover=False))
    assert rc == 0, output[-3000:]
    summary = task_results(results, 'Summary')[0]['msg']
    print(json.dumps(summary, indent=1))
    assert sorted(line.split(' ')[0] for line in summary['moved']) == sorted(names[:3])
    assert all(' -> %s in ' % mig.h2.name in line for line in summary['moved'])
    assert len(summary['stayed']) == 1 and summary['stayed'][0].startswith('%s stays on %s: ' % (stuck, mig.h1.name))
    assert 'storage' in summary['stayed'][0]
    # every guest pre-checked in one batch run per target; only the three that fit migrate, in one batch run
    checked = task_results(results, 'Pre-check every guest against every target (check mode, nothing moves)')
    assert [r['_host'] for r in checked] == [mig.h1.name]
    assert [sorted(r['guests']) for r in checked[0]['results']] == [sorted(names)]
    migrated = task_results(results, 'Migrate, evacuate_parallel at a time')
    assert [r['_host'] for r in migrated] == [mig.h1.name]
    assert sorted(migrated[0]['guests']) == sorted(names[:3])
    assert migrated[0]['invocation']['module_args']['parallel'] == 2
    for name in names[:3]:
        assert runs_on(mig.h2, name) and not defined_on(mig.h1, name)
    assert runs_on(mig.h1, stuck) and not defined_on(mig.h2, stuck)

    # one guest back with migrate.yml; a second run changes nothing
    for expect_changed in (True, False):
        rc, results, output = playbook(mig.lab, 'migrate.yml', dict(
            migrate_guest=names[0], migrate_source=mig.h2.name, migrate_target=mig.h1.name))
        assert rc == 0, output[-3000:]
        assert task_results(results, 'Migrate the guest')[0]['changed'] is expect_changed
    assert runs_on(mig.h1, names[0]) and not defined_on(mig.h2, names[0])
