"""kvmops.kvm beside community.libvirt, on the machine's real libvirtd: write docs/benchmarks/peer.md.

    .venv/bin/python bench/peer_bench.py [--runs 3]

The peer comes from the `ansible` package on PyPI (the bundled community.libvirt), unpacked into
.cache/peer. Each scenario runs the same task several times, through `ansible` like a playbook would,
and records what each run reported and what really happened on the host (MACs, UUIDs, definitions).
Everything is named kvmbench-* and removed afterwards."""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import libvirt
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tests' / 'integration'))
sys.path.insert(0, str(ROOT / 'tests' / 'lab'))

import harness  # noqa: E402
from kvmlab.artifacts import ensure_tiny_artifacts  # noqa: E402

PEER_PACKAGE = 'ansible==10.7.0'     # bundles community.libvirt 1.3.0
PEER_DIR = ROOT / '.cache' / 'peer'
REPORT = ROOT / 'docs' / 'benchmarks' / 'peer.md'
PREFIX = 'kvmbench-'
NETWORK = PREFIX + 'net'
NETWORK_XML = """<network><name>%s</name><bridge name='kvmb-net0'/>
<ip address='10.213.91.1' prefix='24'><dhcp><range start='10.213.91.10' end='10.213.91.99'/></dhcp></ip></network>"""


def peer_collections():
    """The directory holding ansible_collections/community/libvirt, fetched once from PyPI."""
    target = PEER_DIR / 'ansible_collections' / 'community' / 'libvirt'
    if not target.is_dir():
        PEER_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, '-m', 'pip', 'download', '--no-deps', '-q', '-d', str(PEER_DIR),
                        PEER_PACKAGE], check=True)
        wheel = next(PEER_DIR.glob('ansible-*.whl'))
        with zipfile.ZipFile(wheel) as archive:
            members = [m for m in archive.namelist() if m.startswith('ansible_collections/community/libvirt/')]
            archive.extractall(PEER_DIR, members)
        wheel.unlink()
    manifest = json.loads((target / 'MANIFEST.json').read_text())
    return str(PEER_DIR), manifest['collection_info']['version']


def run(module, args, check=False):
    began = time.monotonic()
    result = harness.run_module(module, args, check=check, diff=False)
    return time.monotonic() - began, result


def domain_xml(name, tiny, memory="<memory unit='MiB'>128</memory>"):
    return """<domain type='qemu'><name>%s</name>%s<vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>%s</kernel><initrd>%s</initrd></os>
  <devices><interface type='network'><source network='%s'/><model type='virtio'/></interface>
  <serial type='pty'/></devices></domain>""" % (name, memory, tiny.kernel, tiny.initrd, NETWORK)


def observe_domain(conn, name):
    try:
        dom = conn.lookupByName(name)
    except libvirt.libvirtError:
        return None
    root = etree.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    return dict(uuid=dom.UUIDString(), macs=tuple(m.get('address') for m in root.findall('devices/interface/mac')))


def repeat(conn, runs, module, args, name):
    """Run the same task `runs` times: [(seconds, changed, status, observed)]."""
    rows = []
    for _run in range(runs):
        seconds, result = run(module, args)
        rows.append((seconds, bool(result.get('changed')), result['_status'], observe_domain(conn, name)))
    return rows


def summarize(rows):
    observed = [r[3] for r in rows if r[3]]
    return dict(
        reruns_changed='%d of %d' % (sum(1 for r in rows[1:] if r[1]), len(rows) - 1),
        failed=sum(1 for r in rows if r[2] != 'ok'),
        macs_seen=len(set(o['macs'] for o in observed)),
        uuids_seen=len(set(o['uuid'] for o in observed)),
        rerun_seconds=statistics.median(r[0] for r in rows[1:]) if len(rows) > 1 else None,
    )


def check_mode_honesty(conn, module, args, name):
    """A check-mode run on a guest that does not exist: what it reported, and whether the host changed."""
    _seconds, result = run(module, args, check=True)
    exists = observe_domain(conn, name) is not None
    reported = 'skipped (no check mode)' if result['_status'] == 'skipped' else (
        'changed' if result.get('changed') else 'ok')
    return dict(reported=reported, host_changed=exists)


