"""The AWX job playbooks run as AWX runs them: through ansible-runner (AWX's own engine) with the project as the
working directory, the inventory given to the runner and the survey answers as JSON extra vars (env/extravars).
The extra vars are what AWX makes of each job template's survey (awx/job_templates.yml): the answers checked
against the questions, the defaults filled in, multiple choice answers as strings; every question is answered or
defaulted and every variable the survey gives is one the playbook reads, so the templates and the playbooks agree.
On the lab: a tiny guest moves h1 -> h2 with migrate.yml, then evacuate.yml drains h2 back onto h1; site.yml sets
the hosts up (the lab inventory and the project's playbooks/inventory/lab, as `make demo`), first as a job of type
check whose plan must be exactly what the real job then changes, and guests.yml deploys that inventory's guest on
h1. Every run's status, its events and the state of the lab hosts are checked."""

import json
import os

import pytest

from awx_jobs import by_playbook, launch_extra_vars, reads
from demo_objects import GUEST, NETWORKS, POOL, clean
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


def survey_vars(lab, playbook, answers):
    """The extra vars AWX sends when the job template of `playbook` is launched with these survey answers (the
    lab's hosts are the hypervisors awx/load.yml offers as choices); the test answers or defaults every question,
    and the playbook reads every variable the survey gives."""
    item = by_playbook(playbook)
    extravars = launch_extra_vars(item['name'], answers, [host.name for host in lab.hosts])
    asked = set(question['variable'] for question in item['survey'])
    assert set(extravars) == asked, 'unanswered: %s' % sorted(asked - set(extravars))
    assert asked <= reads(playbook).names
    return extravars


