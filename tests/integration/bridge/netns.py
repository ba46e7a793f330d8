"""Network namespaces with veth NICs for kvm_bridge tests: the module runs inside one, never in the root namespace."""

import json
import re
import os
import subprocess
import tempfile

from harness import PYTHON

PREFIX = 'kvmtb'
# the namespaces carry the test slot: the integration streams run side by side (tests/integration/parallel.py), and
# each purges only its own at start and end
NETNS_PREFIX = '%s%s-' % (PREFIX, os.environ.get('KVMOPS_TEST_SLOT', '0'))
_TIMER = re.compile(r'(\w+_timer)\s+[0-9.]+')


def ip(*args, ns=None, check=True):
    command = ['ip'] + (['-n', ns] if ns else []) + list(args)
    return subprocess.run(command, check=check, capture_output=True, text=True).stdout


def links(ns):
    """`ip -d -j link` inside the namespace, by name."""
    return dict((link['ifname'], link) for link in json.loads(ip('-d', '-j', 'link', 'show', ns=ns)))


def addresses(ns, dev):
    data = json.loads(ip('-j', 'addr', 'show', 'dev', dev, ns=ns))
    return sorted('%s/%s' % (a['local'], a['prefixlen']) for a in data[0]['addr_info'] if a.get('scope') == 'global')


def routes(ns, family='-4'):
    return json.loads(ip(family, '-j', 'route', 'show', ns=ns))


def snapshot(ns):
    """The namespace's links and addresses as `ip -d link` and `ip addr` print them, byte for byte, except the
    bridge timers (hello_timer, gc_timer...), which the kernel counts down by itself."""
    return _TIMER.sub(r'\1 *', ip('-d', 'link', 'show', ns=ns)) + ip('addr', 'show', ns=ns)


def ping(ns, address, count=1):
    return subprocess.run(['ip', 'netns', 'exec', ns, 'ping', '-c', str(count), '-W', '1', '-q', address],
                          capture_output=True, text=True, check=False).returncode == 0


class Lab(object):
    """`host` namespace with NICs nic0..nicN-1 whose peers sit in a `lan` namespace on bridge lan0 (the gateway).

    The host starts with 10.77.<n>.10/24 on nic0 and a default route via 10.77.<n>.1."""

    def __init__(self, slot, nics=3):
        self.host = '%sh%d' % (NETNS_PREFIX, slot)
        self.lan = '%sl%d' % (NETNS_PREFIX, slot)
        self.net = '10.77.%d' % slot
        self.gateway = self.net + '.1'
        self.address = self.net + '.10/24'
        self.nics = ['nic%d' % i for i in range(nics)]
        self.dir = tempfile.mkdtemp(prefix='kvmtb-')
        self.wrapper = os.path.join(self.dir, 'python')
        self.inventory = os.path.join(self.dir, 'hosts')
        self.etc_network = None

    def up(self):
        self.down()
        ip('netns', 'add', self.host)
        ip('netns', 'add', self.lan)
        for ns in (self.host, self.lan):
            # no duplicate address detection: a 'tentative' flag clearing by itself would spoil the byte checks
            subprocess.run(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0',
                            'net.ipv6.conf.default.accept_dad=0'], check=True)
        ip('link', 'add', 'lan0', 'type', 'bridge', ns=self.lan)
        ip('addr', 'add', self.gateway + '/24', 'dev', 'lan0', ns=self.lan)
        ip('link', 'set', 'lan0', 'up', ns=self.lan)
        for lo_ns in (self.host, self.lan):
            ip('link', 'set', 'lo', 'up', ns=lo_ns)
        for index, nic in enumerate(self.nics):
            ip('link', 'add', nic, 'type', 'veth', 'peer', 'name', 'peer%d' % index, 'netns', self.lan, ns=self.host)
            ip('link', 'set', 'peer%d' % index, 'master', 'lan0', 'up', ns=self.lan)
            ip('link', 'set', nic, 'up', ns=self.host)
        ip('addr', 'add', self.address, 'dev', 'nic0', ns=self.host)
        ip('route', 'add', 'default', 'via', self.gateway, ns=self.host)
        with open(self.wrapper, 'w') as stream:
            if self.etc_network:
                # the module sees a /etc/network of the test's own (ip netns exec gives it a private mount namespace)
                stream.write('#!/bin/sh\nexec ip netns exec %s sh -c \'mount --bind %s /etc/network && exec %s "$@"\' '
                             'sh "$@"\n' % (self.host, self.etc_network, PYTHON))
            else:
                stream.write('#!/bin/sh\nexec ip netns exec %s %s "$@"\n' % (self.host, PYTHON))
        os.chmod(self.wrapper, 0o755)
        with open(self.inventory, 'w') as stream:
            stream.write('%s ansible_connection=local ansible_python_interpreter=%s\n' % (self.host, self.wrapper))
        return self

    def down(self):
        for ns in (self.host, self.lan):
            subprocess.run(['ip', 'netns', 'del', ns], capture_output=True, check=False)

    def kwargs(self):
        """What harness.ok/fails/contract need to run a module inside the host namespace."""
        return {'inventory': self.inventory, 'host': self.host}
