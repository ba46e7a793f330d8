"""Fleet scale as AWX runs it: one drift-check playbook over many lab hypervisor hosts, forks 10, in several forms.

    KVMLAB_INSTANCE=N .venv/bin/python bench/fleet_bench.py [--hosts 1,10,20] [--guests 50] [--runs 3]

Writes docs/benchmarks/fleet.md + fleet.png (issue 21, item 7). Brings its lab instance up with the most hosts
asked (namespaced libvirtd + sshd each, on this machine), defines the same 50 guests (not started) on every
host, then runs the drift check on the first 1, 10, 20 hosts with forks 10, round-robin: from the controller
(kvm_domains once, delegated to localhost, `hypervisors` = the play's hosts over qemu+ssh or qemu+tls), the same
through playbooks/drift.yml (the guests role's fleet entry point; 1 and 10 hosts), and per host (kvm_domains on every
host over its own qemu:///system, reached by ssh as any managed host); takes the lab down at the end."""
import argparse
import os
import resource
import sys
import threading
import time

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
# the same drift check as one task on the controller: kvm_domains with `hypervisors` (the play's hosts, each over
# the libvirt transport the play's `fleet_uri` host variable names), run once, delegated to localhost
CONTROLLER = [dict(name='Drift check of every guest, from the controller', hosts='kvm_hosts', gather_facts=False,
                   vars_files=['fleet_guests.yml'],
                   tasks=[{'name': 'The guests of every hypervisor, as they should be', 'kvmops.kvm.kvm_domains': {
                       'hypervisors': "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, "
                                      "fleet_uri))) }}",
                       'domains': '{{ fleet_guests }}'},
                       'run_once': True, 'delegate_to': 'localhost',
                       'vars': {'ansible_python_interpreter': '{{ ansible_playbook_python }}'}}])]
PING = [dict(name='Ansible alone: one no-op task per host', hosts='kvm_hosts', gather_facts=False,
             tasks=[{'name': 'ping', 'ansible.builtin.ping': {}}])]
# what each series runs: (playbook, ssh pipelining[, the controller form's libvirt URI host variable])
VARIANTS = {
    'guests.yml, from the controller': ('controller.yml', True, 'kvm_uri_ssh'),
    'guests.yml, from the controller over TLS': ('controller.yml', True, 'kvm_uri_tls'),
    'guests.yml': ('guests.yml', True),
    # the collection's own drift-check playbook (the guests role's fleet entry point), guests_list = the 50 guests
    'playbooks/drift.yml': (str(lib.ROOT / 'playbooks' / 'drift.yml'), True, 'kvm_uri_ssh'),
    'playbooks/drift.yml over TLS': (str(lib.ROOT / 'playbooks' / 'drift.yml'), True, 'kvm_uri_tls'),
    'guests.yml, no pipelining': ('guests.yml', False),
    'ping': ('ping.yml', True),
    'ping, no pipelining': ('ping.yml', False),
}
MAIN = 'guests.yml, from the controller'
PER_HOST = 'guests.yml'
TLS = 'guests.yml, from the controller over TLS'
FORMS = {MAIN: 'from the controller (qemu+ssh)', TLS: 'from the controller (qemu+tls)', PER_HOST: 'per host',
         'playbooks/drift.yml': 'playbooks/drift.yml (qemu+ssh)',
         'playbooks/drift.yml over TLS': 'playbooks/drift.yml (qemu+tls)'}
ROLE_FORMS = ('playbooks/drift.yml', 'playbooks/drift.yml over TLS')
RAW = 'raw libvirt-python'


def define_everywhere(lab, count, hosts):
    items = guests(count, 'kvmtbn-fleet-' if os.environ.get('KVMOPS_BENCH_PREFIX', '').startswith('kvmtbn')
                   else 'kvmbench-fleet-')
    for host in lab.hosts[:hosts]:
        module_process('kvm_domains', dict(uri=host.tcp_uri, domains=items))
    return items


