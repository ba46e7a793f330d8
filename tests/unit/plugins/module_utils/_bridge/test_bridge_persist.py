"""Persistence of kvm_bridge: every backend's files against golden files (the seeds' bond0/br0/br1 layout among them),
files compared by meaning, and the ifupdown plan that takes a port's old stanza out of /etc/network/interfaces."""

import os
import sys

import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import ifcfg, ifupdown, networkd, nm, persist
from ansible_collections.kvmops.kvm.plugins.module_utils._engine import files
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.plan import Plan

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from layouts import LAYOUTS, BR0  # noqa: E402

GOLDEN = os.path.join(HERE, 'golden')
BACKENDS = {'ifcfg': ifcfg, 'ifupdown': ifupdown, 'networkd': networkd, 'nm': nm}


def _golden(backend):
    found = {}
    top = os.path.join(GOLDEN, backend)
    for directory, _dirs, names in os.walk(top):
        for name in names:
            full = os.path.join(directory, name)
            with open(full) as stream:
                found['/' + os.path.relpath(full, top)] = stream.read()
    return found


@pytest.mark.parametrize('backend', sorted(BACKENDS))
def test_rendered_files_match_golden(backend):
    rendered = {}
    for config in LAYOUTS.values():
        rendered.update(BACKENDS[backend].render(config))
    assert rendered == _golden(backend)


def test_seeds_ifcfg_files_mean_what_we_write():
    """The seeds' hand-written files (quoted or not, in their own order) are what kvm_bridge writes, by meaning."""
    rendered = {}
    for name in ('br0', 'br1'):
        rendered.update(ifcfg.render(LAYOUTS[name]))
    for name in ('ifcfg-bond0', 'ifcfg-eth0', 'ifcfg-br0', 'ifcfg-br1'):
        with open(os.path.join(HERE, 'seeds', name)) as stream:
            seed = stream.read()
        assert ifcfg.parse(seed) == ifcfg.parse(rendered[ifcfg.DIRECTORY + '/' + name]), name
    assert 'BONDING_OPTS="mode=1 miimon=100"' in rendered[ifcfg.DIRECTORY + '/ifcfg-bond0']


def test_meaning_ignores_layout():
    text = nm.render(BR0)[nm.path('br0', 'br0')]
    shuffled = '\n'.join(reversed(text.splitlines())).replace('[connection]', '[connection]\ntimestamp=1700000000')
    assert nm.meaning(text) != {}
    stanzas = ifupdown.render(BR0)[ifupdown.path('br0')]
    assert ifupdown.parse(stanzas.replace('    ', '\t').replace('bridge_fd', 'bridge-fd')) == ifupdown.parse(stanzas)
    assert networkd.parse('[Match]\nName=x\n\n[Network]\nDNS=1.1.1.1\nAddress=10.0.0.2/24\n') == \
        networkd.parse('# c\n[Network]\nAddress=10.0.0.2/24\nDNS=1.1.1.1\n[Match]\nName=x\n')
    assert shuffled


INTERFACES = """# The loopback network interface
auto lo
iface lo inet loopback

# The primary network interface
allow-hotplug eth0
iface eth0 inet dhcp
    post-up echo up
"""


class _Ansible(object):
    def __init__(self):
        self.warnings = []

    @staticmethod
    def atomic_move(source, target):
        os.rename(source, target)


class _Module(object):
    def __init__(self):
        self.ansible = _Ansible()
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


class _State(object):
    dynamic = set()


class _Resource(object):
    """What persist.plan reads of a kvm_bridge run."""

    def __init__(self, state='present'):
        self.module = _Module()
        self.backend = ifupdown.Backend(self.module)
        self.name = 'br0'
        self.state = state
        self.before = _State()
        self.desired = dict(name='br0', uplink=BR0['uplink'], ipv4=BR0['ipv4'], ipv6=None, stp=None,
                            forward_delay=None, mtu=None, mac=None, taps=None)
        self.after = dict(name='br0', mac='52:54:00:12:34:56', mtu=1500, stp=False, forward_delay=0,
                          ports=['bond0'], taps=[], addresses=['192.168.1.10/24'], bond=None, vlan=None)
        self.touched_files = []

    @staticmethod
    def default_gateway(version):
        return None

    @staticmethod
    def tap_config(name):
        return {'name': name, 'owner': None, 'group': None, 'multi_queue': False}


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setattr(files, 'ROOT', str(tmp_path))
    os.makedirs(str(tmp_path / 'etc/network/interfaces.d'))
    (tmp_path / 'etc/network/interfaces').write_text(INTERFACES)
    return tmp_path


def test_ifupdown_plan_takes_the_ports_stanzas_out_and_is_idempotent(root):
    resource = _Resource()
    plan = Plan()
    kept = persist.plan(resource, plan)
    assert kept == [ifupdown.path('br0')]
    assert plan.describe() == ["write file '/etc/network/interfaces'", "write file '%s'" % ifupdown.path('br0')]
    plan.apply()
    interfaces = (root / 'etc/network/interfaces').read_text()
    assert 'eth0' not in interfaces and 'iface lo inet loopback' in interfaces
    assert interfaces.rstrip().endswith('source /etc/network/interfaces.d/*')
    ours = (root / ('etc/network/interfaces.d/kvmops-br0')).read_text()
    assert 'bond-mode active-backup' in ours and 'address 192.168.1.10/24' in ours and 'gateway 192.168.1.1' in ours
    again = Plan()
    persist.plan(_Resource(), again)
    assert again.describe() == []
    # reformatted by hand, the same meaning: still nothing to do
    (root / 'etc/network/interfaces.d/kvmops-br0').write_text(ours.replace('    ', '\t'))
    third = Plan()
    persist.plan(_Resource(), third)
    assert third.describe() == []


def test_ifupdown_absent_removes_our_file(root):
    plan = Plan()
    persist.plan(_Resource(), plan)
    plan.apply()
    gone = Plan()
    persist.plan(_Resource('absent'), gone)
    assert gone.describe() == ["remove file '%s'" % ifupdown.path('br0')]
    gone.apply()
    assert not (root / 'etc/network/interfaces.d/kvmops-br0').exists()


def test_ifcfg_ports_that_leave_keep_their_file_without_the_bridge(tmp_path, monkeypatch):
    monkeypatch.setattr(files, 'ROOT', str(tmp_path))
    directory = tmp_path / 'etc/sysconfig/network-scripts'
    os.makedirs(str(directory))
    for name, text in ifcfg.render(LAYOUTS['br1']).items():
        (tmp_path / name.lstrip('/')).write_text(text)
    (directory / 'ifcfg-eth2').write_text((directory / 'ifcfg-eth2').read_text() + 'HWADDR=52:54:00:00:00:02\n')
    backend = ifcfg.Backend(_Module())
    changes = backend.edits('br1', None, {})
    values = ifcfg.parse(changes[ifcfg.path('eth2')])
    assert 'BRIDGE' not in values and values['HWADDR'] == '52:54:00:00:00:02'
    assert backend.owned('br1') == [ifcfg.path('br1'), ifcfg.path('eth2')]
