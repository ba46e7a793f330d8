"""kvm_bridge inside a lab Debian guest (Debian's kernel: bonding), over the very ssh connection Ansible uses:
bond0 (active-backup, miimon 100) over eth0 and a second NIC under br0, the guest's own address moved onto br0;
a slave failed from the host with `virsh domif-setlink`: the bond fails over and the guest stays reachable."""

import os
import subprocess
import time

import libvirt
import pyroute2
import pytest
from kvmlab import config

from harness import contract, ok

pytestmark = pytest.mark.lab

SECOND_MAC = '52:54:00:7b:00:02'


def _second_nic(bridge):
    return ("<interface type='bridge'><mac address='%s'/><source bridge='%s'/><model type='virtio'/></interface>"
            % (SECOND_MAC, bridge))


@pytest.fixture(scope='module')
def guest(request):
    lab = request.getfixturevalue('lab')
    debian = request.getfixturevalue('lab_debian_guest')
    # pyroute2 as an operator would install it (the image has no python3-pyroute2): the pure-Python package
    site = os.path.dirname(os.path.dirname(pyroute2.__file__))
    tar = subprocess.Popen(['tar', '-C', site, '-cz', 'pyroute2'], stdout=subprocess.PIPE)
    subprocess.run(['ssh', '-i', str(lab.keys.private_key), '-o', 'StrictHostKeyChecking=no', '-o',
                    'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', 'root@' + debian.ip,
                    'mkdir -p /usr/local/lib/python3/dist-packages && tar -C /usr/local/lib/python3/dist-packages -xz'
                    ' && ln -sfn /usr/local/lib/python3/dist-packages/pyroute2 '
                    '/usr/lib/python3/dist-packages/pyroute2'],
                   stdin=tar.stdout, check=True, timeout=60)
    tar.wait()
    conn = libvirt.open(debian.uri)
    dom = conn.lookupByName(debian.name)
    lab_bridge = config.BRIDGE
    dom.attachDeviceFlags(_second_nic(lab_bridge), libvirt.VIR_DOMAIN_AFFECT_LIVE)
    # a slow guest (TCG on a busy machine) may miss an ssh banner: ask again until the NIC is there and up
    deadline = time.time() + 180
    while time.time() < deadline and lab.ssh(debian.ip, 'ip link set eth1 up', timeout=30, check=False).returncode:
        time.sleep(1)
    yield lab, debian, dom
    # put the guest back as the other suites know it: the address on eth0, no bond, no second NIC
    ok('kvm_bridge', dict(name='br0', state='absent', bond={'name': 'bond0', 'slaves': ['eth0', 'eth1']},
                          persist='none', force=True), inventory=str(lab.inventory_path), host=debian.name)
    dom.detachDeviceFlags(_second_nic(lab_bridge), libvirt.VIR_DOMAIN_AFFECT_LIVE)
    conn.close()


def test_bond_under_br0_moves_the_address_over_ansibles_own_ssh_and_fails_over(guest):
    lab, debian, dom = guest
    on = dict(inventory=str(lab.inventory_path), host=debian.name)
    address = lab.ssh(debian.ip, "ip -4 -o addr show dev eth0 | awk '{print $4}'").stdout.strip()
    args = dict(name='br0', bond={'name': 'bond0', 'slaves': ['eth0', 'eth1'], 'options': 'mode=1 miimon=100',
                                  'primary': 'eth0'},
                persist='none', rollback={'timeout': 60})
    predicted, applied, last = contract('kvm_bridge', args, **on)
    assert predicted['bridge']['bond']['mode'] == 'active-backup'
    assert last['bridge']['addresses'] == [address] and last['bridge']['ports'] == ['bond0']
    assert last['bridge']['bond']['slaves'] == ['eth0', 'eth1'] and last['bridge']['bond']['miimon'] == 100
    assert last['rolled_back'] is False
    bonding = lab.ssh(debian.ip, 'cat /proc/net/bonding/bond0').stdout
    assert 'Bonding Mode: fault-tolerance (active-backup)' in bonding
    assert 'Currently Active Slave: eth0' in bonding and 'MII Polling Interval (ms): 100' in bonding
    assert lab.ssh(debian.ip, "ip -4 -o addr show dev br0 | awk '{print $4}'").stdout.strip() == address
    # the active slave's link fails on the host: the bond switches, no ssh is lost
    subprocess.run(['virsh', '-c', debian.uri, 'domif-setlink', debian.name, debian.mac, 'down'], check=True,
                   capture_output=True)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            bonding = lab.ssh(debian.ip, 'cat /proc/net/bonding/bond0').stdout
            if 'Currently Active Slave: eth1' in bonding:
                break
            time.sleep(0.5)
        assert 'Currently Active Slave: eth1' in bonding, bonding
        failed = ok('kvm_bridge', dict(args), **on)
        assert failed['bridge']['bond']['active_slave'] == 'eth1' and failed['changed'] is False
    finally:
        subprocess.run(['virsh', '-c', debian.uri, 'domif-setlink', debian.name, debian.mac, 'up'], check=True,
                       capture_output=True)
