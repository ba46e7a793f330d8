"""kvm_bridge rollback in network namespaces: a wrong gateway and a bridge whose uplink leads nowhere are rolled back
within the timeout and the host stays reachable; a connection that drops mid-change is restored by the detached step."""

import json
import os
import signal
import subprocess
import time

from harness import ROOT, ansible_env, contract, fails
from netns import addresses, ip, links, ping, routes


def _defaults(ns):
    return [(r.get('gateway'), r['dev']) for r in routes(ns.host) if r['dst'] == 'default']


def test_wrong_gateway_is_rolled_back(ns):
    before = (addresses(ns.host, 'nic0'), _defaults(ns))
    started = time.time()
    failed = fails('kvm_bridge', dict(name='br0', ports=['nic0'], persist='none', rollback={'timeout': 3},
                                      ipv4={'addresses': [ns.address], 'gateway': ns.net + '.254'}), **ns.kwargs())
    assert time.time() - started < 30
    assert failed['rolled_back'] is True
    assert 'gateway %s.254 did not answer within 3s' % ns.net in failed['msg'], failed['msg']
    assert 'deleted br0' in failed['restored'] and failed['lost'] == ['gateway %s.254' % ns.net]
    assert 'br0' not in links(ns.host)
    assert (addresses(ns.host, 'nic0'), _defaults(ns)) == before
    assert ping(ns.host, ns.gateway)


def test_bridge_without_working_uplink_is_rolled_back(ns):
    # a NIC whose far end is down: the address moved onto a bridge over it reaches nobody
    ip('link', 'add', 'dead0', 'type', 'veth', 'peer', 'name', 'deadpeer', ns=ns.host)
    ip('link', 'set', 'dead0', 'up', ns=ns.host)
    contract('kvm_bridge', dict(name='br0', ports=['nic0'], persist='none', rollback={'timeout': 10}), **ns.kwargs())
    assert ping(ns.host, ns.gateway)
    failed = fails('kvm_bridge', dict(name='br0', ports=['dead0'], persist='none', rollback={'timeout': 3}),
                   **ns.kwargs())
    assert failed['rolled_back'] is True and 'did not answer' in failed['msg']
    found = links(ns.host)
    assert found['nic0']['master'] == 'br0' and 'master' not in found['dead0']
    assert addresses(ns.host, 'br0') == [ns.address]
    assert ping(ns.host, ns.gateway)


def _module_processes(ns):
    pids = subprocess.run(['ip', 'netns', 'pids', ns], capture_output=True, text=True, check=False).stdout.split()
    found = []
    for pid in pids:
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as stream:
                if b'AnsiballZ' in stream.read() or b'kvm_bridge' in stream.read():
                    found.append(int(pid))
        except OSError:
            pass
    return sorted(found)


def test_connection_dropped_mid_change_is_restored(ns):
    """The module is killed while the change waits for STP to forward: the detached step restores the host."""
    before = (addresses(ns.host, 'nic0'), _defaults(ns))
    args = dict(name='br0', ports=['nic0'], persist='none', stp=True, forward_delay=3,
                rollback={'timeout': 20, 'check': {'hosts': [ns.gateway]}})
    command = [os.path.join(ROOT, '.venv', 'bin', 'ansible'), ns.host, '-i', ns.inventory, '-m',
               'kvmops.kvm.kvm_bridge', '-a', json.dumps(args)]
    env = ansible_env('/dev/null')
    ansible = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not ('br0' in links(ns.host) and len(_module_processes(ns.host)) >= 2):
            time.sleep(0.2)
        processes = _module_processes(ns.host)
        assert len(processes) >= 2, 'the detached step did not start'
        # the connection drops: Ansible and the module die, the detached step (the newer process) lives on
        os.killpg(ansible.pid, signal.SIGKILL)
        os.kill(processes[0], signal.SIGKILL)
        assert 'br0' in links(ns.host)
        deadline = time.time() + 60
        while time.time() < deadline and 'br0' in links(ns.host):
            time.sleep(0.5)
        assert 'br0' not in links(ns.host), 'not restored'
        deadline = time.time() + 10
        while time.time() < deadline and (addresses(ns.host, 'nic0'), _defaults(ns)) != before:
            time.sleep(0.2)
        assert (addresses(ns.host, 'nic0'), _defaults(ns)) == before
        assert ping(ns.host, ns.gateway)
    finally:
        ansible.wait()
