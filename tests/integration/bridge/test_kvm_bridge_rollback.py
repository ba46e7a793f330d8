"""kvm_bridge rollback in network namespaces: a wrong gateway and a bridge whose uplink leads nowhere are rolled back
within the timeout and the host stays reachable; a connection that drops mid-change is restored by the detached step."""

import json
import os
import signal
import subprocess
import time

from harness import ROOT, ansible_env, contract, fails
from netns import addresses, ip, links, ping, routes


def _defaults(lab):
    return [(r.get('gateway'), r['dev']) for r in routes(lab.host) if r['dst'] == 'default']


def test_wrong_gateway_is_rolled_back(lab):
    before = (addresses(lab.host, 'nic0'), _defaults(lab))
    started = time.time()
    failed = fails('kvm_bridge', dict(name='br0', ports=['nic0'], persist='none', rollback={'timeout': 3},
                                      ipv4={'addresses': [lab.address], 'gateway': lab.net + '.254'}), **lab.kwargs())
    assert time.time() - started < 30
    assert failed['rolled_back'] is True
    assert 'gateway %s.254 did not answer within 3s' % lab.net in failed['msg'], failed['msg']
    assert 'deleted br0' in failed['restored'] and failed['lost'] == ['gateway %s.254' % lab.net]
    assert 'br0' not in links(lab.host)
    assert (addresses(lab.host, 'nic0'), _defaults(lab)) == before
    assert ping(lab.host, lab.gateway)


def test_bridge_without_working_uplink_is_rolled_back(lab):
    # a NIC whose far end is down: the address moved onto a bridge over it reaches nobody
    ip('link', 'add', 'dead0', 'type', 'veth', 'peer', 'name', 'deadpeer', ns=lab.host)
    ip('link', 'set', 'dead0', 'up', ns=lab.host)
    contract('kvm_bridge', dict(name='br0', ports=['nic0'], persist='none', rollback={'timeout': 10}), **lab.kwargs())
    assert ping(lab.host, lab.gateway)
    failed = fails('kvm_bridge', dict(name='br0', ports=['dead0'], persist='none', rollback={'timeout': 3}),
                   **lab.kwargs())
    assert failed['rolled_back'] is True and 'did not answer' in failed['msg']
    found = links(lab.host)
    assert found['nic0']['master'] == 'br0' and 'master' not in found['dead0']
    assert addresses(lab.host, 'br0') == [lab.address]
    assert ping(lab.host, lab.gateway)


def _module_processes(ns):
    pids = subprocess.run(['ip', 'netns', 'pids', ns], capture_output=True, text=True).stdout.split()
    found = []
    for pid in pids:
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as stream:
                if b'AnsiballZ' in stream.read() or b'kvm_bridge' in stream.read():
                    found.append(int(pid))
        except OSError:
            pass
    return sorted(found)


def test_connection_dropped_mid_change_is_restored(lab):
    """The module is killed while the change waits for STP to forward: the detached step restores the host."""
    before = (addresses(lab.host, 'nic0'), _defaults(lab))
    args = dict(name='br0', ports=['nic0'], persist='none', stp=True, forward_delay=3,
                rollback={'timeout': 20, 'check': {'hosts': [lab.gateway]}})
    command = [os.path.join(ROOT, '.venv', 'bin', 'ansible'), lab.host, '-i', lab.inventory, '-m',
               'kvmops.kvm.kvm_bridge', '-a', json.dumps(args)]
    env = ansible_env('/dev/null')
    ansible = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not ('br0' in links(lab.host) and len(_module_processes(lab.host)) >= 2):
            time.sleep(0.2)
        processes = _module_processes(lab.host)
        assert len(processes) >= 2, 'the detached step did not start'
        # the connection drops: Ansible and the module die, the detached step (the newer process) lives on
        os.killpg(ansible.pid, signal.SIGKILL)
        os.kill(processes[0], signal.SIGKILL)
        assert 'br0' in links(lab.host)
        deadline = time.time() + 60
        while time.time() < deadline and 'br0' in links(lab.host):
            time.sleep(0.5)
        assert 'br0' not in links(lab.host), 'not restored'
        deadline = time.time() + 10
        while time.time() < deadline and (addresses(lab.host, 'nic0'), _defaults(lab)) != before:
            time.sleep(0.2)
        assert (addresses(lab.host, 'nic0'), _defaults(lab)) == before
        assert ping(lab.host, lab.gateway)
    finally:
        ansible.wait()
