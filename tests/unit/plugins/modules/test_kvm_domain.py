"""kvm_domain in-process against libvirt's test driver (fast; the real proof is tests/integration/domain).

What the test driver cannot serve, and where it is proven instead (tests/integration/domain, on qemu:///system
and the lab):
- domain and host capabilities: it has none for QEMU guests, so the `libvirt_calls` fixture answers both queries
  with a real Debian 12 host's (QEMU 7.2, libvirt 9.0); guests here are `type: qemu`, because `auto` and `kvm`
  ask this machine's real KVM probe;
- attaching and detaching devices to a running guest (virDomainAttachDeviceFlags is not supported), hence NIC
  and disk changes of running guests, CD-ROM media changes;
- a guest that boots: graceful ACPI shutdown that takes time (it shuts off at once), DHCP leases and the guest
  agent (`wait_for: ip`), cloud-init seeds read by a guest, UEFI firmware files;
- events other than its own state changes (device removal).
What it does serve is covered here: define, the contract check -> apply -> check -> apply, memory and vCPU
changes live and by restart, power states, autostart, a full `xml`, removal with and without storage, and bad
input that fails before the driver changes.
"""

import pytest

libvirt = pytest.importorskip('libvirt')

from ansible_collections.kvmops.kvm.plugins.modules import kvm_domain  # noqa: E402


def given(base, **changes):
    """A copy of the task `base` with `changes` laid over it."""
    args = dict(base)
    args.update(changes)
    return args


NAME = 'kvmtu-dom'
GUEST = dict(name=NAME, type='qemu', memory=128, vcpus=1)
ROOMY = given(GUEST, max_memory=512, max_vcpus=4)


@pytest.fixture
def conn(test_driver, libvirt_calls):
    """The test driver, its guests named kvmtu- removed afterwards; capabilities answered as a real host does."""
    yield test_driver
    for dom in test_driver.listAllDomains():
        if dom.name().startswith('kvmtu-'):
            if dom.isActive():
                dom.destroy()
            dom.undefine()
    pool = test_driver.storagePoolLookupByName('default-pool')
    for volume in pool.listAllVolumes():
        if volume.name().startswith('kvmtu-'):
            volume.delete(0)


@pytest.fixture
def run(module_runner):
    return module_runner(kvm_domain)


def ok(run, **args):
    result = run(**args)
    assert result['rc'] == 0 and not result.get('failed'), result
    return result


def contract(run, **args):
    """check -> apply -> check -> apply: the first two change the same way, the last two change nothing."""
    predicted = ok(run, check=True, **args)
    applied = ok(run, **args)
    assert predicted['changed'] is True and applied['changed'] is True
    assert predicted['actions'] == applied['actions'] and predicted['diff'] == applied['diff']
    again = ok(run, check=True, **args)
    last = ok(run, **args)
    assert again['changed'] is False and last['changed'] is False, (again['actions'], last['actions'])
    return predicted, applied, last


def state_of(dom):
    return dom.state()[0]


def snapshot(conn):
    """Everything a bad task must leave as it was: guests, their states and definitions, volumes."""
    guests = {}
    for dom in conn.listAllDomains():
        guests[dom.name()] = (dom.state()[0], dom.XMLDesc(0), dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE),
                              dom.autostart())
    volumes = sorted(v.name() for v in conn.storagePoolLookupByName('default-pool').listAllVolumes())
    return guests, volumes


def memory_mib(xml, tag):
    from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
    element = _xml.parse(xml).find(tag)
    return _xml.to_bytes(element.text + element.get('unit', 'KiB')) // 1024 ** 2


# ---- define and the contract

