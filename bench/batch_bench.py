"""No-op converge and creation of 50 guests, side by side, and what a module process costs as guests grow.

    .venv/bin/python bench/batch_bench.py [--guests 50] [--runs 3]

Writes docs/benchmarks/batch.md + batch.png (issue 21, item 2) and docs/benchmarks/footprint.md +
footprint.png (item 6). On the machine's libvirtd (qemu:///system); the guests are defined, never started
(virt-install's one guest excepted: it always starts what it installs). Every run goes through
`ansible-playbook` on localhost, as an AWX drift check would; the peer (community.libvirt from the `ansible`
package) runs from a venv of its own under .cache/bench/, its modules with the same Python as ours.
Objects are named $KVMOPS_BENCH_PREFIX* (kvmbench-b- by default) and removed afterwards."""
import argparse
import json
import resource
import os
import shutil
import subprocess
import sys
import time

import libvirt

import benchlib as lib

PREFIX = os.environ.get('KVMOPS_BENCH_PREFIX', 'kvmbench-b-')
URI = 'qemu:///system'
GUEST_XML = ("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
             "<os><type arch='x86_64'>hvm</type></os></domain>")

PLAYS = {
    'empty': [],
    'ping': [dict(name='ping', **{'ansible.builtin.ping': None})],
    'ours_loop': [{'name': 'kvm_domain in a loop', 'kvmops.kvm.kvm_domain': '{{ item }}',
                   'loop': '{{ guests }}', 'loop_control': {'label': '{{ item.name }}'}}],
    'ours_batch': [{'name': 'kvm_domains', 'kvmops.kvm.kvm_domains': {'domains': '{{ guests }}'}}],
    'peer_loop': [{'name': 'community.libvirt.virt in a loop', 'community.libvirt.virt': {
        'command': 'define', 'uri': URI,
        'xml': GUEST_XML.replace('%s', '{{ item.name }}')},
        'loop': '{{ guests }}', 'loop_control': {'label': '{{ item.name }}'}}],
}


def guests(count, prefix=PREFIX + 'o'):
    return [dict(name='%s%03d' % (prefix, index), type='qemu', memory=64, vcpus=1, state='present')
            for index in range(count)]


def write_playbooks(count):
    import yaml
    lib.WORK.mkdir(parents=True, exist_ok=True)
    (lib.WORK / 'guests.yml').write_text(yaml.safe_dump(dict(guests=guests(count))))
    # the peer converges guests of its own (defined from its XML), beside ours
    (lib.WORK / 'peer_guests.yml').write_text(yaml.safe_dump(dict(guests=guests(count, PREFIX + 'p'))))
    for name, tasks in PLAYS.items():
        guest_file = 'peer_guests.yml' if name.startswith('peer') else 'guests.yml'
        play = [dict(name=name, hosts='localhost', gather_facts=False, vars_files=[guest_file], tasks=tasks)]
        (lib.WORK / ('%s.yml' % name)).write_text(yaml.safe_dump(play, sort_keys=False))
    (lib.WORK / 'ansible.cfg').write_text(
        '[defaults]\nstdout_callback = default\nretry_files_enabled = false\ngathering = explicit\n'
        'interpreter_python = %s\n' % lib.VENV_PYTHON)


def environment(peer=False):
    env = dict(os.environ)
    env.update(ANSIBLE_CONFIG=str(lib.WORK / 'ansible.cfg'), ANSIBLE_DEPRECATION_WARNINGS='0',
               ANSIBLE_COLLECTIONS_PATH=str(lib.ROOT / '.collections'))
    if peer:   # the peer's own ansible and collections; its modules run with the Python that has libvirt
        env['ANSIBLE_COLLECTIONS_PATH'] = str(next((lib.PEER_VENV / 'lib').glob('python3*/site-packages')))
        env['PATH'] = str(lib.PEER_VENV / 'bin') + os.pathsep + env.get('PATH', '')
    return env