def _busy():
    """(busy, total) CPU jiffies of the whole machine (/proc/stat), to show how much of the 2 cores a run used."""
    with open('/proc/stat') as stream:
        fields = [int(v) for v in stream.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def drift_check(lab, limit, variant=MAIN):
    """(wall s, changed, hosts in the recap, controller CPU s, machine CPU s) of one run of the variant."""
    playbook, pipelining, uri_var = (VARIANTS[variant] + (None,))[:3]
    env = dict(os.environ, ANSIBLE_HOST_KEY_CHECKING='False', ANSIBLE_DEPRECATION_WARNINGS='0',
               ANSIBLE_CONFIG=str(lib.ROOT / 'ansible.cfg'), ANSIBLE_COLLECTIONS_PATH=str(lib.ROOT / '.collections'),
               ANSIBLE_PIPELINING=str(pipelining))
    hosts = ','.join(host.name for host in lab.hosts[:limit])
    extra = ['-e', 'fleet_uri=%s' % uri_var] if uri_var else []
    if playbook.endswith('drift.yml'):
        extra = ['-e', '@fleet_role_vars.yml', '-e', 'guests_controller_uri={{ %s }}' % uri_var]
    cpu, busy = _children_cpu(), _busy()
    seconds, done = lib.timed([str(lib.VENV_PYTHON.parent / 'ansible-playbook'), '-i', str(lab.inventory_path),
                               '-f', str(FORKS), '-l', hosts, playbook] + extra, env=env, cwd=str(lib.WORK))
    cpu, after = _children_cpu() - cpu, _busy()
    machine = (after[0] - busy[0]) / float(os.sysconf('SC_CLK_TCK'))
    recap = [line for line in done.stdout.splitlines() if ' ok=' in line and 'changed=' in line]
    changed = sum(int(line.split('changed=')[1].split()[0]) for line in recap)
    return seconds, changed, len(recap), round(cpu, 2), round(machine, 2)


def raw_floor(lab, limit, names):
    """The libvirt floor without Ansible: one process, a thread per host, each over qemu+tcp reading the
    definition of every guest and parsing it (what the module's drift check asks libvirtd for, at least)."""
    from lxml import etree

    def read(host):
        conn = libvirt.open(host.tcp_uri)
        try:
            for name in names:
                etree.fromstring(conn.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        finally:
            conn.close()
    cpu, busy = resource.getrusage(resource.RUSAGE_SELF), _busy()
    began = time.monotonic()
    threads = [threading.Thread(target=read, args=(host,)) for host in lab.hosts[:limit]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - began
    after, now = resource.getrusage(resource.RUSAGE_SELF), _busy()
    own = (after.ru_utime + after.ru_stime) - (cpu.ru_utime + cpu.ru_stime)
    return seconds, 0, limit, round(own, 2), round((now[0] - busy[0]) / float(os.sysconf('SC_CLK_TCK')), 2)


def _median(items, index=0):
    return lib.spread([item[index] for item in items])[0]


def reading(found):
    """What the series say, in numbers (only those measured)."""
    def mid(variant, hosts):
        items = (found.get(variant) or {}).get(hosts)
        return _median(items) if items else None
    ours1, ours10 = mid(MAIN, 1), mid(MAIN, 10)
    host1, host10 = mid(PER_HOST, 1), mid(PER_HOST, 10)
    ping1, ping10 = mid('ping', 1), mid('ping', 10)
    bare10 = mid('guests.yml, no pipelining', 10)
    raw10 = mid(RAW, 10)
    lines = []
    tls1, tls10 = mid(TLS, 1), mid(TLS, 10)
    if None not in (ours1, ours10, host10):
        lines.append('- from the controller, 10 hosts take %.2f s against %.2f s for one: one module process checks '
                     'the 500 guests over 10 qemu+ssh connections, side by side, where the per-host form starts a '
                     'module process on every host (%.2f s for 10 hosts).' % (ours10, ours1, host10))
    if None not in (ours10, tls1, tls10):
        lines.append('- over TLS the same check of 10 hosts takes %.2f s (%.2f s for one): a qemu+ssh connection costs '
                     'an ssh client here and an sshd session and login shell on the host (about 0.3-0.45 s of these '
                     'shared cores each, measured with `ssh host true`), a TLS one a handshake with libvirtd. With '
                     'ssh, an OpenSSH `ControlMaster`/`ControlPersist` in the controller\'s ssh config (as Ansible '
                     'uses for its own connections) saves the handshake on later runs.' % (tls10, tls1))
    if None not in (host1, host10, ping1, ping10):
        lines.append('- Ansible alone (`ping`) goes from %.2f s on one host to %.2f s on 10 (%.2fx) on this machine: that '
                     'is the floor of any module that runs on every host with forks %d, so the per-host form cannot '
                     'get under it here. It adds %.2f s to ping on one host and %.2f s on 10: the 10 module processes '
                     '(Python, Ansible\'s module_utils, libvirt and lxml imports, 50 guests compared each) on the same '
                     '2 cores.' % (ping1, ping10, ping10 / ping1, FORKS, host1 - ping1, host10 - ping10))
    if bare10 is not None and host1:
        lines.append('- the per-host form without ssh pipelining (Ansible\'s default): 10 hosts take %.2f s, %.2fx of '
                     'one host with it; the collection\'s ansible.cfg turns pipelining on (AWX reads a project\'s '
                     'ansible.cfg too).' % (bare10, bare10 / host1))
    if raw10 is not None:
        lines.append('- raw libvirt-python reads and parses the definitions of all guests of 10 hosts in %.2f s: the '
                     'hosts\' libvirtds are not where the time goes.' % raw10)
    return lines


def report(found, count, runs, started, before, after, facts, loads):
    main = found[MAIN]
    rows = []
    for variant in (MAIN, TLS) + ROLE_FORMS + (PER_HOST,):
        sizes = found.get(variant) or {}
        for hosts, items in sorted(sizes.items()):
            mid = lib.spread([item[0] for item in items])
            rows.append([FORMS[variant], hosts, hosts * count, '%.2f (%.2f-%.2f)' % mid,
                         '%.2fx' % (mid[0] / _median(sizes[min(sizes)])), '%.1f' % _median(items, 3),
                         '%.1f' % _median(items, 4), ', '.join(str(item[1]) for item in items), '%d' % items[0][2]])
    floors = []
    for variant in list(VARIANTS) + [RAW]:
        sizes = found.get(variant) or {}
        if 1 in sizes and 10 in sizes:
            one, ten = _median(sizes[1]), _median(sizes[10])
            floors.append([variant, '%.2f' % one, '%.2f' % ten, '%.2fx' % (ten / one),
                           '%.1f / %.1f' % (_median(sizes[1], 3), _median(sizes[10], 3)),
                           '%.1f / %.1f' % (_median(sizes[1], 4), _median(sizes[10], 4))])
    lines = lib.header('Fleet scale: one drift check over many hypervisor hosts', 'bench/fleet_bench.py', started,
                       before, after, facts, extra=[
                           '- lab hypervisor hosts (each its own libvirtd and sshd in a network namespace of this '
                           'machine, reached by ssh like any managed host), %d guests defined (not started) on '
                           'each; one drift-check play with one `kvmops.kvm.kvm_domains` task of the %d guests, '
                           '`ansible-playbook -f %d -l <hosts>`, ssh pipelining on (the collection\'s ansible.cfg), '
                           'in these forms:' % (count, count, FORKS),
                           '  - **from the controller**: the task runs once, delegated to localhost, with '
                           '`hypervisors` = the play\'s hosts (the module\'s EXAMPLES form), each over `qemu+ssh` '
                           '(the lab key; libvirt starts an ssh client per host, and the host a login shell that '
                           'runs virt-ssh-helper) or over `qemu+tls` (client certificate, straight to libvirtd\'s '
                           'port 16514, as the hypervisor role sets up with `hypervisor_migration_transport: tls`);',
                           '  - **playbooks/drift.yml**: the collection\'s own drift-check playbook (the guests role\'s '
                           '`fleet` entry point, `guests_list` = the 50 guests): a `set_fact` per host on the '
                           'controller, then the same single task from the controller, over ssh or TLS '
                           '(`guests_controller_uri`); measured at 1 and 10 hosts;',
                           '  - **per host**: the task runs on every host (Ansible starts the module there over ssh) '
                           'against its own `qemu:///system`.',
                           '- %d rounds, round-robin over the host counts and the series. Load average (1 min) after '
                           'each round: %s.' % (runs, ', '.join(loads)),
                           '- Every host runs on the same 2 cores: the module processes of 10 hosts (per host), '
                           'their sshd sessions and login shells (qemu+ssh) and their libvirtds compete for them, '
                           'where a real fleet would give each its own machine.',
                           '- The controller form\'s task runs once: the recap lists only the host it ran for.'])
    lines += [''] + lib.table(['form', 'hosts', 'guests checked', 'wall (s), median (min-max)', 'vs one host',
                               'controller CPU (s)', 'machine CPU used (s)', 'changed (per run)', 'hosts in recap'],
                              rows)
    lines.append('')
    for variant in (MAIN, TLS) + ROLE_FORMS:
        sizes = found.get(variant) or {}
        if 1 in sizes and 10 in sizes:
            ratio = _median(sizes[10]) / _median(sizes[1])
            lines.append('- %s, 10 hosts vs one host: **%.2fx** (target ≤ 2x: %s)' % (
                FORMS[variant], ratio, 'met' if ratio <= 2 else 'NOT met'))
    per_host, ping = found.get(PER_HOST) or {}, found.get('ping') or {}
    if 1 in per_host and 10 in per_host:
        line = '- per host, 10 hosts vs one host: %.2fx' % (_median(per_host[10]) / _median(per_host[1]))
        if 1 in ping and 10 in ping:
            # the hosts share this machine's 2 cores, so Ansible's own scaling bounds every module run on each host
            line += ('; Ansible\'s own `ping` over the same hosts and forks: %.2fx, the floor of any per-host module '
                     'on these 2 shared cores' % (_median(ping[10]) / _median(ping[1])))
        lines.append(line)
    if floors:
        lines += ['', '## Where the time goes: the same 1 and 10 hosts, other work', '',
                  '- `ping`: the same play with `ansible.builtin.ping` instead of kvm_domains (Ansible, ssh and a '
                  'Python start on each host, no libvirt): the floor of any module run over ssh with these forks.',
                  '- `no pipelining`: `ANSIBLE_PIPELINING=False` (Ansible\'s default): each task costs ssh round '
                  'trips to make a temporary directory, copy the module and remove it again.',
                  '- `%s`: no Ansible; one process, a thread per host over qemu+tcp reads and parses the '
                  'definition of all %d guests (the libvirtd side of a drift check).' % (RAW, count),
                  '- controller CPU: user+sys of ansible-playbook and its children: its ssh clients, and in the '
                  'controller form the module process and the ssh clients libvirt starts (in the per-host form the '
                  'module processes run under each host\'s sshd, not counted there); machine CPU used: busy CPU-seconds of the whole '
                  'machine during the run (/proc/stat; other engineers\' work included), out of 2 x wall.', '']
        lines += lib.table(['series', '1 host (s)', '10 hosts (s)', '10 vs 1', 'controller CPU 1 / 10 (s)',
                            'machine CPU 1 / 10 (s)'], floors)
        lines += [''] + reading(found)
    lines += ['', '![fleet](fleet.png)']
    lib.write('fleet', lines)
    xs = sorted(main)
    series = {'%s (s)' % FORMS[MAIN]: (xs, [_median(main[x]) for x in xs])}
    for variant in (TLS, PER_HOST, 'ping', RAW):
        if found.get(variant):
            vx = sorted(found[variant])
            series['%s (s)' % FORMS.get(variant, variant)] = (vx, [_median(found[variant][x]) for x in vx])
    lib.line_plot('fleet', 'Drift check of %d guests per host, forks %d' % (count, FORKS), 'hypervisor hosts',
                  series, 'seconds')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', default='1,10,20')
    parser.add_argument('--guests', type=int, default=50)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--keep', action='store_true', help='leave the lab up')
    parser.add_argument('--no-floors', action='store_true',
                        help='only the two forms of the drift check (no ping / raw libvirt series)')
    args = parser.parse_args()
    sizes = [int(h) for h in args.hosts.split(',')]
    lib.WORK.mkdir(parents=True, exist_ok=True)
    lab = Lab()
    try:
        lab.up(hosts=max(sizes))
        items = define_everywhere(lab, args.guests, max(sizes))
        (lib.WORK / 'fleet_guests.yml').write_text(yaml.safe_dump(dict(fleet_guests=items)))
        (lib.WORK / 'guests.yml').write_text(yaml.safe_dump(PLAYBOOK, sort_keys=False))
        (lib.WORK / 'controller.yml').write_text(yaml.safe_dump(CONTROLLER, sort_keys=False))
        (lib.WORK / 'fleet_role_vars.yml').write_text(yaml.safe_dump(dict(guests_list=items)))
        (lib.WORK / 'ping.yml').write_text(yaml.safe_dump(PING, sort_keys=False))
        names = [item['name'] for item in items]
        conn = libvirt.open(lab.hosts[0].tcp_uri)
        facts = lib.versions(conn)
        conn.close()
        started, before = lib.now(), lib.load()
        forms = [MAIN, TLS, PER_HOST] + list(ROLE_FORMS)
        floors = [variant for variant in VARIANTS if variant not in forms] + [RAW]
        series = forms + ([] if args.no_floors else floors)
        found = dict((variant, {}) for variant in series)
        loads = []
        for _run in range(args.runs):
            for size in sizes:
                for variant in series:
                    if variant not in (MAIN, TLS, PER_HOST) and size not in (1, 10):
                        continue   # the other series only where the ratio is read
                    run = raw_floor(lab, size, names) if variant == RAW else drift_check(lab, size, variant)
                    found[variant].setdefault(size, []).append(run)
                    print('fleet round %d: %s, %d hosts: %.2f s (controller CPU %.1f s, machine CPU %.1f s)' % (
                        _run + 1, variant, size, run[0], run[3], run[4]), flush=True)
            loads.append(lib.load().split(' / ')[0])
        lib.save_raw('fleet', dict(found=found, guests=args.guests, runs=args.runs, forks=FORKS, loads=loads))
        report(found, args.guests, args.runs, started, before, lib.load(), facts, loads)
    finally:
        if not args.keep:
            lab.down()
    return 0


if __name__ == '__main__':
    sys.exit(main())
