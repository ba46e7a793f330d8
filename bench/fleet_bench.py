"""Fleet scale as AWX runs it: one drift-check playbook over many lab hypervisor hosts, forks 10.

    KVMLAB_INSTANCE=N .venv/bin/python bench/fleet_bench.py [--hosts 1,10,20] [--guests 50] [--runs 3]

Writes docs/benchmarks/fleet.md + fleet.png (issue 21, item 7). Brings its lab instance up with the most hosts
asked (namespaced libvirtd + sshd each, on this machine), defines the same 50 guests (not started) on every
host, then runs `guests.yml` (kvm_domains over the host's own qemu:///system, reached by ssh as any managed
host) on the first 1, 10, 20 hosts with forks 10, round-robin; takes the lab down at the end."""
import argparse
import os
import sys

import yaml

import benchlib as lib
from batch_bench import guests, module_process

sys.path.insert(0, str(lib.ROOT / 'tests' / 'lab'))

import libvirt  # noqa: E402
from kvmlab import Lab  # noqa: E402

FORKS = 10
PLAYBOOK = [dict(name='Drift check of every guest', hosts='kvm_hosts', gather_facts=False,
                 vars_files=['fleet_guests.yml'],
                 tasks=[{'name': 'The guests, as they should be', 'kvmops.kvm.kvm_domains': {
                     'domains': '{{ fleet_guests }}'}}])]


def define_everywhere(lab, count, hosts):
    items = guests(count, 'kvmtbn-fleet-' if os.environ.get('KVMOPS_BENCH_PREFIX', '').startswith('kvmtbn')
                   else 'kvmbench-fleet-')
    for host in lab.hosts[:hosts]:
        module_process('kvm_domains', dict(uri=host.tcp_uri, domains=items))
    return items


def drift_check(lab, limit):
    env = dict(os.environ, ANSIBLE_HOST_KEY_CHECKING='False', ANSIBLE_DEPRECATION_WARNINGS='0',
               ANSIBLE_CONFIG=str(lib.ROOT / 'ansible.cfg'), ANSIBLE_COLLECTIONS_PATH=str(lib.ROOT / '.collections'))
    hosts = ','.join(host.name for host in lab.hosts[:limit])
    seconds, done = lib.timed([str(lib.VENV_PYTHON.parent / 'ansible-playbook'), '-i', str(lab.inventory_path),
                               '-f', str(FORKS), '-l', hosts, 'guests.yml'], env=env, cwd=str(lib.WORK))
    recap = [line for line in done.stdout.splitlines() if ' ok=' in line and 'changed=' in line]
    changed = sum(int(line.split('changed=')[1].split()[0]) for line in recap)
    return seconds, changed, len(recap)


def report(found, count, runs, started, before, after, facts):
    base = lib.spread([s for s, _c, _h in found[min(found)]])[0]
    rows = []
    for hosts, items in sorted(found.items()):
        mid = lib.spread([s for s, _c, _h in items])
        ratio = mid[0] / base
        rows.append([hosts, hosts * count, '%.2f (%.2f-%.2f)' % mid, '%.2fx' % ratio,
                     ', '.join(str(c) for _s, c, _h in items), '%d' % items[0][2]])
    ten = found.get(10)
    lines = lib.header('Fleet scale: one drift check over many hypervisor hosts', 'bench/fleet_bench.py', started,
                       before, after, facts, extra=[
                           '- lab hypervisor hosts (each its own libvirtd and sshd in a network namespace of this '
                           'machine, reached by ssh like any managed host), %d guests defined (not started) on '
                           'each; `guests.yml` = one `kvmops.kvm.kvm_domains` task with the %d guests, '
                           '`ansible-playbook -f %d -l <hosts>`; %d rounds, round-robin over the host counts.'
                           % (count, count, FORKS, runs),
                           '- Every host runs on the same 2 cores: the module processes of 10 hosts compete for '
                           'them, where a real fleet would give each its own machine.'])
    lines += [''] + lib.table(['hosts', 'guests checked', 'wall (s), median (min-max)', 'vs one host',
                               'changed (per run)', 'hosts in recap'], rows)
    if ten:
        ratio = lib.spread([s for s, _c, _h in ten])[0] / base
        lines += ['', '- 10 hosts vs one host: **%.2fx** (target ≤ 2x: %s)' % (ratio, 'met' if ratio <= 2 else 'NOT met')]
    lines += ['', '![fleet](fleet.png)']
    lib.write('fleet', lines)
    xs = sorted(found)
    lib.line_plot('fleet', 'Drift check of %d guests per host, forks %d' % (count, FORKS), 'hypervisor hosts', {
        'guests.yml wall time (s)': (xs, [lib.spread([s for s, _c, _h in found[x]])[0] for x in xs])}, 'seconds')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', default='1,10,20')
    parser.add_argument('--guests', type=int, default=50)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--keep', action='store_true', help='leave the lab up')
    args = parser.parse_args()
    sizes = [int(h) for h in args.hosts.split(',')]
    lib.WORK.mkdir(parents=True, exist_ok=True)
    lab = Lab()
    try:
        lab.up(hosts=max(sizes))
        items = define_everywhere(lab, args.guests, max(sizes))
        (lib.WORK / 'fleet_guests.yml').write_text(yaml.safe_dump(dict(fleet_guests=items)))
        (lib.WORK / 'guests.yml').write_text(yaml.safe_dump(PLAYBOOK, sort_keys=False))
        conn = libvirt.open(lab.hosts[0].tcp_uri)
        facts = lib.versions(conn)
        conn.close()
        started, before = lib.now(), lib.load()
        found = dict((size, []) for size in sizes)
        for _run in range(args.runs):
            for size in sizes:
                found[size].append(drift_check(lab, size))
            walls = ['%d hosts %.1f s' % (size, found[size][-1][0]) for size in sizes]
            print('fleet round %d: %s' % (_run + 1, ', '.join(walls)), flush=True)
        lib.save_raw('fleet', dict(found=found, guests=args.guests, runs=args.runs, forks=FORKS))
        report(found, args.guests, args.runs, started, before, lib.load(), facts)
    finally:
        if not args.keep:
            lab.down()
    return 0


if __name__ == '__main__':
    sys.exit(main())