def cpu_of_children():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def playbook(name, peer=False, check=False):
    """(seconds, changed count, output, CPU seconds of the whole process tree) of one ansible-playbook run."""
    venv = lib.PEER_VENV if peer else lib.VENV_PYTHON.parent.parent
    command = [str(venv / 'bin' / 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', '%s.yml' % name]
    if check:
        command.append('--check')
    cpu = cpu_of_children()
    seconds, done = lib.timed(command, env=environment(peer), cwd=str(lib.WORK))
    cpu = cpu_of_children() - cpu
    recap = [line for line in done.stdout.splitlines() if line.startswith('localhost')]
    changed = int(recap[-1].split('changed=')[1].split()[0]) if recap else None
    return seconds, changed, done.stdout, cpu


RAW_NOOP = """
import sys, libvirt
from lxml import etree
conn = libvirt.open(%(uri)r)
for name in %(names)r:
    root = etree.fromstring(conn.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    assert int(root.findtext('memory')) == 64 * 1024 and root.findtext('vcpu') == '1'
conn.close()
"""
RAW_CREATE = """
import libvirt
conn = libvirt.open(%(uri)r)
for name in %(names)r:
    conn.defineXML(%(xml)r %% name)
conn.close()
"""


# ---------------------------------------------------------------- kcli (PyPI)

KCLI_VENV = lib.BENCH_CACHE / 'kcli-venv'
KCLI_HOME = lib.BENCH_CACHE / 'kcli-home'    # kcli keeps its config under $HOME/.kcli: never the user's own
KCLI_PLAN = PREFIX + 'kplan'
KCLI_POOL = PREFIX + 'kpool'


def kcli_install():
    """kcli from PyPI in a venv of its own (the benchmark only), or None. libvirt-python, PyYAML and jinja2 come
    from our venv through a .pth file (kcli's own requirement would build libvirt-python from source)."""
    kcli = KCLI_VENV / 'bin' / 'kcli'
    if kcli.exists():
        return kcli
    pip = [str(KCLI_VENV / 'bin' / 'pip'), 'install', '-q', '--disable-pip-version-check']
    try:
        subprocess.run([str(lib.VENV_PYTHON), '-m', 'venv', str(KCLI_VENV)], check=True, capture_output=True)
        subprocess.run(pip + ['--no-deps', 'kcli'], check=True, capture_output=True)
        subprocess.run(pip + ['prettytable', 'argcomplete'], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        print('kcli not installed: %s' % exc, flush=True)
        return None
    where = 'import site; print(site.getsitepackages()[0])'
    theirs = subprocess.run([str(KCLI_VENV / 'bin' / 'python'), '-c', where], capture_output=True, text=True,
                            check=True).stdout.strip()
    ours = subprocess.run([str(lib.VENV_PYTHON), '-c', where], capture_output=True, text=True,
                          check=True).stdout.strip()
    with open(os.path.join(theirs, 'zz-kvmops-bench.pth'), 'w') as stream:
        stream.write(ours + '\n')
    return kcli


def kcli_version(kcli):
    done = subprocess.run([str(kcli), 'version'], capture_output=True, text=True, check=False,
                          env=dict(os.environ, HOME=str(KCLI_HOME)))
    return done.stdout.strip().split(' commit')[0].replace('version: ', '')


def kcli_plan(count):
    """A kcli plan of `count` VMs as our guests are (64 MiB, 1 vCPU, no disk, no NIC, not started); kcli wants a
    pool even for a VM without disks: one of the benchmark's own."""
    import yaml
    vm = dict(memory=64, numcpus=1, disks=[], nets=[], start=False, pool=KCLI_POOL, cloudinit=False)
    names = [g['name'] for g in guests(count, PREFIX + 'k')]
    path = lib.WORK / 'kcli_plan.yml'
    path.write_text(yaml.safe_dump(dict((name, dict(vm)) for name in names), sort_keys=False))
    return path, names


def kcli_run(kcli, plan):
    """(seconds, VMs deployed, output, CPU seconds) of `kcli create plan`: a rerun skips the VMs that exist."""
    import re
    cpu = cpu_of_children()
    seconds, done = lib.timed([str(kcli), 'create', 'plan', '-f', str(plan), KCLI_PLAN], check=False,
                              env=dict(os.environ, HOME=str(KCLI_HOME)))
    output = re.sub(r'\x1b\[[0-9;]*m', '', done.stdout + done.stderr)
    return seconds, output.count(' deployed on '), output, cpu_of_children() - cpu


def kcli_drift(conn, kcli, plan, name):
    """What kcli's rerun does when a VM of the plan differs from it (memory 128 MiB instead of 64): (VMs it reports
    deployed, the memory left in MiB)."""
    from lxml import etree
    dom = conn.lookupByName(name)
    root = etree.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    for tag in ('memory', 'currentMemory'):
        for node in root.findall(tag):
            node.set('unit', 'KiB')
            node.text = str(128 * 1024)
    conn.defineXML(etree.tostring(root).decode())
    _seconds, deployed, _out, _cpu = kcli_run(kcli, plan)
    memory = int(etree.fromstring(conn.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)).findtext('memory'))
    return deployed, memory // 1024


def kcli_pool(conn, make):
    directory = lib.WORK / 'kcli-pool'
    try:
        conn.storagePoolLookupByName(KCLI_POOL).destroy()
    except libvirt.libvirtError:
        pass
    if make:
        directory.mkdir(parents=True, exist_ok=True)
        conn.storagePoolCreateXML("<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>"
                                  % (KCLI_POOL, directory), 0)


def raw(script, names):
    """(seconds, CPU seconds) of the floor: one Python process with libvirt-python and lxml, no Ansible."""
    code = script % dict(uri=URI, names=names, xml=GUEST_XML)
    cpu = cpu_of_children()
    seconds, _done = lib.timed([str(lib.VENV_PYTHON), '-c', code])
    return seconds, cpu_of_children() - cpu


def purge(conn, prefix=PREFIX):
    for dom in conn.listAllDomains():
        if dom.name().startswith(prefix):
            if dom.isActive():
                dom.destroy()
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)


def side_by_side(conn, count, runs):
    """{way: dict(create=seconds, noop=[seconds...], cpu=[CPU seconds...], changed=[...])}.

    The creations run one after another (each from nothing); the no-op runs then go round-robin, one run of
    each way per round, so that the shared machine's load changes weigh on every way alike."""
    ours = [g['name'] for g in guests(count)]
    raw_names = [g['name'] for g in guests(count, PREFIX + 'r')]
    ways = [('kvmops.kvm.kvm_domain, loop of %d' % count, 'ours_loop', False),
            ('kvmops.kvm.kvm_domains, one task (batch)', 'ours_batch', False),
            ('community.libvirt.virt (command: define), loop of %d' % count, 'peer_loop', True)]
    found = {}
    purge(conn)
    for label, play, peer in ways:
        if play != 'peer_loop':
            purge(conn, PREFIX + 'o')
        seconds, created, _out, cpu = playbook(play, peer)
        found[label] = dict(create=seconds, create_cpu=cpu, created=created, noop=[], cpu=[], changed=[],
                            run=lambda play=play, peer=peer: playbook(play, peer))
        print('%s: create %.2f s (%.2f s CPU)' % (label, seconds, cpu), flush=True)
    kcli = kcli_install()
    kcli_label = 'kcli create plan (%d VMs), rerun' % count
    if kcli is not None:
        kcli_pool(conn, True)
        plan, kcli_names = kcli_plan(count)
        seconds, created, _out, cpu = kcli_run(kcli, plan)
        found[kcli_label] = dict(create=seconds, create_cpu=cpu, created=created, noop=[], cpu=[], changed=[],
                                 run=lambda: kcli_run(kcli, plan))
        print('%s: create %.2f s (%.2f s CPU), %d deployed' % (kcli_label, seconds, cpu, created), flush=True)
    floor = 'raw libvirt-python, one process (floor)'
    seconds, cpu = raw(RAW_CREATE, raw_names)
    found[floor] = dict(create=seconds, create_cpu=cpu, noop=[], cpu=[], changed=None,
                        run=lambda: raw(RAW_NOOP, raw_names))
    for label, play in (('ansible.builtin.ping, once', 'ping'), ('empty play (Ansible start-up)', 'empty')):
        found[label] = dict(create=None, noop=[], cpu=[], changed=None,
                            run=lambda play=play: playbook(play))
    for _round in range(runs):
        for label, item in found.items():
            if label == floor:
                (seconds, cpu), changed = item['run'](), None
            else:
                seconds, changed, _out, cpu = item['run']()
            item['noop'].append(seconds)
            item['cpu'].append(cpu)
            if item['changed'] is not None:
                item['changed'].append(changed)
        print('round %d: %s' % (_round + 1, ', '.join('%.2f' % item['noop'][-1] for item in found.values())),
              flush=True)
    for label, item in found.items():
        item.pop('run')
    for label, play, _peer in ways:
        if play != 'peer_loop':
            found[label]['check_changed'] = playbook(play, check=True)[1]
    if kcli is not None:
        found[kcli_label]['drift'] = kcli_drift(conn, kcli, plan, kcli_names[0])
        purge(conn)
        kcli_pool(conn, False)
    purge(conn)
    return found


def virt_install_one(conn):
    """(virt-install seconds, kvm_domain seconds) for one guest, both started, as virt-install always does."""
    if not shutil.which('virt-install'):
        return None, None
    name = PREFIX + 'vi'
    command = ['virt-install', '--connect', URI, '--name', name, '--memory', '64', '--vcpus', '1', '--import',
               '--disk', 'none', '--virt-type', 'qemu', '--osinfo', 'detect=on,require=off', '--graphics', 'none',
               '--noautoconsole', '--noreboot', '--network', 'none']
    purge(conn)
    seconds, _done = lib.timed(command)
    purge(conn)
    import yaml
    play = [dict(name='one', hosts='localhost', gather_facts=False, tasks=[{
        'kvmops.kvm.kvm_domain': dict(name=name, type='qemu', memory=64, vcpus=1, state='running')}])]
    (lib.WORK / 'one.yml').write_text(yaml.safe_dump(play, sort_keys=False))
    ours = playbook('one')[0]
    purge(conn)
    return seconds, ours


# ---------------------------------------------------------------- item 6: one module process

def module_process(module, args):
    """(seconds, peak RSS in MiB, result) of one module process run as Ansible runs it (args file)."""
    path = lib.WORK / 'args.json'
    path.write_text(json.dumps(dict(ANSIBLE_MODULE_ARGS=args)))
    env = dict(os.environ, PYTHONPATH=str(lib.ROOT / '.collections'))
    script = lib.ROOT / 'plugins' / 'modules' / ('%s.py' % module)
    # the module's own peak RSS, reported as it exits (Ansible's modules end in sys.exit)
    wrapper = '\n'.join([
        'import atexit, resource, runpy, sys',
        "atexit.register(lambda: sys.stderr.write('\\nPEAK_RSS_KIB ' + "
        "str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) + '\\n'))",
        'sys.argv = [%r, %r]' % (str(script), str(path)),
        "runpy.run_path(%r, run_name='__main__')" % str(script)])
    began = time.monotonic()
    done = subprocess.run([str(lib.VENV_PYTHON), '-c', wrapper], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, check=False)
    seconds = time.monotonic() - began
    rss = [line for line in done.stderr.splitlines() if line.startswith('PEAK_RSS_KIB ')]
    result = json.loads(done.stdout)
    if result.get('failed'):
        raise RuntimeError('%s failed: %s %s' % (module, result.get('msg'), done.stderr[-2000:]))
    return seconds, int(rss[-1].split()[1]) / 1024.0, result


def import_times(runs):
    code = ("import sys, time; sys.path.insert(0, %r); t0 = time.perf_counter()\n"
            "import ansible.module_utils.basic; t1 = time.perf_counter()\n"
            "import libvirt, lxml.etree; t2 = time.perf_counter()\n"
            "import ansible_collections.kvmops.kvm.plugins.module_utils._engine.module, "
            "ansible_collections.kvmops.kvm.plugins.module_utils._domain.domain; t3 = time.perf_counter()\n"
            "print(t1 - t0, t2 - t1, t3 - t2)" % str(lib.ROOT / '.collections'))
    rows = []
    for _run in range(runs):
        total, done = lib.timed([str(lib.VENV_PYTHON), '-c', code])
        rows.append([float(x) for x in done.stdout.split()] + [total])
    return [lib.spread([row[i] for row in rows]) for i in range(4)]


def footprint(conn, sizes, runs):
    """{N: dict(create=(s, MiB), noop=[(s, MiB)...])} for kvm_domains, and one kvm_domain process."""
    found = {}
    prefix = PREFIX + 'f'
    for size in sizes:
        purge(conn, prefix)
        items = guests(size, prefix)
        create = module_process('kvm_domains', dict(uri=URI, domains=items))
        noop = [module_process('kvm_domains', dict(uri=URI, domains=items)) for _run in range(runs)]
        assert not any(result['changed'] for _s, _r, result in noop)
        found[size] = dict(create=create[:2], noop=[n[:2] for n in noop])
        print('footprint %d: create %.2f s %.0f MiB, no-op %s' % (size, create[0], create[1],
                                                                  ['%.2f s %.0f MiB' % n[:2] for n in noop]), flush=True)
    one = items[0]
    single = [module_process('kvm_domain', dict(one, uri=URI))[:2] for _run in range(runs)]
    purge(conn, prefix)
    return found, single


# ---------------------------------------------------------------- reports

def report_batch(found, count, runs, started, load_before, load_after, facts, virt_install):
    def median(label):
        return lib.spread(found[label]['noop'])[0]

    def cpu_median(label):
        return lib.spread(found[label]['cpu'])[0]
    labels = list(found)
    batch = next(label for label in labels if 'kvm_domains' in label)
    peer = next(label for label in labels if 'community' in label)
    ping = next(label for label in labels if 'ping' in label)
    empty = next(label for label in labels if 'empty' in label)
    floor = next(label for label in labels if 'floor' in label)
    rows = []
    for label in labels:
        item = found[label]
        mid, low, high = lib.spread(item['noop'])
        changed = item.get('changed')
        cpu = lib.spread(item['cpu'])[0]
        rows.append(['`%s`' % label if label.startswith(('kvmops', 'community', 'ansible.')) else label,
                     '%.2f (%.2f-%.2f)' % (mid, low, high),
                     '%.1fx' % (mid / median(batch)),
                     '%.2f' % cpu, '%.1fx' % (cpu / cpu_median(batch)),
                     '-' if label == floor or label.startswith('kcli') else '%.2f' % (mid - median(empty)),
                     '-' if changed is None else ', '.join(str(c) for c in changed),
                     '-' if item.get('create') is None else '%.2f' % item['create'],
                     '-' if item.get('check_changed') is None else str(item['check_changed'])])
    speedup = median(peer) / median(batch)
    versus_ping = median(batch) / median(ping)
    cpu_speedup = cpu_median(peer) / cpu_median(batch)
    cpu_versus_ping = cpu_median(batch) / cpu_median(ping)
    task_ratio = (median(batch) - median(empty)) / max(median(ping) - median(empty), 1e-3)
    lines = lib.header('No-op converge of %d guests, side by side' % count, 'bench/batch_bench.py', started,
                       load_before, load_after, facts, extra=[
                           '- %d guests defined, not started, on the machine\'s libvirtd; each way first creates its '
                           'guests from nothing ("create run"; our loop and our batch the same guests, the peer its '
                           'own, from its XML), then the no-op runs go round-robin, one of each way per round, %d '
                           'rounds (median and range), so that the load of the shared machine weighs on all alike. '
                           'CPU is user+system time of the whole process tree (controller, workers, module), '
                           'which the load inflates far less than wall time. Every run is a whole `ansible-playbook` process on '
                           'localhost (connection local, Ansible\'s default settings, no pipelining, no fact '
                           'gathering).' % (count, runs),
                           '- "task time" is the run minus the empty play (Ansible\'s own start-up, inventory, '
                           'play).'])
    lines += [''] + lib.table(['way', 'no-op run (s), median (min-max)', 'vs batch', 'CPU (s), median', 'CPU vs batch',
                               'task time (s)',
                               'no-op runs reporting changed (tasks/items)', 'create run (s)',
                               'check mode reports changed'], rows)
    target_peer = 'met' if speedup >= 10 else 'NOT met'
    target_ping = 'met' if versus_ping <= 3 else 'NOT met'
    lines += ['', '## Targets', '',
              '- batch vs community.libvirt loop: **%.1fx faster** in wall time (target ≥ 10x: %s); %.1fx in CPU '
              'time' % (speedup, target_peer, cpu_speedup),
              '- batch vs one `ansible.builtin.ping` task: **%.2fx** of its run (target ≤ 3x: %s); %.2fx in CPU '
              'time; task time alone (minus the empty play) %.2fx'
              % (versus_ping, target_ping, cpu_versus_ping, task_ratio),
              '- batch vs raw libvirt-python (one process, no Ansible): %.1fx'
              % (median(batch) / median('raw libvirt-python, one process (floor)'))]
    if virt_install[0] is not None:
        lines += ['', '## One guest created and started', '',
                  '- `virt-install --import` (Debian virtinst): %.2f s; `kvm_domain` (one task, '
                  '`state: running`): %.2f s (%.2fx)' % (virt_install[0], virt_install[1],
                                                         virt_install[1] / virt_install[0])]
    kcli = next((label for label in labels if label.startswith('kcli')), None)
    lines += ['', 'The changed counts are from each run\'s PLAY RECAP (tasks changed: a loop counts as one '
              'task). The peer\'s `virt` has no check mode.']
    if kcli:
        deployed, memory = found[kcli].get('drift', (None, None))
        lines += ['', '## kcli', '',
                  '- kcli (PyPI, a CLI, no Ansible) has no drift check; its nearest equivalent is running the same '
                  'plan again: `kcli create plan -f plan.yml %s` with %d VMs as ours (64 MiB, 1 vCPU, no disk, no '
                  'NIC, not started; kcli wants a storage pool even then, the benchmark makes one). Its "changed" '
                  'column counts the VMs it reports deployed.' % (KCLI_PLAN, count),
                  '- what its rerun checks: only that a VM of that name exists. With one VM\'s memory changed to '
                  '128 MiB behind its back, the rerun reported %s VM(s) deployed and left the memory at %s MiB (it '
                  'said "skipped"); our batch reports and corrects such a drift (tests/unit, tests/integration). '
                  'So its no-op time is that of an existence check, not of a comparison; `kcli update plan` did the '
                  'same here (every VM "skipped").' % (deployed, memory),
                  '- kcli defines its VMs with `type=\'kvm\'` although this machine has no KVM (they could not '
                  'start here); ours are `type: qemu` as asked. kcli runs from a venv of its own under '
                  '.cache/bench/ (libvirt-python, PyYAML and jinja2 from ours).']
    lines += ['', '![batch](batch.png)']
    lib.write('batch', lines)
    lib.save_raw('batch', dict(found=found, virt_install=virt_install, count=count, runs=runs))
    order = sorted(labels, key=median)
    lib.bar_plot('batch', 'No-op converge of %d guests, median of %d runs of ansible-playbook' % (count, runs),
                 order, [median(label) for label in order], log=True)


def report_footprint(found, single, imports, runs, started, load_before, load_after, facts, import_runs=5):
    rows = []
    for size, item in sorted(found.items()):
        mid = lib.spread([n[0] for n in item['noop']])
        rss = max(n[1] for n in item['noop'])
        rows.append([size, '%.2f (%.2f-%.2f)' % mid, '%.1f' % (mid[0] * 1000 / size), '%.0f' % rss,
                     '%.2f' % item['create'][0], '%.0f' % item['create'][1]])
    one = lib.spread([s[0] for s in single])
    one_rss = max(s[1] for s in single)
    lines = lib.header('A module process: time, memory, imports, as guests grow', 'bench/batch_bench.py', started,
                       load_before, load_after, facts, extra=[
                           '- The module runs as Ansible runs it on the managed host (its file and an args '
                           'file, one process), without Ansible\'s controller; peak RSS from wait4(). All sizes on '
                           'the machine\'s real libvirtd (qemu:///system), guests defined, not started (200 '
                           'included: the test driver was not needed).'])
    lines += ['', '## kvm_domains, no-op converge (%d runs) and creation' % runs, '']
    lines += lib.table(['guests', 'no-op (s), median (min-max)', 'ms per guest', 'peak RSS (MiB)',
                        'create (s)', 'create peak RSS (MiB)'], rows)
    lines += ['', 'One `kvm_domain` process (one guest, no-op): %.2f s (%.2f-%.2f), peak RSS %.0f MiB; a loop '
              'pays this (plus Ansible\'s per-item cost) for every guest.' % (one + (one_rss,)), '',
              '## Import time (%d runs, median (min-max), seconds)' % import_runs, '']
    names = ['ansible.module_utils.basic', 'libvirt + lxml', 'the engine and the _domain package',
             'whole process (interpreter start included)']
    lines += lib.table(['import', 'seconds'], [[n, '%.3f (%.3f-%.3f)' % v] for n, v in zip(names, imports)])
    lines += ['', '![footprint](footprint.png)']
    lib.write('footprint', lines)
    lib.save_raw('footprint', dict(found=found, single=single, imports=imports))
    footprint_plot(dict((size, dict(noop=[lib.spread([n[0] for n in item['noop']])[0]],
                                    rss=max(n[1] for n in item['noop']))) for size, item in found.items()), one[0])


def footprint_plot(points, one_process):
    """points: {guests: dict(noop=[seconds], rss=MiB)}."""
    sizes = sorted(points)
    lib.panels_plot('footprint', 'kvm_domains, one module process: no-op converge as guests grow', 'guests', [
        ('seconds (log)', True, {
            'kvm_domains, one process': (sizes, [points[s]['noop'][0] for s in sizes]),
            'kvm_domain loop: module processes alone (N x one)': (sizes, [one_process * s for s in sizes])}),
        ('peak RSS (MiB)', False, {'kvm_domains': (sizes, [points[s]['rss'] for s in sizes])})])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--guests', type=int, default=50)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--sizes', default='10,50,200')
    parser.add_argument('--only', choices=['batch', 'footprint'])
    args = parser.parse_args()
    lib.peer_venv()
    write_playbooks(args.guests)
    conn = libvirt.open(URI)
    facts = dict(lib.versions(conn), **lib.peer_versions())
    kcli = kcli_install()
    if kcli is not None:
        facts['kcli'] = kcli_version(kcli)
    try:
        if args.only in (None, 'batch'):
            started, before = lib.now(), lib.load()
            found = side_by_side(conn, args.guests, args.runs)
            vi = virt_install_one(conn)
            if shutil.which('virt-install'):
                version = subprocess.run(['virt-install', '--version'], capture_output=True, text=True,
                                         check=False).stdout.strip()
                facts['virt_install'] = version
            report_batch(found, args.guests, args.runs, started, before, lib.load(), facts, vi)
        if args.only in (None, 'footprint'):
            started, before = lib.now(), lib.load()
            sizes = [int(s) for s in args.sizes.split(',')]
            found, single = footprint(conn, sizes, args.runs)
            imports = import_times(5)
            report_footprint(found, single, imports, args.runs, started, before, lib.load(), facts)
    finally:
        purge(conn)
        conn.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
