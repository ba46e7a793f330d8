"""Lab Debian guests for kvm_bridge tests: pyroute2 installed, a second NIC hot-plugged, reboots waited on, the
guest's own view read over ssh (`ip -j`, /proc/net/bonding, nmcli)."""

import json
import os
import subprocess
import tempfile
import time

import libvirt
import pyroute2
from kvmlab import config

from harness import ok


def second_nic_xml(mac):
    return ("<interface type='bridge'><mac address='%s'/><source bridge='%s'/><model type='virtio'/></interface>"
            % (mac, config.BRIDGE))


def install_pyroute2(lab, guest):
    """pyroute2 and jeepney as an operator would install them (the image has neither python3-pyroute2 nor
    python3-jeepney): the pure-Python packages, copied from this machine's venv."""
    site = '/usr/local/lib/python3/dist-packages'
    names = ['pyroute2', 'jeepney']
    if lab.ssh(guest.ip, ' && '.join('test -d %s/%s' % (site, n) for n in names), timeout=120,
               check=False).returncode == 0:
        return
    here = os.path.dirname(os.path.dirname(pyroute2.__file__))
    tar = subprocess.Popen(['tar', '-C', here, '-cz', '--exclude=tests', '--exclude=__pycache__'] + names,
                           stdout=subprocess.PIPE)
    subprocess.run(['ssh', '-i', str(lab.keys.private_key), '-o', 'StrictHostKeyChecking=no', '-o',
                    'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', 'root@' + guest.ip,
                    'mkdir -p %s && tar -C %s -xz' % (site, site) + ''.join(
                        ' && ln -sfn %s/%s /usr/lib/python3/dist-packages/%s' % (site, n, n) for n in names)],
                   stdin=tar.stdout, check=True, timeout=240)
    tar.wait()


def wait(condition, seconds, what):
    """Poll `condition` (each poll is an ssh round trip or a netlink read: the wait is on the guest's state)."""
    deadline = time.time() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError('timed out after %ss waiting for %s' % (seconds, what))
        time.sleep(0.5)


# QEMU's virtio-net reports no link speed or duplex. An 802.3ad bond needs both: a slave whose link comes up again after
# it was enslaved (ifupdown at boot brings the NICs down and up while it builds the bond) then stays "MII Status: down"
# with "failed to get link speed/duplex", although its carrier is up. A real NIC reports them; the lab's guests are
# told the speed the way `ethtool -s DEV speed 1000 duplex full` would (ETHTOOL_SSET; no ethtool in the image), by a
# udev rule for every virtio NIC as it appears, before ifupdown enslaves it.
LINK_SPEED = r"""import array, fcntl, socket, struct, sys
command = struct.pack('=IIIHBBBBBBIIHBBI8x', 2, 0, 0, 1000, 1, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
buf = array.array('B', command)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
fcntl.ioctl(sock.fileno(), 0x8946, struct.pack('16sP', sys.argv[1].encode(), buf.buffer_info()[0]))
"""
LINK_SPEED_RULE = ('ACTION=="add", SUBSYSTEM=="net", DRIVERS=="virtio_net", '
                   'RUN+="/usr/bin/python3 /usr/local/sbin/kvmtb-link-speed $name"\n')