def test_a_new_guest_follows_the_contract(conn, run):
    predicted, applied, last = contract(run, **GUEST)
    assert applied['actions'] == ["define domain '%s'" % NAME, "start domain '%s'" % NAME]
    assert predicted['domain']['uuid'] is None and applied['domain']['uuid'] == conn.lookupByName(NAME).UUIDString()
    assert applied['diff']['before']['state'] == 'shutoff' and applied['diff']['after']['state'] == 'running'
    dom = conn.lookupByName(NAME)
    assert state_of(dom) == libvirt.VIR_DOMAIN_RUNNING and dom.isPersistent()
    assert memory_mib(dom.XMLDesc(0), 'memory') == 128 and dom.maxVcpus() == 1
    assert last['domain'] == dict(applied['domain']) and last['domain']['memory'] == 128
    assert last['domain']['graphics'] == {'type': 'vnc', 'listen': '127.0.0.1', 'port': None}   # local-only console


def test_check_mode_of_a_new_guest_leaves_the_driver_alone(conn, run):
    before = snapshot(conn)
    predicted = ok(run, check=True, **GUEST)
    assert predicted['domain']['state'] == 'running' and predicted['domain']['memory'] == 128
    assert snapshot(conn) == before


def test_present_defines_without_starting(conn, run):
    contract(run, **given(GUEST, state='present'))
    assert state_of(conn.lookupByName(NAME)) == libvirt.VIR_DOMAIN_SHUTOFF


def test_a_generated_mac_is_kept(conn, run):
    task = given(GUEST, interfaces=[dict(network='default')])
    _predicted, applied, last = contract(run, **task)
    mac = applied['domain']['interfaces'][0]['mac']
    assert mac.startswith('52:54:00:') and last['domain']['interfaces'][0]['mac'] == mac
    assert mac in conn.lookupByName(NAME).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)


def test_a_missing_volume_with_a_size_is_created_and_absent_keeps_it_unless_asked(conn, run):
    disk = dict(pool='default-pool', volume='kvmtu-dom.qcow2', size='16M')
    _predicted, applied, _last = contract(run, **given(GUEST, disks=[disk]))
    assert applied['actions'][0].startswith("create volume 'kvmtu-dom.qcow2'")
    pool = conn.storagePoolLookupByName('default-pool')
    assert pool.storageVolLookupByName('kvmtu-dom.qcow2').info()[1] == 16 * 1024 ** 2
    assert applied['domain']['disks'][0]['volume'] == 'kvmtu-dom.qcow2'
    ok(run, name=NAME, state='absent')
    assert 'kvmtu-dom.qcow2' in pool.listVolumes()
    ok(run, **given(GUEST, disks=[disk]))
    removed = ok(run, name=NAME, state='absent', remove_storage=True)
    assert any('kvmtu-dom.qcow2' in action for action in removed['actions']), removed['actions']
    assert 'kvmtu-dom.qcow2' not in pool.listVolumes()


# ---- memory and vCPUs

def test_memory_and_vcpus_change_live_up_to_their_ceilings(conn, run):
    ok(run, **ROOMY)
    _predicted, applied, _last = contract(run, **given(ROOMY, memory=256, vcpus=2))
    assert "set memory of domain '%s': 256 MiB (live)" % NAME in applied['actions']
    assert "set vCPUs of domain '%s': 2 (live)" % NAME in applied['actions']
    assert applied['restart_required'] is False
    assert applied['diff'] == {'before': {'memory': 128, 'vcpus': 1}, 'after': {'memory': 256, 'vcpus': 2}}
    dom = conn.lookupByName(NAME)
    assert memory_mib(dom.XMLDesc(0), 'currentMemory') == 256
    assert memory_mib(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), 'currentMemory') == 256
    assert dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE) == 2 and dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG) == 2
    assert applied['domain']['memory'] == 256 and applied['domain']['vcpus'] == 2


def test_memory_in_any_unit_compares_in_mib(conn, run):
    ok(run, **given(GUEST, memory='1GiB'))
    assert ok(run, **given(GUEST, memory=1024))['changed'] is False
    assert ok(run, **given(GUEST, memory='1048576KiB'))['changed'] is False


