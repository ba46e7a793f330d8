"""Live migration side by side on the lab, and evacuation with k parallel migrations.

    KVMLAB_INSTANCE=N .venv/bin/python bench/migrate_bench.py [--runs 10] [--guests 6] [--only migrate|evacuate]

Writes docs/benchmarks/migrate.md + migrate.png (issue 21, item 3) and docs/benchmarks/evacuate.md +
evacuate.png (item 4). Brings its lab instance up (2 hypervisor hosts, tiny busybox guests without disks) and
takes it down at the end. One tiny guest moves back and forth between the hosts over qemu+tcp, the ways taking
turns (kvm_migrate, raw libvirt-python migrate3 with the same flags, virsh migrate), each run a process of
its own started cold, as a playbook task or a script would; the module's own overhead is its wall time minus
the migration it reports (`duration_s`)."""
import argparse
import json
import math
import os
import sys
import time

import benchlib as lib

sys.path.insert(0, str(lib.ROOT / 'tests' / 'lab'))

import libvirt  # noqa: E402
from kvmlab import Lab  # noqa: E402
from kvmlab import config  # noqa: E402

RAW = """
import sys, time, libvirt
source, dest, name, flags = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
began = time.monotonic()
src = libvirt.open(source)
dst = libvirt.open(dest)
dom = src.lookupByName(name)
connected = time.monotonic()
dom.migrate3(dst, {}, flags)
print(connected - began, time.monotonic() - connected)
"""


def module_process(module, args):
    """(seconds, result) of one module process, run as Ansible runs it on the managed host (an args file)."""
    path = lib.WORK / 'migrate-args.json'
    path.write_text(json.dumps(dict(ANSIBLE_MODULE_ARGS=args)))
    env = dict(os.environ, PYTHONPATH=str(lib.ROOT / '.collections'))
    seconds, done = lib.timed([str(lib.VENV_PYTHON), str(lib.ROOT / 'plugins' / 'modules' / ('%s.py' % module)),
                               str(path)], env=env, check=False)
    result = json.loads(done.stdout)
    if result.get('failed'):
        raise RuntimeError('%s failed: %s' % (module, result.get('msg')))
    return seconds, result


def downtime(host, name):
    """The completed migration's downtime (ms) as the destination's libvirt recorded it, or None."""
    conn = libvirt.open(host.tcp_uri)
    try:
        stats = conn.lookupByName(name).jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
        return stats.get('downtime')
    except libvirt.libvirtError:
        return None
    finally:
        conn.close()


def flags_value(names):
    """kvm_migrate's flag names (its `flags` result) as libvirt's value."""
    sys.path.insert(0, str(lib.ROOT / '.collections'))
    from ansible_collections.kvmops.kvm.plugins.module_utils._migrate.spec import FLAG_NAMES
    constants = dict((name, constant) for constant, name in FLAG_NAMES)
    return sum(getattr(libvirt, constants[name]) for name in names)


def migrations(lab, runs):
    h1, h2 = lab.hosts[:2]
    name = config.PREFIX + 'bmig'
    lab.start_tiny_guest(h1, name, ip=None)
    where, other = h1, h2
    found = dict(module=[], raw=[], virsh=[])
    flags = None
    try:
        for _run in range(runs):
            for way in ('module', 'raw', 'virsh'):
                if way == 'module':
                    seconds, result = module_process('kvm_migrate', dict(
                        name=name, uri=where.tcp_uri, dest_uri=other.tcp_uri, insecure_transport=True))
                    flags = flags or result['flags']
                    row = dict(wall=seconds, migration=result['duration_s'], overhead=seconds - result['duration_s'],
                               downtime=result.get('downtime_ms'))
                elif way == 'raw':
                    seconds, done = lib.timed([str(lib.VENV_PYTHON), '-c', RAW, where.tcp_uri, other.tcp_uri, name,
                                               str(flags_value(flags))])
                    connect, migration = [float(x) for x in done.stdout.split()]
                    row = dict(wall=seconds, migration=migration, overhead=seconds - migration)
                else:
                    seconds, _done = lib.timed(['virsh', '-c', where.tcp_uri, 'migrate', '--live', '--persistent',
                                                '--undefinesource', name, other.tcp_uri])
                    row = dict(wall=seconds)
                if row.get('downtime') is None:
                    row['downtime'] = downtime(other, name)
                found[way].append(row)
                where, other = other, where
            print('migration round %d: %s' % (_run + 1, ', '.join(
                '%s %.2f s' % (way, rows[-1]['wall']) for way, rows in found.items())), flush=True)
    finally:
        lab.remove_guest(where, name)
    return found, flags