def scenarios(conn, tiny, runs):
    table = []
    peer = 'community.libvirt.virt'

    def peer_args(name, **extra):
        return dict(dict(command='define', xml=domain_xml(name, tiny)), **extra)

    def ours_args(name, **extra):
        return dict(dict(name=name, xml=domain_xml(name, tiny), state='present'), **extra)

    cases = [
        ('guest from XML, NIC without MAC', peer, peer_args(PREFIX + 'p1'), PREFIX + 'p1'),
        ('same, peer with mutate_flags ADD_MAC_ADDRESSES_FUZZY', peer,
         peer_args(PREFIX + 'p2', mutate_flags=['ADD_UUID', 'ADD_MAC_ADDRESSES_FUZZY']), PREFIX + 'p2'),
        ('guest from XML, NIC without MAC', 'kvmops.kvm.kvm_domain', ours_args(PREFIX + 'o1'), PREFIX + 'o1'),
        ('guest from typed options', 'kvmops.kvm.kvm_domain',
         dict(name=PREFIX + 'o2', memory=128, kernel=str(tiny.kernel), initrd=str(tiny.initrd), state='present',
              interfaces=[dict(network=NETWORK)], graphics=dict(type='none')), PREFIX + 'o2'),
    ]
    for label, module, args, name in cases:
        honesty = check_mode_honesty(conn, module, args, name)
        harness.purge(conn, name)
        row = dict(summarize(repeat(conn, runs, module, args, name)), case=label, module=module, **honesty)
        table.append(row)
        harness.purge(conn, name)
    # the same guest written in other units: a rerun must still change nothing
    for module, args_of, name in ((peer, peer_args, PREFIX + 'p3'), ('kvmops.kvm.kvm_domain', ours_args, PREFIX + 'o3')):
        run(module, args_of(name))
        other = args_of(name)
        other['xml'] = domain_xml(name, tiny, memory="<memory unit='KiB'>131072</memory>")
        before = observe_domain(conn, name)
        _seconds, result = run(module, other)
        table.append(dict(case='same guest, memory in KiB instead of MiB', module=module,
                          reruns_changed='1 of 1' if result.get('changed') else '0 of 1',
                          macs_seen=len(set([before['macs'], observe_domain(conn, name)['macs']])),
                          uuids_seen=1, failed=int(result['_status'] != 'ok'), rerun_seconds=_seconds,
                          reported='-', host_changed='-'))
        harness.purge(conn, name)
    return table


def network_scenarios(conn, runs):
    rows = []
    xml = """<network><name>%s</name><bridge name='kvmb-n1'/><forward mode='nat'/>
<ip address='10.213.90.1' netmask='255.255.255.0'><dhcp><range start='10.213.90.10' end='10.213.90.99'/>
</dhcp></ip></network>"""
    for module, args in (
            ('community.libvirt.virt_net', None),
            ('kvmops.kvm.kvm_network', dict(name=PREFIX + 'n2', xml=xml % (PREFIX + 'n2'), state='active'))):
        name = PREFIX + ('n1' if args is None else 'n2')
        times, changed = [], []
        for _run in range(runs):
            began = time.monotonic()
            if args is None:    # the peer needs two tasks: define, then start
                first = harness.run_module(module, dict(command='define', name=name, xml=xml % name), diff=False)
                second = harness.run_module(module, dict(state='active', name=name), diff=False)
                changed.append(bool(first.get('changed') or second.get('changed')))
            else:
                changed.append(bool(harness.run_module(module, args, diff=False).get('changed')))
            times.append(time.monotonic() - began)
        rows.append(dict(module=module, reruns_changed='%d of %d' % (sum(changed[1:]), runs - 1),
                         rerun_seconds=statistics.median(times[1:])))
        harness.purge(conn, name)
    return rows


def write_report(version, guests, networks):
    now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    lines = ['# kvmops.kvm beside community.libvirt %s' % version, '',
             'Measured %s by `bench/peer_bench.py` on the machine\'s real libvirtd (QEMU TCG guests defined, '
             'not started). Every task runs through `ansible` as a playbook task would; times include Ansible\'s '
             'own start-up (about 1 s of each run).' % now, '',
             '## Guests', '',
             '| case | module | reruns reporting changed | MACs seen | UUIDs seen | rerun time (s) | '
             'check mode on a new guest | host changed by check mode |',
             '|---|---|---|---|---|---|---|---|']
    for row in guests:
        seconds = '%.2f' % row['rerun_seconds'] if row['rerun_seconds'] is not None else '-'
        lines.append('| %s | `%s` | %s | %s | %s | %s | %s | %s |' % (
            row['case'], row['module'], row['reruns_changed'], row['macs_seen'], row['uuids_seen'], seconds,
            row['reported'], row['host_changed']))
    lines += ['', '## Networks (define and start, rerun)', '',
              '| module | reruns reporting changed | rerun time (s) |', '|---|---|---|']
    for row in networks:
        lines.append('| `%s` | %s | %.2f |' % (row['module'], row['reruns_changed'], row['rerun_seconds']))
    lines += ['', '"MACs seen" counts the distinct MAC sets the guest had across the runs: more than one means '
              'a rerun really changed the NIC. The peer\'s `virt` module does not support check mode, so '
              'Ansible skips it there and cannot say what a run would do.', '']
    REPORT.write_text('\n'.join(lines))
    print('\n'.join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=3)
    options = parser.parse_args()
    collections, version = peer_collections()
    os.environ['KVMOPS_EXTRA_COLLECTIONS'] = collections
    tiny = ensure_tiny_artifacts()
    conn = libvirt.open('qemu:///system')
    harness.purge(conn, PREFIX)
    net = conn.networkDefineXML(NETWORK_XML % NETWORK)
    try:
        net.create()
        guests = scenarios(conn, tiny, options.runs)
        networks = network_scenarios(conn, options.runs)
    finally:
        harness.purge(conn, PREFIX)
        conn.close()
    write_report(version, guests, networks)
    return 0


if __name__ == '__main__':
    sys.exit(main())