def test_raising_a_ceiling_of_a_running_guest_waits_for_a_restart(conn, run):
    ok(run, **GUEST)
    raised = ok(run, **given(GUEST, memory=256))   # above the ceiling, which rises with it
    assert raised['actions'] == ["define domain '%s': max_memory, memory" % NAME] and raised['restart_required'] is True
    assert any('older definition' in str(warning) for warning in raised['warnings'])
    dom = conn.lookupByName(NAME)
    assert memory_mib(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), 'memory') == 256
    assert memory_mib(dom.XMLDesc(0), 'memory') == 128   # the running guest keeps its older definition
    again = ok(run, **given(GUEST, memory=256))   # the same task again: nothing to define, the restart still due
    assert again['changed'] is False and again['restart_required'] is True
    ceiling = given(GUEST, memory=256, max_memory=256)
    assert ok(run, **ceiling)['restart_required'] is True   # said on every run until it restarts
    restarted = ok(run, **given(ceiling, restart=True))
    assert restarted['actions'] == ["restart domain '%s': to apply max_memory, memory" % NAME]
    assert restarted['restart_required'] is False and memory_mib(dom.XMLDesc(0), 'memory') == 256
    assert ok(run, **ceiling)['changed'] is False


def test_a_shut_off_guest_just_gets_its_new_definition(conn, run):
    ok(run, **given(GUEST, state='destroyed'))
    changed = ok(run, **given(GUEST, state='destroyed', memory=64, vcpus=2))
    assert changed['actions'] == ["define domain '%s': max_vcpus, memory, vcpus" % NAME]   # the ceiling stays
    assert changed['restart_required'] is False and changed['domain']['state'] == 'shutoff'
    assert conn.lookupByName(NAME).vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG) == 2


# ---- power states

@pytest.mark.parametrize('wanted, action, libvirt_state', [
    ('paused', 'pause', libvirt.VIR_DOMAIN_PAUSED),
    ('destroyed', 'destroy', libvirt.VIR_DOMAIN_SHUTOFF),
    ('shutdown', 'shutdown', libvirt.VIR_DOMAIN_SHUTOFF),
])
def test_power_states_from_running(conn, run, wanted, action, libvirt_state):
    ok(run, **GUEST)
    _predicted, applied, last = contract(run, name=NAME, state=wanted)
    assert applied['actions'] == ["%s domain '%s'" % (action, NAME)]
    assert state_of(conn.lookupByName(NAME)) == libvirt_state
    assert last['domain']['state'] == ('paused' if wanted == 'paused' else 'shutoff')


def test_running_resumes_a_paused_guest_and_starts_a_stopped_one(conn, run):
    ok(run, **GUEST)
    ok(run, name=NAME, state='paused')
    resumed = contract(run, name=NAME, state='running')[1]
    assert resumed['actions'] == ["resume domain '%s'" % NAME]
    ok(run, name=NAME, state='destroyed')
    started = contract(run, name=NAME, state='running')[1]
    assert started['actions'] == ["start domain '%s'" % NAME]
    assert state_of(conn.lookupByName(NAME)) == libvirt.VIR_DOMAIN_RUNNING


def test_present_leaves_the_power_state_alone(conn, run):
    ok(run, **GUEST)
    ok(run, name=NAME, state='paused')
    assert ok(run, name=NAME, state='present')['changed'] is False
    ok(run, name=NAME, state='destroyed')
    assert ok(run, name=NAME, state='present')['changed'] is False
    assert state_of(conn.lookupByName(NAME)) == libvirt.VIR_DOMAIN_SHUTOFF


def test_autostart_is_left_alone_unless_given(conn, run):
    ok(run, **GUEST)
    applied = contract(run, **given(GUEST, autostart=True))[1]
    assert applied['actions'] == ["enable autostart on domain '%s'" % NAME]
    dom = conn.lookupByName(NAME)
    assert dom.autostart() == 1 and ok(run, **GUEST)['domain']['autostart'] is True
    contract(run, **given(GUEST, autostart=False))
    assert dom.autostart() == 0


# ---- a full xml

XML = ("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
       "<os><type arch='x86_64'>hvm</type></os><clock offset='%s'/></domain>")