class Guest(object):
    """One lab Debian guest with a second NIC (eth1) on the lab bridge, for the tests of one module."""

    def __init__(self, lab, debian, second_mac):
        self.lab = lab
        self.debian = debian
        self.name = debian.name
        self.ip = debian.ip
        self.second_mac = second_mac
        self.on = dict(inventory=self._inventory(), host=debian.name)
        self.conn = libvirt.open(debian.uri)
        self.dom = self.conn.lookupByName(debian.name)

    @staticmethod
    def answers(lab, debian):
        try:
            return lab.ssh(debian.ip, 'true', timeout=30, check=False).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def _inventory(self):
        """An inventory of this guest alone (the lab's is rewritten whenever the lab comes up: never half-written
        under a test that runs beside another lab user)."""
        handle, path = tempfile.mkstemp(prefix='kvmtb-inventory-', suffix='.ini')
        with os.fdopen(handle, 'w') as stream:
            stream.write('%s ansible_host=%s ansible_user=root ansible_python_interpreter=/usr/bin/python3 '
                         'ansible_ssh_private_key_file=%s ansible_ssh_common_args="-o StrictHostKeyChecking=no '
                         '-o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes"\n'
                         % (self.name, self.ip, self.lab.keys.private_key))
        return path

    def ssh(self, command, check=True, timeout=180):
        """Run a command in the guest. ssh's own failures (exit 255: a TCG guest on a loaded machine can miss the
        banner exchange) are retried until `timeout`; with check, any other failure raises."""
        deadline = time.time() + timeout
        while True:
            try:
                result = self.lab.ssh(self.ip, command, timeout=max(5, deadline - time.time()), check=False)
            except subprocess.TimeoutExpired:
                result = subprocess.CompletedProcess(command, 255, '', 'timed out after %ss' % timeout)
            if result.returncode != 255 or time.time() >= deadline or not check:
                break
            time.sleep(1)
        if check and result.returncode != 0:
            raise AssertionError('%s on %s failed (%s): %s' % (command, self.name, result.returncode, result.stderr))
        return result

    def out(self, command):
        return self.ssh(command).stdout

    def plug(self):
        install_pyroute2(self.lab, self.debian)
        if self.second_mac not in self.dom.XMLDesc():   # a run that broke off may have left it plugged
            self.dom.attachDeviceFlags(second_nic_xml(self.second_mac), libvirt.VIR_DOMAIN_AFFECT_LIVE)
        wait(lambda: self.ssh('ip link set eth1 up', check=False, timeout=30).returncode == 0, 180, 'eth1 in ' + self.name)

    def unplug(self):
        try:
            self.dom.detachDeviceFlags(second_nic_xml(self.second_mac), libvirt.VIR_DOMAIN_AFFECT_LIVE)
        finally:
            self.conn.close()

    def links(self):
        return dict((link['ifname'], link) for link in json.loads(self.out('ip -d -j link show')))

    def addresses(self, dev):
        data = json.loads(self.out('ip -j addr show dev %s' % dev))
        return sorted('%s/%s' % (a['local'], a['prefixlen']) for a in data[0]['addr_info']
                      if a.get('scope') == 'global' and a['family'] == 'inet')

    def defaults(self):
        return sorted((r.get('gateway'), r['dev']) for r in json.loads(self.out('ip -4 -j route show default')))

    def bonding(self, bond='bond0'):
        return self.out('cat /proc/net/bonding/%s' % bond)

    def digest(self, *paths):
        """Each file's sha256 (or 'missing'): files a rolled-back change must leave as they were."""
        found = {}
        for path in paths:
            # ssh's own failures are retried (check): only a file that is not there reads as missing (a loaded
            # machine's TCG guest can miss an ssh banner exchange, which read as 'missing' before)
            words = self.out('sha256sum %s 2>/dev/null || echo missing' % path).split()
            found[path] = words[0] if words else 'missing'
        return found

    def report_link_speed(self):
        """Make the guest's virtio NICs report 1000 Mb/s full duplex, now and at every boot (see LINK_SPEED)."""
        self.ssh("cat > /usr/local/sbin/kvmtb-link-speed <<'EOF'\n%sEOF\nprintf '%s' > /etc/udev/rules.d/"
                 "70-kvmtb-link-speed.rules && for nic in eth0 eth1; do python3 /usr/local/sbin/kvmtb-link-speed $nic; "
                 "done" % (LINK_SPEED, LINK_SPEED_RULE))

    def forget_link_speed(self):
        self.ssh('rm -f /usr/local/sbin/kvmtb-link-speed /etc/udev/rules.d/70-kvmtb-link-speed.rules', check=False)

    def boot_id(self):
        return self.out('cat /proc/sys/kernel/random/boot_id').strip()

    def reboot(self):
        """Reboot the guest (QEMU keeps the hot-plugged NIC) and wait until it answers ssh again; returns seconds.
        The reboot is asked of the guest agent (a clean `shutdown -r`): an ssh `systemctl reboot` could time out
        before it ran on a loaded machine, or, retried, reboot the guest twice."""
        began = time.time()
        before = self.boot_id()
        self.dom.reboot(libvirt.VIR_DOMAIN_REBOOT_GUEST_AGENT)

        def rebooted():
            result = self.ssh('cat /proc/sys/kernel/random/boot_id', check=False, timeout=20)
            return result.returncode == 0 and result.stdout.strip() != before
        wait(rebooted, 360, 'a new boot of ' + self.name)
        wait(lambda: self.ssh('systemctl is-system-running --wait', check=False, timeout=200).stdout.strip()
             in ('running', 'degraded'), 300, 'the boot of %s to finish' % self.name)
        return time.time() - began

    def module(self, args, **kwargs):
        return ok('kvm_bridge', args, **dict(self.on, **kwargs))