def report_migrate(found, flags, runs, started, before, after, facts):
    raw = lib.spread([r['wall'] for r in found['raw']])[0]
    rows = []
    labels = dict(module='`kvmops.kvm.kvm_migrate` (module process, pre-checks included)',
                  raw='raw libvirt-python `migrate3` (one process: open both, look up, migrate)',
                  virsh='`virsh migrate --live --persistent --undefinesource`')
    for way, items in found.items():
        wall = lib.spread([r['wall'] for r in items])
        downtimes = [r['downtime'] for r in items if r.get('downtime') is not None]
        overhead = [r['overhead'] for r in items if 'overhead' in r]
        rows.append([labels[way], '%.2f (%.2f-%.2f)' % wall, '%.2fx' % (wall[0] / raw),
                     '%.0f (%.0f-%.0f)' % lib.spread(downtimes) if downtimes else '-',
                     '%.2f' % lib.spread(overhead)[0] if overhead else '-'])
    ratio = lib.spread([r['wall'] for r in found['module']])[0] / raw
    lines = lib.header('Live migration: kvm_migrate, raw migrate3 and virsh', 'bench/migrate_bench.py', started,
                       before, after, facts, extra=[
                           '- One tiny busybox guest (128 MiB, no disk) between two lab hypervisor hosts '
                           '(namespaced libvirtd on this machine, qemu+tcp), moved back and forth %d times by each '
                           'way, the ways taking turns. Flags: %s (the ones kvm_migrate chose; raw migrate3 used the '
                           'same).' % (runs, ', '.join(flags or []))])
    lines += [''] + lib.table(['way', 'wall (s), median (min-max)', 'vs raw migrate3',
                               'downtime (ms), median (min-max)', 'overhead besides the migration (s)'], rows)
    lines += ['', '- kvm_migrate vs raw migrate3, pre-checks and connections included: **%.2fx** (target ≤ 1.2x: %s)'
              % (ratio, 'met' if ratio <= 1.2 else 'NOT met'),
              '- downtime: libvirt\'s completed-job statistics (`downtime`), as kvm_migrate returns them '
              '(`downtime_ms`); for the other ways read from the destination after the move.',
              '', '![migrate](migrate.png)']
    lib.write('migrate', lines)
    lib.save_raw('migrate', dict(found=found, flags=flags, runs=runs))
    lib.bar_plot('migrate', 'Live migration of a tiny guest between two lab hosts (median of %d)' % runs,
                 [labels[w].replace('`', '') for w in found],
                 [lib.spread([r['wall'] for r in found[w]])[0] for w in found])


# ---------------------------------------------------------------- evacuation

