"""A bridge made by kvm_bridge inside a lab hypervisor host (its own network namespace and libvirtd) carries
a libvirt network of mode bridge and a guest's NICs (one through that network, one with `bridge:`); removing the
bridge is then refused, naming the guest."""

import json
import os
import subprocess
import tempfile
import time

import pytest

from harness import PYTHON, contract, fails, ok
from kvmlab.artifacts import ensure_tiny_artifacts

pytestmark = pytest.mark.lab

BRIDGE = 'kvmtb-br0'
NETWORK = 'kvmtb-brnet'
GUEST = 'kvmtb-g1'
SUBNET = '10.213.199.'


def _ns_ip(netns, *args):
    return subprocess.run(['ip', '-n', netns] + list(args), capture_output=True, text=True, check=True).stdout


@pytest.fixture
def lab_host(lab):
    """The first lab host, and ansible arguments that run a module inside its network namespace."""
    host = lab.hosts[0]
    folder = tempfile.mkdtemp(prefix='kvmtb-lab-')
    wrapper = os.path.join(folder, 'python')
    with open(wrapper, 'w') as stream:
        stream.write('#!/bin/sh\nexec ip netns exec %s %s "$@"\n' % (host.netns, PYTHON))
    os.chmod(wrapper, 0o755)
    inventory = os.path.join(folder, 'hosts')
    with open(inventory, 'w') as stream:
        stream.write('kvmtb-labhost ansible_connection=local ansible_python_interpreter=%s\n' % wrapper)
    inside = {'inventory': inventory, 'host': 'kvmtb-labhost'}
    conn = host.connect()

    def clean():
        for name, lookup in ((GUEST, conn.lookupByName), (NETWORK, conn.networkLookupByName)):
            try:
                obj = lookup(name)
            except Exception:   # noqa: BLE001 - not there
                continue
            if obj.isActive():
                obj.destroy()
            obj.undefine()
        subprocess.run(['ip', '-n', host.netns, 'link', 'del', BRIDGE], capture_output=True, check=False)
    clean()
    try:
        yield host, inside
    finally:
        clean()
        conn.close()


def test_libvirt_network_and_guest_nics_on_a_kvm_bridge(lab_host):
    host, inside = lab_host
    tiny = ensure_tiny_artifacts()
    contract('kvm_bridge', dict(name=BRIDGE, ipv4={'addresses': [SUBNET + '1/24']}, persist='none'), **inside)
    contract('kvm_network', dict(name=NETWORK, mode='bridge', bridge=BRIDGE, uri=host.tcp_uri))
    guest = dict(name=GUEST, memory=128, kernel=str(tiny.kernel), initrd=str(tiny.initrd), uri=host.tcp_uri,
                 cmdline='console=ttyS0 quiet panic=-1 ip=%s2/24::::%s:eth0:off kvmlab.hostname=%s'
                         % (SUBNET, GUEST, GUEST),
                 interfaces=[dict(network=NETWORK), dict(bridge=BRIDGE)], graphics=dict(type='none'),
                 type='qemu')   # TCG: auto picks kvm in the lab host, where it does not run
    contract('kvm_domain', guest)
    members = [link for link in json.loads(_ns_ip(host.netns, '-d', '-j', 'link'))
               if link.get('master') == BRIDGE]
    assert len(members) == 2 and all(m['linkinfo']['info_kind'] == 'tun' for m in members)
    deadline = time.time() + 90
    while time.time() < deadline:
        if subprocess.run(['ip', 'netns', 'exec', host.netns, 'ping', '-c', '1', '-W', '1', SUBNET + '2'],
                          capture_output=True, check=False).returncode == 0:
            break
    else:
        pytest.fail('the guest on %s never answered' % BRIDGE)
    # the guest's taps are not the bridge's own taps: a taps list leaves them, removal is refused naming the guest
    kept = ok('kvm_bridge', dict(name=BRIDGE, taps=[], persist='none', uri=host.tcp_uri), **inside)
    assert kept['changed'] is False
    refused = fails('kvm_bridge', dict(name=BRIDGE, state='absent', persist='none', uri=host.tcp_uri), **inside)
    assert GUEST in refused['msg'] and 'force' in refused['msg'], refused['msg']
    assert BRIDGE in _ns_ip(host.netns, 'link', 'show', BRIDGE)
