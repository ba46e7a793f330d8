"""kvm_domain with a real Debian guest (a copy of the lab image on a qcow2 overlay) on the machine's libvirtd:
what the tiny busybox guest cannot show. Lab-marked: the image is built once (cached) and a Debian guest under
TCG needs a minute or two to boot."""

import subprocess
import time

import libvirt
import pytest

from domain_env import BRIDGE, DISK_DIR, NETWORK, PREFIX, SUBNET
from harness import contract, ok

pytestmark = pytest.mark.lab


def debian_guest(image, name='deb', **extra):
    args = dict(name=PREFIX + name, memory=512, vcpus=2, kernel=str(image.kernel), initrd=str(image.initrd),
                cmdline=image.cmdline, disks=[dict(path='%s/%s.qcow2' % (DISK_DIR, name), backing=str(image.disk))],
                interfaces=[dict(network=NETWORK)], graphics=dict(type='none'))
    args.update(extra)
    return args


def ssh(keys, address, command, timeout=30):
    from kvmlab.keys import ssh_options
    return subprocess.run(['ssh', *ssh_options(keys), 'root@' + address, command], capture_output=True,
                          text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL)


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, 'timed out after %d s waiting for %s' % (timeout, what)
        time.sleep(2)


def test_shutdown_of_a_cooperating_guest_is_graceful(conn, lab_keys, lab_debian_image):
    """The Debian guest runs systemd-logind (on D-Bus), which turns the ACPI power button into a clean poweroff:
    `state: shutdown` without force stops it within the timeout, and libvirt records a shutdown, not a destroy.

    Its NIC is plugged straight into the network's bridge (`bridge:`, not `network:`), so libvirt keeps no
    DHCP lease for it: the address `wait_for: ip` returns can only come from the guest agent."""
    args = debian_guest(lab_debian_image, wait_for='ip', wait_timeout=300, interfaces=[dict(bridge=BRIDGE)])
    name = args['name']
    started = ok('kvm_domain', args)['domain']['interfaces'][0]
    assert started['type'] == 'bridge' and started['ipv4'], started
    address = started['ipv4'][0]
    assert address.startswith(SUBNET)
    agent = conn.lookupByName(name).interfaceAddresses(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT, 0)
    assert address in [a['addr'] for i in agent.values() if i.get('hwaddr') == started['mac'] for a in i['addrs']]
    # the power button is only heard once logind runs: wait for it (over ssh, with the lab key in the image)
    wait_until(lambda: ssh(lab_keys, address, 'systemctl is-active systemd-logind').stdout.strip() == 'active', 300,
               'systemd-logind in %s' % name)

    stop = dict(name=name, state='shutdown', shutdown_timeout=180)
    begin = time.monotonic()
    predicted, applied, _last = contract('kvm_domain', stop)
    took = time.monotonic() - begin
    assert predicted['actions'] == applied['actions'] == ["shutdown domain '%s'" % name]
    assert predicted['domain']['state'] == applied['domain']['state'] == 'shutoff'
    assert not [w for w in applied.get('warnings', []) if 'powered off' in w]
    state, reason = conn.lookupByName(name).state()
    assert (state, reason) == (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN), \
        'state %s, reason %s: not a guest shutdown' % (state, reason)
    assert took < 180, 'the contract took %.0f s' % took