def evacuate(lab, guests, parallels, repeat=3):
    h1, h2 = lab.hosts[:2]
    names = ['%sbev%d' % (config.PREFIX, index) for index in range(guests)]
    for name in names:
        lab.start_tiny_guest(h1, name, ip=None)
    inventory = str(lab.inventory_path)
    env = dict(os.environ, ANSIBLE_HOST_KEY_CHECKING='False', ANSIBLE_DEPRECATION_WARNINGS='0',
               ANSIBLE_CONFIG=str(lib.ROOT / 'ansible.cfg'), ANSIBLE_COLLECTIONS_PATH=str(lib.ROOT / '.collections'))
    ansible_playbook = str(lib.VENV_PYTHON.parent / 'ansible-playbook')
    found = {}
    home, away = h1, h2
    try:
        # one migration as the playbook does it, for (N/k) x one migration
        single = []
        for _run in range(3):
            seconds, _done = lib.timed([str(lib.VENV_PYTHON.parent / 'ansible'), home.name, '-i', inventory, '-m',
                                        'kvmops.kvm.kvm_migrate', '-a', json.dumps(dict(
                                            name=names[0], uri=home.ssh_uri, dest_uri=away.ssh_uri))], env=env)
            single.append(seconds)
            home, away = away, home
        if home is not h1:   # the first guest back home for the evacuations
            lib.timed([str(lib.VENV_PYTHON.parent / 'ansible'), home.name, '-i', inventory, '-m',
                       'kvmops.kvm.kvm_migrate', '-a', json.dumps(dict(name=names[0], uri=home.ssh_uri,
                                                                       dest_uri=h1.ssh_uri))], env=env)
        home, away = h1, h2
        record = lib.WORK / 'evacuate-record.jsonl'
        env.update(ANSIBLE_CALLBACK_PLUGINS=str(lib.ROOT / 'tests' / 'integration' / 'plugins' / 'callback'),
                   ANSIBLE_CALLBACKS_ENABLED='kvmops_record', ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
                   KVMOPS_RECORD=str(record))
        runs = dict((k, []) for k in parallels)
        for _round in range(repeat):   # round-robin over k, so that the machine's load spreads over all of them
            for k in parallels:
                if record.exists():
                    record.unlink()
                began = time.time()
                seconds, done = lib.timed([ansible_playbook, '-i', inventory,
                                           str(lib.ROOT / 'playbooks' / 'evacuate.yml'), '-e', json.dumps(dict(
                                               evacuate_host=home.name, evacuate_targets=[away.name],
                                               evacuate_parallel=k, evacuate_uri='qemu:///system'))],
                                          env=env, check=False)
                moved = _count(away, names)
                runs[k].append(dict(wall=seconds, moved=moved, rc=done.returncode, tail=done.stdout[-1500:],
                                    phases=_phases(record, began), load=lib.load()))
                print('evacuate k=%d: %.1f s, %d of %d moved (rc %d), phases %s' % (
                    k, seconds, moved, len(names), done.returncode, runs[k][-1]['phases']), flush=True)
                home, away = away, home
                if moved != len(names):   # a guest stayed: bring every guest back to one host for the next run
                    _gather(lab, names, home)
        for k, items in runs.items():
            walls = [item['wall'] for item in items]
            median = sorted(items, key=lambda item: item['wall'])[len(items) // 2]
            found[k] = dict(median, walls=walls, runs=len(items), loads=[item['load'].split(' / ')[0] for item in items],
                            moved=min(item['moved'] for item in items), rc=max(item['rc'] for item in items))
    finally:
        for host in (h1, h2):
            for name in names:
                lab.remove_guest(host, name)
    return found, single


def _gather(lab, names, home):
    """Every guest running on `home` again (after a run that left some behind)."""
    for host in lab.hosts[:2]:
        if host is home:
            continue
        conn = libvirt.open(host.tcp_uri)
        try:
            for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
                if dom.name() in names:
                    dom.migrateToURI3(home.tcp_uri, {}, libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER
                                      | libvirt.VIR_MIGRATE_PERSIST_DEST | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE)
        finally:
            conn.close()


def _phases(record, began):
    """Seconds from the playbook's start to its pre-checks' last result, then to the last placement result, then to
    the last migration's result (kvmops_record's `_time`), and each migration's own duration_s."""
    results = [json.loads(line) for line in record.read_text().splitlines() if line.strip()] if record.exists() else []

    def last(task):
        times = [r['_time'] for r in results if r['_task'] == task]
        return max(times) if times else None
    checked = last('Pre-check every guest against every target (check mode, nothing moves)')
    placed = last('Place each guest (largest first) on the fitting target with the most free memory left')
    migrated = last('Migrate, evacuate_parallel at a time')
    if None in (checked, placed, migrated):
        return {}
    durations = [guest.get('duration_s') for r in results if r['_task'] == 'Migrate, evacuate_parallel at a time'
                 for guest in (r.get('guests') or {}).values()]
    return dict(until_prechecked=round(checked - began, 1), placement=round(placed - checked, 1),
                migrations=round(migrated - placed, 1), durations=[d for d in durations if d is not None])


def _count(host, names):
    conn = libvirt.open(host.tcp_uri)
    try:
        return sum(1 for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE) if dom.name() in names)
    finally:
        conn.close()


