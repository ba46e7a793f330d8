"""Second run of playbooks/site.yml on the lab (changed=0) against the same number of ansible-core no-op tasks.

    KVMLAB_INSTANCE=N .venv/bin/python bench/site_bench.py [--keep] [--roles-from REF] [--extra-vars JSON]

Writes docs/benchmarks/site.md + site.png (issue 21, item 5). Brings its lab instance up (2 hypervisor hosts and
the storage host) and takes it down at the end. site.yml runs as `make demo` runs it (the lab's inventory plus
playbooks/inventory/lab: the hypervisor role's pre-flight, the seeds' two libvirt networks and the shared pool on
both hosts): a first run converges, the second is timed and must report changed=0. Every task result of the second
run is recorded (tests/integration's kvmops_record callback); the floor is a playbook over the same hosts with, for
each host, as many `ansible.builtin.ping` tasks as that host had task results (ping: a real module run over ssh,
which changes nothing), run right after it with the same ssh connections warm.
--roles-from REF: roles site.yml names that this checkout lacks (host_network, nfs_storage before the `roles` branch
is merged) are taken from the git ref REF into a copy of the collection under .cache/bench/work; the report says so."""
import argparse
import collections
import json
import os
import subprocess
import sys

import yaml

import benchlib as lib

sys.path.insert(0, str(lib.ROOT / 'tests' / 'lab'))

import libvirt  # noqa: E402
from kvmlab import Lab  # noqa: E402

SITE = lib.ROOT / 'playbooks' / 'site.yml'
LAB_VARS = lib.ROOT / 'playbooks' / 'inventory' / 'lab'


COLLECTIONS = [lib.ROOT / '.collections']
EXTRA = []


def overlay_roles(ref):
    """A collection tree under .cache/bench/work: this checkout, plus the roles only REF has. Their names."""
    top = lib.WORK / 'collection'
    subprocess.run(['rm', '-rf', str(top)], check=True)
    tree = top / 'ansible_collections' / 'kvmops' / 'kvm'
    tree.mkdir(parents=True)
    for entry in lib.ROOT.iterdir():
        if entry.name not in ('roles', '.collections', '.cache', '.git'):
            (tree / entry.name).symlink_to(entry)
    (tree / 'roles').mkdir()
    for role in (lib.ROOT / 'roles').iterdir():
        (tree / 'roles' / role.name).symlink_to(role)
    theirs = subprocess.run(['git', '-C', str(lib.ROOT), 'ls-tree', '--name-only', ref + ':roles'], check=True,
                            capture_output=True, text=True).stdout.split()
    added = [name for name in theirs if not (lib.ROOT / 'roles' / name).exists()]
    for name in added:
        archive = subprocess.run(['git', '-C', str(lib.ROOT), 'archive', ref, 'roles/' + name], check=True,
                                 capture_output=True).stdout
        subprocess.run(['tar', '-x', '-C', str(tree)], input=archive, check=True)
    COLLECTIONS[0] = top
    return added


def environment(record):
    env = dict(os.environ, ANSIBLE_HOST_KEY_CHECKING='False', ANSIBLE_DEPRECATION_WARNINGS='0',
               ANSIBLE_CONFIG=str(lib.ROOT / 'ansible.cfg'), ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS[0]),
               ANSIBLE_STDOUT_CALLBACK='ansible.builtin.minimal')
    if record:
        env.update(ANSIBLE_CALLBACK_PLUGINS=str(lib.ROOT / 'tests' / 'integration' / 'plugins' / 'callback'),
                   ANSIBLE_CALLBACKS_ENABLED='kvmops_record', ANSIBLE_LOAD_CALLBACK_PLUGINS='1', KVMOPS_RECORD=record)
    return env


def playbook(lab, path, record=None):
    """(seconds, task results recorded) of one ansible-playbook run; fails loudly when the run fails."""
    if record and os.path.exists(record):
        os.unlink(record)
    command = [str(lib.VENV_PYTHON.parent / 'ansible-playbook'), '-i', str(lab.inventory_path), '-i', str(LAB_VARS),
               str(path)] + EXTRA
    seconds, _done = lib.timed(command, env=environment(record))
    results = []
    if record:
        with open(record) as stream:
            results = [json.loads(line) for line in stream if line.strip()]
    return seconds, results


