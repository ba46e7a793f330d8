"""kvm_domains and kvm_networks with `hypervisors` on the lab: one task on this machine (the controller) converges
the guests (networks) of two lab hypervisor hosts over qemu+ssh, each host read back through libvirt; an unreachable
third fails alone. Guests are defined, not started; every guest and network is named <lab prefix>flt-* and removed
afterwards, also when a test failed."""

import json
import os
import subprocess

import libvirt
import pytest
import yaml

from fleet_lab import defined_on, prefix as _prefix, purge as _purge
from harness import ROOT, ansible_env, contract, fails

pytestmark = pytest.mark.lab


def prefix():
    return _prefix('flt')


def purge(hosts):
    _purge(hosts, prefix())


def on(host):
    return defined_on(host, prefix())


UNREACHABLE = 'qemu+tcp://127.0.0.1:9/system'   # the discard port: nothing listens there, the connection is refused


@pytest.fixture(scope='module')
def hosts(lab):
    pair = lab.hosts[:2]
    purge(pair)
    yield pair
    purge(pair)


@pytest.fixture
def clean(hosts):
    purge(hosts)
    yield hosts
    purge(hosts)


def guest(name, **options):
    return dict(dict(name=prefix() + name, type='qemu', memory=64, vcpus=1, state='present'), **options)


def memory_mib(root):
    return int(root.findtext('memory')) // 1024


def test_one_task_converges_the_guests_of_every_hypervisor(clean):
    h1, h2 = clean
    fleet = {h1.name: h1.ssh_uri, h2.name: h2.ssh_uri}
    items = [guest('web'), guest('db', hypervisor=h2.name, memory=96)]
    predicted, applied, last = contract('kvm_domains', dict(hypervisors=fleet, domains=items))
    assert list(applied['hypervisors']) == [h1.name, h2.name]
    assert sorted(applied['hypervisors'][h1.name]['domains']) == [prefix() + 'web']
    assert sorted(applied['hypervisors'][h2.name]['domains']) == [prefix() + 'db', prefix() + 'web']
    assert predicted['hypervisors'][h2.name]['actions'] == applied['hypervisors'][h2.name]['actions']
    assert all(not result['changed'] for result in last['hypervisors'].values())
    # each host holds what was asked of it, and only that
    assert sorted(on(h1)) == [prefix() + 'web'] and sorted(on(h2)) == [prefix() + 'db', prefix() + 'web']
    assert memory_mib(on(h2)[prefix() + 'db']) == 96 and memory_mib(on(h1)[prefix() + 'web']) == 64
    uuids = dict((host.name, dict((name, root.findtext('uuid')) for name, root in on(host).items()))
                 for host in (h1, h2))

    # one guest on one host drifts: only it changes, UUIDs stay
    conn = h2.connect()
    try:
        xml = conn.lookupByName(prefix() + 'web').XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        conn.defineXML(xml.replace('<memory unit=\'KiB\'>65536</memory>', '<memory unit=\'KiB\'>81920</memory>')
                       .replace('<currentMemory unit=\'KiB\'>65536</currentMemory>',
                                '<currentMemory unit=\'KiB\'>81920</currentMemory>'))
    finally:
        conn.close()
    assert memory_mib(on(h2)[prefix() + 'web']) == 80
    predicted, applied, _last = contract('kvm_domains', dict(hypervisors=fleet, domains=items))
    assert [name for name, result in applied['hypervisors'].items() if result['changed']] == [h2.name]
    assert applied['actions'] and all(action.startswith(h2.name + ': ') for action in applied['actions'])
    assert list(applied['diff']['before']) == [h2.name] and applied['diff']['before'][h2.name][prefix() + 'web']
    assert int(on(h2)[prefix() + 'web'].findtext('currentMemory')) // 1024 == 64
    assert uuids == dict((host.name, dict((name, root.findtext('uuid')) for name, root in on(host).items()))
                         for host in (h1, h2))


def test_an_unreachable_hypervisor_fails_alone(clean):
    h1, _h2 = clean
    result = fails('kvm_domains', dict(hypervisors={h1.name: h1.ssh_uri, 'gone': UNREACHABLE},
                                       domains=[guest('one')]))
    assert result['failed_hypervisors'] == ['gone'], result
    assert result['hypervisors']['gone']['failed'] and UNREACHABLE in result['hypervisors']['gone']['msg']
    assert result['hypervisors'][h1.name]['changed'] and sorted(on(h1)) == [prefix() + 'one']


def test_bad_input_anywhere_touches_no_host(clean):
    h1, h2 = clean
    result = fails('kvm_domains', dict(hypervisors={h1.name: h1.ssh_uri, h2.name: h2.ssh_uri},
                                       domains=[guest('a'), guest('b', hypervisor=h2.name, memory='12 parsecs')]))
    assert result['parameter'] == 'domains[1].memory' and h2.name in result['msg'], result['msg']
    assert on(h1) == {} and on(h2) == {}


def test_the_documented_play_runs_once_on_the_controller(clean, lab, tmp_path):
    """The module's EXAMPLES form, as an AWX job runs it: hypervisors from the play's hosts, run_once and delegated
    to localhost; every host of the play gets the result, and can read its own."""
    h1, h2 = clean
    play = [dict(name='Drift check', hosts='%s,%s' % (h1.name, h2.name), gather_facts=False, tasks=[
        {'name': 'The guests of every hypervisor', 'kvmops.kvm.kvm_domains': {
            'hypervisors': "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, "
                           "'kvm_uri_ssh'))) }}",
            'domains': [guest('p')]},
         'run_once': True, 'delegate_to': 'localhost', 'register': 'drift',
         'vars': {'ansible_python_interpreter': os.path.join(ROOT, '.venv', 'bin', 'python')}},
        {'name': 'Each host its own', 'ansible.builtin.assert': {'that': [
            "drift.hypervisors[inventory_hostname].domains | length == 1",
            "drift.hypervisors[inventory_hostname].uri == kvm_uri_ssh"]}}])]
    path = tmp_path / 'drift.yml'
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    record = str(tmp_path / 'record.jsonl')
    for run in ('first', 'second'):
        proc = subprocess.run([os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook'), '-i', str(lab.inventory_path),
                               '-f', '10', str(path)], env=ansible_env(record), capture_output=True, text=True,
                              timeout=600, check=False, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(record) as stream:
        records = [json.loads(line) for line in stream if line.strip()]
    converged = [r for r in records if r['_task'] == 'The guests of every hypervisor']
    assert [r['changed'] for r in converged] == [True, False], converged
    assert sorted(on(h1)) == [prefix() + 'p'] and sorted(on(h2)) == [prefix() + 'p']


def test_networks_too(clean):
    h1, h2 = clean
    fleet = {h1.name: h1.tls_uri, h2.name: h2.tls_uri}   # TLS, as the hypervisor role sets it up
    name = prefix() + 'net'
    bridge = 'kvf%s' % prefix().split('-', maxsplit=1)[0][-2:]
    _predicted, applied, _last = contract('kvm_networks', dict(hypervisors=fleet, networks=[
        dict(name=name, mode='isolated', bridge=bridge)]))
    assert sorted(applied['hypervisors']) == sorted(fleet)
    for host in (h1, h2):
        conn = host.connect()
        try:
            net = conn.networkLookupByName(name)
            assert net.isActive() == 1 and net.bridgeName() == bridge
        finally:
            conn.close()