def report_evacuate(found, single, guests, started, before, after, facts):
    one = lib.spread(single)[0]
    rows = []
    for k, item in sorted(found.items()):
        ideal = math.ceil(guests / float(k)) * one
        phases = item.get('phases') or {}
        rows.append([k, '%.1f' % item['wall'], ', '.join('%.1f' % w for w in item.get('walls', [item['wall']])),
                     '%.1f' % ideal, '%.2fx' % (item['wall'] / ideal),
                     phases.get('until_prechecked', '-'), phases.get('migrations', '-'),
                     '%.1f' % max(phases['durations']) if phases.get('durations') else '-',
                     '%d of %d' % (item['moved'], guests), 'ok' if item['rc'] == 0 else 'rc %d' % item['rc']])
    lines = lib.header('Evacuation: %d guests, k parallel migrations' % guests, 'bench/migrate_bench.py', started,
                       before, after, facts, extra=[
                           '- `playbooks/evacuate.yml` drains %d running tiny guests from one lab host to the other, '
                           'for k = %s (`bench/migrate_bench.py --only evacuate`), %d runs each, round-robin over k '
                           '(the medians are in the table). The playbook runs two kvm_migrate tasks with the batch of '
                           'guests (`guests:`): a check-mode one per target that pre-checks every guest (one '
                           'process, one connection per host), and one that migrates them `parallel: k` at a time, a '
                           'sliding window inside the module, each lane over connections of its own. One migration: '
                           '`ansible <host> -m kvmops.kvm.kvm_migrate` over qemu+ssh, median of %d: %.2f s (Ansible '
                           'start-up included, as in the playbook).' % (
                               guests, ', '.join(str(k) for k in sorted(found)),
                               max(item.get('runs', 1) for item in found.values()), len(single), one)])
    lines += [''] + lib.table(['k', 'evacuation (s), median', 'runs (s)', '(N/k) x one migration (s)', 'ratio',
                               'start to last pre-check (s)', 'migration phase (s)', 'longest migration (s)',
                               'moved', 'playbook'], rows)
    worst = max(item['wall'] / (math.ceil(guests / float(k)) * one) for k, item in found.items())
    fixed = [item['phases']['until_prechecked'] for item in found.values() if item.get('phases')]
    fastest = min(single)
    lines += ['', '- worst ratio %.2fx (target ≤ 1.3x: %s).' % (worst, 'met' if worst <= 1.3 else 'NOT met'),
              '- against the fastest of the single migrations (%.2f s) instead of their median: %s (the single '
              'migration\'s time carries the machine\'s load as much as the evacuations do).' % (
                  fastest, ', '.join('k=%d %.2fx' % (k, item['wall'] / (math.ceil(guests / float(k)) * fastest))
                                     for k, item in sorted(found.items()))),
              '- load average (1 min) after each run: %s.' % '; '.join(
                  'k=%d: %s' % (k, ', '.join(found[k].get('loads', []))) for k in sorted(found)),
              '- the fixed part, from the start to the last pre-check (Ansible start-up, the list of running guests, '
              'one batch pre-check of every guest): %s s. The migration phase holds one module process whatever k '
              'is; with k migrations at a time on two cores (shared with other engineers\' tests and the TCG '
              'guests of both lab hosts) each migration takes longer (the "longest migration" column), so the '
              'phase does not shrink by k.' % '/'.join('%.1f' % f for f in fixed) if fixed else
              '- phases not recorded.',
              '- phases, from the recorded task results\' arrival times: start to last pre-check = Ansible start-up, '
              'the list of running guests and the pre-checks; migration phase = from the placement to the '
              'migration task\'s result; the rest (summary, end) is the difference to the total.',
              '- before the batch path (2026-12-05 21:43, load ~7, one run each): 49.5 / 32.2 / 30.2 s for k = 1 / 2 '
              '/ 3 (1.01x / 1.31x / 1.85x of 8.17 s x N/k): every guest an in-memory host, a module process per '
              'pre-check and per migration under `throttle: k`, ~13 s of start-up and pre-checks whatever k was. '
              'Before that (21:04, load ~14): 114.8 / 76.5 / 84.4 s (pre-checks one after another, async_status '
              'polling).', '', '![evacuate](evacuate.png)']
    lib.write('evacuate', lines)
    lib.save_raw('evacuate', dict(found=found, single=single, guests=guests))
    ks = sorted(found)
    lib.line_plot('evacuate', 'Evacuating %d guests: wall time vs k (%s, load %s)' % (guests, started, before),
                  'k (parallel migrations)', {
        'evacuate.yml (median)': (ks, [found[k]['wall'] for k in ks]),
        '(N/k) x one migration': (ks, [math.ceil(guests / float(k)) * one for k in ks])}, 'seconds')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=10)
    parser.add_argument('--guests', type=int, default=6)
    parser.add_argument('--parallel', default='1,2,3')
    parser.add_argument('--repeat', type=int, default=3, help='evacuations per k (round-robin), the median reported')
    parser.add_argument('--only', choices=['migrate', 'evacuate'])
    parser.add_argument('--keep', action='store_true', help='leave the lab up')
    args = parser.parse_args()
    lib.WORK.mkdir(parents=True, exist_ok=True)
    lab = Lab()
    try:
        lab.up(hosts=2)
        conn = libvirt.open(lab.hosts[0].tcp_uri)
        facts = lib.versions(conn)
        conn.close()
        facts['virsh'] = facts['libvirtd']
        if args.only in (None, 'migrate'):
            started, before = lib.now(), lib.load()
            found, flags = migrations(lab, args.runs)
            report_migrate(found, flags, args.runs, started, before, lib.load(), facts)
        if args.only in (None, 'evacuate'):
            started, before = lib.now(), lib.load()
            parallels = [int(k) for k in args.parallel.split(',')]
            found, single = evacuate(lab, args.guests, parallels, args.repeat)
            report_evacuate(found, single, args.guests, started, before, lib.load(), facts)
    finally:
        if not args.keep:
            lab.down()
    return 0


if __name__ == '__main__':
    sys.exit(main())
