"""Partial failures of kvm_bridge told on a real kernel, through Ansible, inside test network namespaces (never the
machine's own): a netlink step the kernel refuses after others were applied, and a change rolled back by the
detached apply-and-verify step because the gateway did not answer (issue 18, defect 3)."""

import json
import os
import shutil
import subprocess
import tempfile

import pytest

from harness import PYTHON, fails
from hardening_env import PREFIX

HOST, LAN = PREFIX + '-pfh', PREFIX + '-pfl'
BRIDGE = PREFIX + '-pbr'
NET = '10.77.252'


def ip(*args, ns=HOST):
    return subprocess.run(['ip', '-n', ns] + list(args), check=True, capture_output=True, text=True).stdout


def links():
    return dict((link['ifname'], link) for link in json.loads(ip('-d', '-j', 'link', 'show')))


def addresses(dev):
    data = json.loads(ip('-j', 'addr', 'show', 'dev', dev))
    return sorted('%s/%s' % (a['local'], a['prefixlen']) for a in data[0]['addr_info'] if a.get('scope') == 'global')


@pytest.fixture
def namespace():
    """HOST: nic0 (10.77.252.10/24) whose peer sits on bridge lan0 (the gateway, .1) in LAN; new links in HOST
    get no IPv6 (so the kernel refuses an IPv6 address: a real step failure). Yields the harness's kwargs."""
    def down():
        for ns in (HOST, LAN):
            subprocess.run(['ip', 'netns', 'del', ns], capture_output=True, check=False)
    down()
    workdir = tempfile.mkdtemp(prefix=PREFIX + '-pf-')
    try:
        for ns in (HOST, LAN):
            subprocess.run(['ip', 'netns', 'add', ns], check=True)
            ip('link', 'set', 'lo', 'up', ns=ns)
        subprocess.run(['ip', 'netns', 'exec', HOST, 'sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1',
                        'net.ipv6.conf.all.accept_dad=0'], check=True)
        ip('link', 'add', 'lan0', 'type', 'bridge', ns=LAN)
        ip('addr', 'add', NET + '.1/24', 'dev', 'lan0', ns=LAN)
        ip('link', 'set', 'lan0', 'up', ns=LAN)
        ip('link', 'add', 'nic0', 'type', 'veth', 'peer', 'name', 'peer0', 'netns', LAN)
        ip('link', 'set', 'peer0', 'master', 'lan0', 'up', ns=LAN)
        ip('link', 'set', 'nic0', 'up')
        ip('addr', 'add', NET + '.10/24', 'dev', 'nic0')
        wrapper = os.path.join(workdir, 'python')
        with open(wrapper, 'w') as stream:
            stream.write('#!/bin/sh\nexec ip netns exec %s %s "$@"\n' % (HOST, PYTHON))
        os.chmod(wrapper, 0o755)
        inventory = os.path.join(workdir, 'hosts')
        with open(inventory, 'w') as stream:
            stream.write('%s ansible_connection=local ansible_python_interpreter=%s\n' % (HOST, wrapper))
        yield {'inventory': inventory, 'host': HOST}
    finally:
        down()
        shutil.rmtree(workdir, ignore_errors=True)


def test_step_refused_by_the_kernel_after_others_is_told(namespace):
    result = fails('kvm_bridge', dict(name=BRIDGE, persist='none', ipv6=dict(addresses=['fd77:252::10/64'])),
                   **namespace)
    assert result['changed'] is True, result
    assert "create bridge '%s'" % BRIDGE in result['actions'], result
    assert result['failed_action'] == "add address to bridge '%s': fd77:252::10/64" % BRIDGE, result
    assert result['state_left'] == {'bridge %s' % BRIDGE: 'up, no address'}, result
    assert 'done before it' in result['msg'] and 'left: bridge %s is up, no address' % BRIDGE in result['msg']
    assert BRIDGE in links()   # told as it is: the bridge the run made is there


def test_change_rolled_back_is_told_as_undone(namespace):
    before = addresses('nic0')
    result = fails('kvm_bridge', dict(name=BRIDGE, ports=['nic0'], persist='none', rollback=dict(timeout=2),
                                      ipv4=dict(addresses=[NET + '.10/24'], gateway=NET + '.254')), **namespace)
    assert result['rolled_back'] is True and result['changed'] is False, result
    assert result['actions'] and result['actions'][0] == "create bridge '%s'" % BRIDGE, result
    assert result['failed_action'] == "verify connectivity after bridge '%s'" % BRIDGE, result
    assert result['state_left'] == {'bridge %s' % BRIDGE: 'absent (rolled back to its state before the run)'}, result
    assert 'did not answer within 2s' in result['msg'] and 'done before it' in result['msg']
    assert BRIDGE not in links() and addresses('nic0') == before