def run_job(lab, tmp_path, playbook, extravars, check=False, inventory=None):
    """One job, as AWX launches it: a private data directory of its own, the project checkout as the project
    directory, the extra vars written by the runner as JSON; `check`: a job of type check; `inventory`: the job's
    inventory sources (default: the lab's inventory alone)."""
    private = tmp_path / ('job-%s%s' % (os.path.basename(playbook).split('.')[0], '-check' if check else ''))
    private.mkdir()
    result = ansible_runner.run(
        private_data_dir=str(private), project_dir=ROOT, playbook=playbook,
        inventory=inventory or str(lab.inventory_path),
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
    moves = survey_vars(lab, 'playbooks/migrate.yml',
                        dict(migrate_guest=name, migrate_source=h1.name, migrate_target=h2.name))
    plan = run_job(lab, tmp_path, 'playbooks/migrate.yml', moves, check=True)
    assert plan.status == 'successful', plan.stdout.read()[-3000:]
    assert task_events(plan, 'Migrate the guest')[0]['res']['changed'] is True
    assert 'check mode' in task_events(plan, 'Report')[0]['res']['msg']
    assert where(h1, name) == 'running' and where(h2, name) is None

    migrate = run_job(lab, tmp_path, 'playbooks/migrate.yml', moves)
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

    # evacuate_parallel and evacuate_reserved_memory: the survey's defaults (2, 0); "false" (a string, as AWX
    # sends a multiple choice answer): the lab stream's kvm_migrate suite may leave guests on h2 that cannot move
    drain = survey_vars(lab, 'playbooks/evacuate.yml',
                        dict(evacuate_host=h2.name, evacuate_targets=[h1.name], evacuate_fail_on_leftover='false'))
    assert drain['evacuate_parallel'] == 2 and drain['evacuate_reserved_memory'] == 0
    evacuate = run_job(lab, tmp_path, 'playbooks/evacuate.yml', drain)
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


def _changed(result):
    """(host, task, loop item) of every task result that changed (or, in check mode, would change)."""
    return sorted((e.get('host'), e.get('task'), json.dumps(e['res'].get('item'), sort_keys=True, default=str))
                  for e in (ev['event_data'] for ev in result.events
                            if ev.get('event') in ('runner_on_ok', 'runner_item_on_ok'))
                  if e['res'].get('changed') and not e['res'].get('results'))


def _invocations(result, host=None):
    """(task, role, task file, module args) of every task result, on `host` or on any."""
    return [(e['task'], e.get('role'), e.get('task_path', ''), (e['res'].get('invocation') or {}).get('module_args'))
            for e in (ev['event_data'] for ev in result.events if ev.get('event') in ('runner_on_ok', 'runner_item_on_ok'))
            if host is None or e.get('host') == host]


def test_host_setup_and_guest_deployment_jobs_under_ansible_runner(lab, tmp_path):
    h1, h2 = lab.hosts[:2]
    # the job's inventory: the lab's hosts and the project's inventory source for them (its group_vars)
    inventory = [str(lab.inventory_path), os.path.join(ROOT, 'playbooks', 'inventory', 'lab')]
    clean(lab)
    try:
        _site_and_guests(lab, tmp_path, h1, h2, inventory)
    finally:
        clean(lab)


def _site_and_guests(lab, tmp_path, h1, h2, inventory):
    # host setup: every question answered (they have no defaults); the lab's hosts are namespaces of this machine,
    # where only the hypervisor role's pre-flight may run, and they emulate
    setup = survey_vars(lab, 'playbooks/site.yml', dict(
        hypervisor_allow_emulation='true', hypervisor_migration_transport='ssh',
        hypervisor_default_pool_path='/var/lib/libvirt/images', site_hypervisor_tasks_from='preflight'))
    # the template says: launch it as a job of type check to see the plan; the plan is then what the job does
    plan = run_job(lab, tmp_path, 'playbooks/site.yml', setup, check=True, inventory=inventory)
    assert plan.status == 'successful' and plan.rc == 0, plan.stdout.read()[-3000:]
    for host in (h1, h2):
        conn = host.connect()
        try:
            assert not set(n.name() for n in conn.listAllNetworks()) & set(NETWORKS)
            assert POOL not in [p.name() for p in conn.listAllStoragePools()]
        finally:
            conn.close()
    site = run_job(lab, tmp_path, 'playbooks/site.yml', setup, inventory=inventory)
    output = site.stdout.read()[-3000:]
    assert site.status == 'successful' and site.rc == 0, output
    assert _changed(plan) == _changed(site), (_changed(plan), _changed(site))
    assert set(change[0] for change in _changed(site)) == set([h1.name, h2.name]), _changed(site)
    assert site.stats['changed'].get(h1.name) and site.stats['changed'].get(h2.name), site.stats
    for host in (h1, h2):
        done = _invocations(site, host.name)
        preflight = [args for task, _role, _path, args in done if task.startswith('Is this a machine')]
        # the answer "true" reached kvm_host as a boolean; tasks_from: only the role's pre-flight ran
        assert preflight and preflight[0]['allow_emulation'] is True, done
        role_files = set(os.path.basename(path.split(':')[0]) for _task, role, path, _args in done
                         if role == 'hypervisor')
        assert role_files and role_files <= set(['preflight.yml', 'platform.yml']), role_files
        conn = host.connect()
        try:
            assert set(n.name() for n in conn.listAllNetworks() if n.isActive()) >= set(NETWORKS)
            assert conn.storagePoolLookupByName(POOL).isActive()
        finally:
            conn.close()

    # guest deployment on h1 only (guests_hosts), no restarts, a deadline for the guest's address
    deploy = survey_vars(lab, 'playbooks/guests.yml', dict(
        guests_hosts=h1.name, guests_restart='false', guests_wait_timeout=180))
    guests = run_job(lab, tmp_path, 'playbooks/guests.yml', deploy, inventory=inventory)
    output = guests.stdout.read()[-3000:]
    assert guests.status == 'successful' and guests.rc == 0, output
    assert not _invocations(guests, h2.name), 'guests.yml ran on %s' % h2.name
    done = _invocations(guests, h1.name)
    defined = [args for task, _role, _path, args in done if task.startswith('Guests defined')]
    waited = [args for task, _role, _path, args in done if task.startswith('Wait for the running guests')]
    # the role converges the host's guests in one kvm_domains task, and waits for their addresses in another
    assert defined and [item['name'] for item in defined[0]['domains']] == [GUEST], done
    assert defined[0]['domains'][0]['restart'] is False, done
    assert waited and waited[0]['domains'][0]['wait_timeout'] == 180, done
    report = task_events(guests, 'Where each guest runs')
    assert len(report) == 1, output
    assert [line for line in report[0]['res']['msg'] if line.startswith(GUEST + ': ')
            and line.endswith(' on ' + h1.name)], report[0]['res']['msg']
    assert where(h1, GUEST) == 'running' and where(h2, GUEST) is None

    # the guest drift check (its template's job type is check; then a run job) finds nothing to put back: the guest,
    # its NIC and its volume (which the fleet check names by pool, the deployment attached by path) are as deployed
    drift = survey_vars(lab, 'playbooks/drift.yml', dict(guests_hosts=h1.name))
    for check in (True, False):
        job = run_job(lab, tmp_path, 'playbooks/drift.yml', drift, check=check, inventory=inventory)
        assert job.status == 'successful' and job.rc == 0, job.stdout.read()[-3000:]
        fleet_task = "Every hypervisor's guests, from the controller, in one task"
        found = [e['event_data'] for e in job.events if e.get('event') == 'runner_on_ok'
                 and e.get('event_data', {}).get('task', '').endswith(fleet_task)]
        assert len(found) == 1, [e.get('event_data', {}).get('task') for e in job.events]
        result = found[0]['res']
        assert result['changed'] is False and result['actions'] == [], result.get('actions')
        assert list(result['hypervisors']) == [h1.name] and GUEST in result['hypervisors'][h1.name]['domains']