# actions that run on the controller, without a connection to the host (ansible-core's action plugins)
CONTROLLER = set('ansible.builtin.' + name for name in (
    'set_fact', 'include_vars', 'assert', 'debug', 'fail', 'validate_argument_spec', 'add_host', 'group_by',
    'meta')) | set(('set_fact', 'include_vars', 'assert', 'debug', 'fail', 'validate_argument_spec'))


def kinds(results):
    """{host: {'remote': n, 'controller': n, 'skipped': n}} of the recorded task results."""
    found = collections.defaultdict(lambda: dict(remote=0, controller=0, skipped=0))
    for r in results:
        kind = 'skipped' if r['_status'] == 'skipped' else (
            'controller' if r.get('_action') in CONTROLLER else 'remote')
        found[r['_host']][kind] += 1
    return dict((host, dict(counts)) for host, counts in found.items())


def noop_playbook(per_host):
    """A playbook over the same hosts with, for each host, as many tasks of each kind as site.yml's second run had:
    `ansible.builtin.ping` for a task that ran a module on the host, `ansible.builtin.debug` for one that ran on the
    controller, a `when: false` task for a skipped one (a host with fewer of a kind skips the rest)."""
    tasks = []
    for kind, action, args in (('remote', 'ansible.builtin.ping', None),
                               ('controller', 'ansible.builtin.debug', dict(msg='no-op')),
                               ('skipped', 'ansible.builtin.ping', None)):
        counts = dict((host, kinds_[kind]) for host, kinds_ in per_host.items())
        for index in range(max(counts.values())):
            task = {'name': 'no-op %s %d' % (kind, index + 1), action: args}
            if kind == 'skipped':
                task['when'] = 'bench_noop.%s[inventory_hostname] > %d and false' % (kind, index)
            elif len(set(counts.values())) > 1:
                task['when'] = 'bench_noop.%s[inventory_hostname] > %d' % (kind, index)
            tasks.append(task)
    noop = dict((kind, dict((host, kinds_[kind]) for host, kinds_ in per_host.items()))
                for kind in ('remote', 'controller', 'skipped'))
    play = dict(name='The same number of ansible-core no-op tasks', hosts=':'.join(sorted(per_host)),
                gather_facts=False, vars=dict(bench_noop=noop), tasks=tasks)
    path = lib.WORK / 'site-noop.yml'
    path.write_text(yaml.safe_dump([play], sort_keys=False))
    return path


def measure(lab):
    record = str(lib.WORK / 'site-record.jsonl')
    first, first_results = playbook(lab, SITE, record)
    second, results = playbook(lab, SITE, record)
    changed = [r for r in results if r.get('changed')]
    counts = collections.Counter(r['_host'] for r in results)
    by_status = collections.Counter(r['_status'] for r in results)
    extra, EXTRA[:] = list(EXTRA), []   # the no-op playbook reads no variables of site.yml
    per_host = kinds(results)
    noop, noop_results = playbook(lab, noop_playbook(per_host), record)
    EXTRA[:] = extra
    noop_ran = collections.Counter(r['_host'] for r in noop_results if r['_status'] == 'ok')
    return dict(first=first, first_changed=sum(1 for r in first_results if r.get('changed')), second=second,
                noop=noop, changed=[(r['_host'], r['_task']) for r in changed],
                counts=dict(counts), statuses=dict(by_status), noop_ran=dict(noop_ran), kinds=per_host,
                noop_kinds=kinds(noop_results),
                tasks=sorted(set(r['_task'] for r in results)))


