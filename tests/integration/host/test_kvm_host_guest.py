"""kvm_host inside a lab Debian guest (Debian's kernel, loadable modules), run through Ansible over ssh with the
lab inventory: modules loaded and persisted, nested option written and applied, both still in force after the
guest reboots; each action through the contract check -> apply -> check -> apply.

The guest runs emulated (TCG, CPU model qemu64: AuthenticAMD with svm), so kvm_amd loads in it. The guest has
python3 but neither libvirt-python nor lxml, which kvm_host does not need."""

import time

import pytest

from harness import contract, ok

pytestmark = pytest.mark.lab

EXTRA = ['vhost_net', 'bonding', '8021q', 'br_netfilter']
MODULES_LOAD = '/etc/modules-load.d/kvmops-kvm.conf'
NESTED = '/etc/modprobe.d/kvmops-kvm-nested.conf'


@pytest.fixture(scope='module')
def guest(lab_guest):
    lab, debian = lab_guest
    # start from a guest that has none of it, so the first run has work to do
    lab.ssh(debian.ip, 'rm -f %s %s; modprobe -r %s kvm_amd kvm_intel kvm 2>/dev/null; true'
            % (MODULES_LOAD, NESTED, ' '.join(EXTRA)))
    return _Guest(lab, debian)


class _Guest(object):
    def __init__(self, lab, debian):
        self.lab = lab
        self.ip = debian.ip
        self.name = debian.name

    def ok(self, args, **kwargs):
        return ok('kvm_host', args, inventory=str(self.lab.inventory_path), host=self.name, **kwargs)

    def contract(self, args):
        return contract('kvm_host', args, inventory=str(self.lab.inventory_path), host=self.name)

    def sh(self, command):
        return self.lab.ssh(self.ip, command).stdout

    def reboot(self, timeout=420):
        boot_id = self.sh('cat /proc/sys/kernel/random/boot_id')
        self.lab.ssh(self.ip, 'systemctl reboot', check=False)
        deadline = time.time() + timeout
        while time.time() < deadline:
            time.sleep(5)
            answer = self.lab.ssh(self.ip, 'cat /proc/sys/kernel/random/boot_id', timeout=20, check=False)
            if answer.returncode == 0 and answer.stdout != boot_id:
                return
        raise AssertionError('%s did not come back from a reboot within %ds' % (self.name, timeout))


def _lsmod(guest):
    return set(line.split()[0] for line in guest.sh('cat /proc/modules').splitlines())


def test_facts_of_a_guest_with_loadable_modules(guest):
    facts = guest.ok({'gather': True})['kvm_host']
    assert facts['kernel']['loadable_modules'] is True
    assert facts['cpu']['hypervisor'] is True and facts['cpu']['virtualization'] == 'svm'
    assert facts['vendor_module'] == 'kvm_amd'
    for name in ('kvm', 'kvm_amd', 'vhost_net'):     # extra_modules are reported when they are asked for
        assert facts['modules'][name]['state'] == 'available', (name, facts['modules'][name])
    assert facts['modules']['tun']['state'] in ('available', 'loaded', 'builtin')
    # the lab's Debian guests carry libvirt (they are the KVM hosts of the storage tests) but no QEMU
    assert facts['libvirt']['reachable'] is True and facts['libvirt']['version'], facts['libvirt']
    checks = dict((c['name'], c) for c in facts['checks'])
    assert checks['libvirt_daemon']['result'] == 'PASS'
    assert checks['qemu_emulator']['result'] == 'FAIL' and 'qemu-system-x86' in checks['qemu_emulator']['hint']
    assert checks['hardware_virtualization']['result'] == 'PASS'
    assert checks['kvm_module']['result'] == 'FAIL' and 'load kvm' in checks['kvm_module']['hint']


def test_modules_present_loads_and_persists(guest):
    args = {'modules': 'present', 'extra_modules': EXTRA}
    predicted, applied, _last = guest.contract(args)
    wanted = sorted(['kvm', 'kvm_amd'] + EXTRA)
    assert applied['actions'][:2] == ["load kernel module 'kvm'", "load kernel module 'kvm_amd'"]
    assert applied['actions'][-1] == "write file '%s': %s" % (MODULES_LOAD, ', '.join(wanted))
    assert applied['diff']['before']['modules_load'] is None and applied['diff']['after']['modules_load'] == wanted
    assert set(wanted) <= _lsmod(guest)
    persisted = set(line for line in guest.sh('cat %s' % MODULES_LOAD).splitlines() if not line.startswith('#'))
    assert persisted == set(wanted)
    facts = applied['kvm_host']
    assert all(facts['modules'][name]['state'] == 'loaded' for name in wanted)
    assert facts['kvm_device']['present'] is True and facts['devices']['vhost_net'] is True
    assert predicted['kvm_host']['modules']['vhost_net']['state'] == 'available'   # check mode: the host as found


def test_nested_written_and_applied(guest):
    before = guest.ok({'gather': False})['kvm_host']['nested']
    assert before['module'] == 'kvm_amd' and before['enabled'] is not None
    want = not before['enabled']
    _predicted, applied, _last = guest.contract({'nested': want})
    assert applied['actions'] == ["write file '%s': options kvm_amd nested=%d" % (NESTED, want),
                                  "reload kernel module 'kvm_amd': nested=%d" % want]
    assert guest.sh('cat %s' % NESTED).splitlines()[-1] == 'options kvm_amd nested=%d' % want
    assert guest.sh('cat /sys/module/kvm_amd/parameters/nested').strip() == str(int(want))
    assert applied['kvm_host']['nested']['enabled'] is want and applied['reload_required'] is False
    # the reload must not have dropped what modules: present loaded
    assert 'kvm_amd' in _lsmod(guest)
    guest.want_nested = want


def test_all_still_in_force_after_a_reboot(guest):
    want = getattr(guest, 'want_nested', None)
    guest.reboot()
    assert set(['kvm', 'kvm_amd'] + EXTRA) <= _lsmod(guest)
    args = {'modules': 'present', 'extra_modules': EXTRA}
    if want is not None:
        args['nested'] = want
    again = guest.ok(args)
    assert again['changed'] is False and again['actions'] == []
    facts = again['kvm_host']
    assert all(facts['modules'][name]['state'] == 'loaded' for name in ['kvm', 'kvm_amd'] + EXTRA)
    if want is not None:
        assert facts['nested']['enabled'] is want and facts['nested']['persisted'] is want