def test_a_full_xml_is_compared_by_meaning(conn, run):
    contract(run, name=NAME, state='destroyed', xml=XML % (NAME, 'localtime'))
    clock = contract(run, name=NAME, state='destroyed', xml=XML % (NAME, 'utc'))[1]
    assert clock['actions'] == ["define domain '%s': clock" % NAME]
    assert "<clock offset='utc'" in conn.lookupByName(NAME).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE).replace('"', "'")
    same_in_kib = (XML % (NAME, 'utc')).replace("<memory unit='MiB'>64", "<memory unit='KiB'>65536")
    assert ok(run, name=NAME, state='destroyed', xml=same_in_kib)['changed'] is False


def test_a_full_xml_may_leave_the_vcpus_and_devices_to_libvirt(conn, run):
    bare = "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>" % NAME
    applied = contract(run, name=NAME, state='destroyed', xml=bare)[1]
    assert applied['domain']['vcpus'] == 1 and applied['domain']['memory'] == 64


# ---- absent

def test_absent_stops_and_undefines_and_then_has_nothing_to_do(conn, run):
    ok(run, **GUEST)
    applied = contract(run, name=NAME, state='absent')[1]
    assert applied['actions'] == ["stop domain '%s': forced off" % NAME, "undefine domain '%s'" % NAME]
    assert applied['domain'] is None
    assert NAME not in [dom.name() for dom in conn.listAllDomains()]


def test_absent_of_a_guest_that_was_never_there_changes_nothing(conn, run):
    result = ok(run, name='kvmtu-never', state='absent')
    assert result['changed'] is False and result['actions'] == [] and result['domain'] is None


# ---- bad input: a clear error naming the parameter, and the driver as it was

BAD = [
    (given(GUEST, name='bad name'), 'name', 'is not a valid name'),
    (given(GUEST, memory='lots'), 'memory', "'lots' is not a size"),
    (given(GUEST, vcpus=0), 'vcpus', 'out of range'),
    (given(GUEST, vcpus=2, max_vcpus=1), 'max_vcpus', 'is below vcpus'),
    (given(GUEST, memory=256, max_memory=128), 'max_memory', 'is below memory'),
    (given(GUEST, cpu=dict(mode='custom', model='NoSuchCPU')), 'cpu.model', 'is not a CPU model this host knows'),
    (given(GUEST, machine='nosuch'), 'machine', 'is not a machine type'),
    (given(GUEST, interfaces=[dict(network='kvmtu-nonet')]), 'interfaces[0].network', 'does not exist'),
    (given(GUEST, interfaces=[dict(network='default', mac='01:00:5e:00:00:01')]), 'interfaces[0].mac', 'multicast'),
    (given(GUEST, disks=[dict(path='/nonexistent/kvmtu.qcow2')]), 'disks[0]', 'give size to create it'),
    (given(GUEST, cdrom='/nonexistent/kvmtu.iso'), 'cdrom', 'does not exist on the host'),
    (given(GUEST, kernel='/nonexistent/kvmtu-vmlinuz'), 'kernel', 'does not exist on the host'),
    (dict(name=NAME, xml=XML % ('kvmtu-other', 'utc')), 'xml', "names the domain 'kvmtu-other'"),
    (dict(name=NAME, xml='<domain><name>'), 'xml', 'not well-formed'),
]


@pytest.mark.parametrize('task, parameter, problem', BAD, ids=[case[1] + '-' + str(i) for i, case in enumerate(BAD)])
@pytest.mark.parametrize('existing', [False, True], ids=['new', 'existing'])
def test_bad_input_fails_before_the_driver_changes(conn, run, task, parameter, problem, existing):
    if existing:
        ok(run, **given(ROOMY, disks=[dict(pool='default-pool', volume='kvmtu-dom.qcow2', size='16M')]))
    before = snapshot(conn)
    result = run(**task)
    assert result.get('failed') and result['parameter'] == parameter and problem in result['msg'], result
    assert ("Invalid parameter '%s'" % parameter) in result['msg']
    assert snapshot(conn) == before


def test_xml_and_typed_options_are_exclusive(conn, run):
    before = snapshot(conn)
    result = run(name=NAME, xml=XML % (NAME, 'utc'), memory=64)
    assert result['failed'] and 'mutually exclusive' in result['msg'] and 'xml|memory' in result['msg']
    assert snapshot(conn) == before