def report(found, started, before, after, facts, overlay=None):
    ratio = found['second'] / found['noop']
    total = sum(found['counts'].values())
    rows = [['`site.yml`, first run (converges the lab; changed=0 when it already was)', '%.1f' % found['first'],
             '%.2fx' % (found['first'] / found['noop']), found.get('first_changed', '-')],
            ['`site.yml`, second run (nothing to do)', '%.1f' % found['second'], '**%.2fx**' % ratio,
             '%d' % len(found['changed'])],
            ['the same %d task results with ansible-core no-ops over the same hosts (%s)' % (total, '; '.join(
                '%s: %d ping, %d debug, %d skipped' % (host, k['remote'], k['controller'], k['skipped'])
                for host, k in sorted(found['kinds'].items()))),
             '%.1f' % found['noop'], '1.00x', '0']]
    extra = [
        '- `playbooks/site.yml` on the lab as `make demo` runs it (`-i <lab inventory> -i playbooks/inventory/lab`: 2 '
        'namespaced hypervisor hosts and the storage host; the hypervisor role\'s pre-flight, the seeds\' networks '
        '`hostonly` and `private1` and the pool `shared` on both hosts, unless the extra vars below leave it out). '
        'Each run once, one after the other, ssh connections warm.',
        '- the second run\'s task results per host (facts gathering included, skipped tasks included; a looped task '
        'counts once): %s (%s); tasks: %s.' % (
            ', '.join('%s %d' % item for item in sorted(found['counts'].items())),
            ', '.join('%s %d' % item for item in sorted(found['statuses'].items())), '; '.join(found['tasks']))]
    if overlay and overlay[2]:
        extra.append('- roles this checkout lacks, taken from `%s` (%s): %s.' % (overlay[0], overlay[1],
                                                                                 ', '.join(overlay[2])))
    if EXTRA:
        extra.append('- extra vars given to site.yml: `%s`.' % EXTRA[1])
    lines = lib.header('Second run of site.yml against ansible-core no-op tasks', 'bench/site_bench.py', started,
                       before, after, facts, extra=extra)
    lines += [''] + lib.table(['run', 'wall (s)', 'vs the no-op tasks', 'changed'], rows)
    lines += ['', '- second run: changed=%d%s; **%.2fx** the same number of ansible-core no-op tasks (target ≤ 1.5x: '
              '%s).' % (len(found['changed']), (' (%s)' % ', '.join('%s: %s' % c for c in found['changed']))
                        if found['changed'] else '', ratio, 'met' if ratio <= 1.5 and not found['changed']
                        else 'NOT met'),
              '- the no-op playbook mirrors the second run host by host: an `ansible.builtin.ping` (a module run '
              'over ssh) for each task that ran a module on the host (fact gathering, kvm_host, kvm_network, '
              'kvm_network_info...), an `ansible.builtin.debug` for each one that ran on the controller (set_fact, '
              'include_vars, assert, argument validation), a skipped task for each skipped one. Includes of roles '
              'and task files give no result and are not counted. So the ratio is what site.yml\'s modules cost '
              'beyond the smallest module: a libvirt connection each and the comparison of the live state.',
              '- kcli (PyPI `kcli`, checked from its wheel\'s metadata and source, not installed): it would install '
              'into a venv of its own (pure Python, plus libvirt-python built against the host\'s libvirt), but it '
              'has no equivalent no-op converge: a plan run again skips a network or pool that exists *by name* '
              '("Network hostonly skipped!", "Pool shared skipped!") without comparing its definition, and it has '
              'no host pre-flight; timing that against site.yml\'s drift check by meaning would compare different '
              'work, so it is left out.',
              '', '![site](site.png)']
    lib.write('site', lines)
    lib.save_raw('site', found)
    lib.bar_plot('site', 'site.yml on the lab: second run (changed=0) vs the same tasks as no-ops (%s, load %s)'
                 % (started, before),
                 ['site.yml first run', 'site.yml second run', 'the same %d tasks as ansible-core no-ops' % total],
                 [found['first'], found['second'], found['noop']])
    return ratio


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--keep', action='store_true', help='leave the lab up')
    parser.add_argument('--roles-from', metavar='REF', help='take the roles this checkout lacks from this git ref')
    parser.add_argument('--extra-vars', metavar='JSON', help='extra vars for site.yml (stated in the report)')
    args = parser.parse_args()
    lib.WORK.mkdir(parents=True, exist_ok=True)
    if args.extra_vars:
        EXTRA[:] = ['-e', json.dumps(json.loads(args.extra_vars))]
    overlay = None
    if args.roles_from:
        commit = subprocess.run(['git', '-C', str(lib.ROOT), 'rev-parse', '--short', args.roles_from], check=True,
                                capture_output=True, text=True).stdout.strip()
        overlay = (args.roles_from, commit, overlay_roles(args.roles_from))
    lab = Lab()
    try:
        lab.up(hosts=2, storage=True)
        conn = libvirt.open(lab.hosts[0].tcp_uri)
        facts = lib.versions(conn)
        conn.close()
        started, before = lib.now(), lib.load()
        found = measure(lab)
        ratio = report(found, started, before, lib.load(), facts, overlay)
        print('site.yml second run %.1f s, %d no-op tasks %.1f s: %.2fx, changed=%d'
              % (found['second'], sum(found['counts'].values()), found['noop'], ratio, len(found['changed'])))
    finally:
        if not args.keep:
            lab.down()
    return 0


if __name__ == '__main__':
    sys.exit(main())
