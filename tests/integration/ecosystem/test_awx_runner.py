"""The AWX job playbooks run as AWX runs them: through ansible-runner (AWX's own engine) with the project as the
working directory, the inventory given to the runner and the survey answers as JSON extra vars (env/extravars).
On the lab: a tiny guest moves h1 -> h2 with migrate.yml, then evacuate.yml drains h2 back onto h1. Every run's
status, its events and the guest's place on the lab hosts are checked."""

import json
import os

import pytest

from harness import PYTHON, ROOT

ansible_runner = pytest.importorskip('ansible_runner')
libvirt = pytest.importorskip('libvirt')


def where(host, name):
    """'running', 'defined' (persistent, not running) or None: the guest on a lab host."""
    conn = host.connect()
    try:
        try:
            dom = conn.lookupByName(name)
        except libvirt.libvirtError:
            return None
        return 'running' if dom.isActive() else 'defined'
    finally:
        conn.close()


def run_job(lab, tmp_path, playbook, extravars, check=False):
    """One job, as AWX launches it: a private data directory of its own, the project checkout as the project
    directory, the extra vars written by the runner as JSON; `check`: a job of type check."""
    private = tmp_path / ('job-%s%s' % (os.path.basename(playbook).split('.')[0], '-check' if check else ''))
    private.mkdir()
    result = ansible_runner.run(
        private_data_dir=str(private), project_dir=ROOT, playbook=playbook, inventory=str(lab.inventory_path),
        extravars=extravars, quiet=True, timeout=600, cmdline='--check' if check else None,
        envvars=dict(PATH=os.path.dirname(PYTHON) + os.pathsep + os.environ['PATH'],
                     ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
                     ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'),
                     ANSIBLE_DEPRECATION_WARNINGS='0'))
    # the survey answers reached the playbook as a JSON document passed with -e @file
    extravars_file = private / 'env' / 'extravars'
    assert json.loads(extravars_file.read_text()) == extravars
    command = result.config.command
    assert command[0].endswith('ansible-playbook') and '-e' in command
    assert '@' + str(extravars_file) in command or str(extravars_file) in ' '.join(command)
    return result


def task_events(result, task, event='runner_on_ok'):
    return [e['event_data'] for e in result.events
            if e.get('event') == event and e.get('event_data', {}).get('task') == task]


def test_migrate_and_evacuate_jobs_under_ansible_runner(lab, tmp_path):
    from kvmlab import config
    h1, h2 = lab.hosts[:2]
    name = config.PREFIX + 'kvmte-runner'
    try:
        for host in (h1, h2):
            lab.remove_guest(host, name)
        lab.start_tiny_guest(h1, name, ip=None, timeout=120)
        _jobs(lab, tmp_path, h1, h2, name)
    finally:
        for host in (h1, h2):
            lab.remove_guest(host, name)


def _jobs(lab, tmp_path, h1, h2, name):
    # a job of type check runs the pre-checks and predicts the move; nothing moves
    plan = run_job(lab, tmp_path, 'playbooks/migrate.yml',
                   dict(migrate_guest=name, migrate_source=h1.name, migrate_target=h2.name), check=True)
    assert plan.status == 'successful', plan.stdout.read()[-3000:]
    assert task_events(plan, 'Migrate the guest')[0]['res']['changed'] is True
    assert 'check mode' in task_events(plan, 'Report')[0]['res']['msg']
    assert where(h1, name) == 'running' and where(h2, name) is None

    migrate = run_job(lab, tmp_path, 'playbooks/migrate.yml',
                      dict(migrate_guest=name, migrate_source=h1.name, migrate_target=h2.name))
    output = migrate.stdout.read()[-3000:]
    assert migrate.status == 'successful' and migrate.rc == 0, output
    moved = task_events(migrate, 'Migrate the guest')
    assert len(moved) == 1 and moved[0]['host'] == h1.name and moved[0]['res']['changed'] is True, output
    assert moved[0]['res']['location'] and moved[0]['res']['source']
    assert migrate.stats['changed'] == {h1.name: 1} and not migrate.stats['failures']
    # 'verbose' events carry what Ansible prints outside the playbook (a warning before it starts, e.g.)
    events = [e['event'] for e in migrate.events if e['event'] != 'verbose']
    assert events[0] == 'playbook_on_start' and events[-1] == 'playbook_on_stats'
    assert where(h2, name) == 'running' and where(h1, name) is None

    evacuate = run_job(lab, tmp_path, 'playbooks/evacuate.yml',
                       dict(evacuate_host=h2.name, evacuate_targets=[h1.name], evacuate_parallel=1,
                            evacuate_reserved_memory=0, evacuate_fail_on_leftover=False))
    output = evacuate.stdout.read()[-3000:]
    assert evacuate.status == 'successful' and evacuate.rc == 0, output
    summary = task_events(evacuate, 'Summary')
    assert len(summary) == 1, output
    msg = summary[0]['res']['msg']
    # the lab stream's earlier suites may leave guests of their own on h2 (kvm_migrate's): only ours is checked
    ours = [line for line in msg['moved'] if line.startswith('%s -> ' % name)]
    assert len(ours) == 1 and ours[0].startswith('%s -> %s in ' % (name, h1.name)), msg
    assert not [line for line in msg['stayed'] if name in line], msg
    started = task_events(evacuate, 'Migrate, evacuate_parallel at a time')
    assert [e['host'] for e in started] == [h2.name] and name in started[0]['res']['guests']   # one batch task
    assert where(h1, name) == 'running' and where(h2, name) is None
