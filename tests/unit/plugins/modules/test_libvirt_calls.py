"""How many libvirt calls each kind of module task makes, counted on the test driver's connection.

Capability queries are what matters: libvirt may answer them by probing QEMU (seconds on a host where it
keeps re-probing), so a task asks only when it needs the answer, and at most once per run."""

import pytest

libvirt = pytest.importorskip('libvirt')

from ansible_collections.kvmops.kvm.plugins.modules import (  # noqa: E402
    kvm_bridge, kvm_domain, kvm_domain_info, kvm_host, kvm_migrate, kvm_network, kvm_network_info, kvm_networks,
    kvm_pool, kvm_pool_info, kvm_snapshot, kvm_volume, kvm_volume_info)


def given(base, **changes):
    """A copy of the task `base` with `changes` laid over it."""
    args = dict(base)
    args.update(changes)
    return args


GUEST = dict(name='unit-calls', type='qemu', memory=128, vcpus=1)


@pytest.fixture
def conn(test_driver):
    yield test_driver
    for dom in test_driver.listAllDomains():
        if dom.name().startswith('unit-'):
            if dom.isActive():
                dom.destroy()
            dom.undefine()
    for net in test_driver.listAllNetworks():
        if net.name().startswith('unit-'):
            if net.isActive():
                net.destroy()
            net.undefine()
    pool = test_driver.storagePoolLookupByName('default-pool')
    for volume in pool.listAllVolumes():
        if volume.name().startswith('unit-'):
            volume.delete(0)


def counted(libvirt_calls, run, **args):
    libvirt_calls.reset()
    result = run(**args)
    assert not result.get('failed'), result
    return list(libvirt_calls.calls)


def test_domain_asks_for_capabilities_only_when_the_task_needs_them(conn, module_runner, libvirt_calls):
    run = module_runner(kvm_domain)
    created = counted(libvirt_calls, run, **GUEST)
    assert [c for c in created if 'Capabilities' in c] == ['conn.getDomainCapabilities']
    # a no-op converge, in check mode and for real, a power change and the removal ask nothing
    for task in (given(GUEST, check=True), GUEST, given(GUEST, state='running'), dict(name=GUEST['name'], state='paused'),
                 dict(name=GUEST['name'], state='destroyed'), dict(name=GUEST['name'], state='absent')):
        calls = counted(libvirt_calls, run, **task)
        assert libvirt_calls.capability_queries() == [], (task, calls)


def test_domain_no_op_converge_stays_small(conn, module_runner, libvirt_calls):
    run = module_runner(kvm_domain)
    run(**GUEST)
    calls = counted(libvirt_calls, run, **GUEST)
    # a running guest: lookup, persistence, its definition and its live XML once each, power state, autostart,
    # addresses; no listing of every guest
    assert libvirt_calls.count('listAllDomains') == 0 and len(calls) <= 12, '\n'.join(calls)
    assert libvirt_calls.count('XMLDesc') == 2, calls


def test_domain_changed_values_are_checked_against_the_host_once(conn, module_runner, libvirt_calls):
    run = module_runner(kvm_domain)
    run(**GUEST)
    changed = given(GUEST, vcpus=2, max_vcpus=2, firmware='bios', cpu=dict(mode='custom', model='qemu64'))
    counted(libvirt_calls, run, **changed)
    assert libvirt_calls.capability_queries() == ['conn.getDomainCapabilities']
    counted(libvirt_calls, run, **given(changed, machine='pc'))   # an alias needs the machine list
    assert libvirt_calls.capability_queries() == ['conn.getCapabilities']
    counted(libvirt_calls, run, **given(changed, machine='pc-i440fx-7.2'))   # as libvirt keeps it: nothing to ask
    assert libvirt_calls.capability_queries() == []
    counted(libvirt_calls, run, **changed)
    assert libvirt_calls.capability_queries() == []


def test_a_new_machine_type_needs_one_machine_list(conn, module_runner, libvirt_calls):
    run = module_runner(kvm_domain)
    counted(libvirt_calls, run, **given(GUEST, machine='pc', vcpus=2))
    assert sorted(libvirt_calls.capability_queries()) == ['conn.getCapabilities', 'conn.getDomainCapabilities']


NET = dict(name='unit-calls', bridge='unitcalls0', ipv4=dict(address='10.51.0.1', prefix=24))


@pytest.mark.parametrize('module, task, cleanup', [
    (kvm_network, NET, dict(name='unit-calls', state='absent')),
    (kvm_pool, dict(name='unit-calls', type='dir', path='{tmp}', build=True), dict(name='unit-calls', state='absent')),
    (kvm_volume, dict(pool='default-pool', name='unit-calls.qcow2', capacity='16M'),
     dict(pool='default-pool', name='unit-calls.qcow2', state='absent')),
])
def test_other_modules_never_ask_for_capabilities(conn, module_runner, libvirt_calls, module, task, cleanup, tmp_path):
    run = module_runner(module)
    task = dict((k, v.format(tmp=tmp_path / 'pool') if isinstance(v, str) else v) for k, v in task.items())
    for args in (given(task, check=True), task, task, cleanup, cleanup):
        counted(libvirt_calls, run, **args)
        assert libvirt_calls.capability_queries() == [], args


def test_host_asks_each_capability_once(conn, module_runner, libvirt_calls):
    counted(libvirt_calls, module_runner(kvm_host))
    assert libvirt_calls.count('getCapabilities') == 1
    # one domain capability query per domain type the host offers (kvm and qemu)
    assert libvirt_calls.count('getDomainCapabilities') == 2


SNAPSHOT_GUEST = """<domain type='test'><name>unit-calls-snap</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type></os><devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
<source file='/guest/unit-calls-snap.qcow2'/><target dev='vda' bus='virtio'/></disk></devices></domain>"""


def test_snapshots_never_ask_for_capabilities(conn, module_runner, libvirt_calls):
    conn.defineXML(SNAPSHOT_GUEST).create()
    run = module_runner(kvm_snapshot)
    snap = dict(domain='unit-calls-snap', name='before-upgrade')
    for args in (given(snap, check=True), snap, given(snap, state='current'), given(snap, state='absent')):
        counted(libvirt_calls, run, **args)
        assert libvirt_calls.capability_queries() == [], args
    conn.lookupByName('unit-calls-snap').destroy()


@pytest.mark.parametrize('module', [kvm_domain_info, kvm_network_info, kvm_pool_info, kvm_volume_info])
def test_info_modules_never_ask_for_capabilities(conn, module_runner, libvirt_calls, module):
    args = dict(pool='default-pool') if module is kvm_volume_info else {}
    counted(libvirt_calls, module_runner(module), **args)
    assert libvirt_calls.capability_queries() == []


# a second test-driver host: its own instance of the driver, holding one running guest
OTHER_HOST = """<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>1</threads><active>2</active>
<mhz>2000</mhz><model>x86_64</model></cpu><memory>8388608</memory>
<domain type='test'><name>unit-calls-moved</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type></os></domain></node>"""


def test_migrate_asks_each_host_for_its_identity_once(conn, module_runner, libvirt_calls, tmp_path):
    """The host UUIDs (a guest must never be 'migrated' onto its own host) are the one capability a migration
    needs: one getCapabilities per host and run, whatever the task; never the domain capabilities."""
    other = tmp_path / 'other-host.xml'
    other.write_text(OTHER_HOST)
    dest_uri = 'test://' + str(other)
    conn.defineXML(SNAPSHOT_GUEST.replace('unit-calls-snap', 'unit-calls-here')).create()
    run = module_runner(kvm_migrate)
    for task in (dict(name='unit-calls-moved', dest_uri=dest_uri, check=True),     # already there: ok
                 dict(name='unit-calls-moved', dest_uri=dest_uri),
                 dict(name='unit-calls-here', dest_uri=dest_uri, check=True)):    # runs here: the pre-checks
        libvirt_calls.reset()
        result = run(**task)
        assert libvirt_calls.capability_queries() == ['conn.getCapabilities'] * 2, (task, libvirt_calls.calls)
        assert libvirt_calls.count('migrate3') == libvirt_calls.count('migrateToURI3') == 0
    # the guest fails the pre-checks (the test driver's other host has no free memory, another /guest), nothing moved
    assert result['failed'] and result['msg'].startswith("migrate domain 'unit-calls-here' failed: memory:"), result
    assert set(result['precheck']) >= set(['destination', 'guest', 'clash', 'cpu', 'memory', 'storage', 'networks'])
    assert not run(name='unit-calls-moved', dest_uri=dest_uri)['changed']


def test_bridge_opens_no_libvirt_connection_unless_guests_are_named(module_runner, libvirt_calls):
    """kvm_bridge works over netlink; libvirt is asked only to name the guests on a bridge it refuses to touch.
    Check mode and an absent bridge read links only (nothing on this machine changes)."""
    run = module_runner(kvm_bridge)
    for task in (dict(name='unitcalls0', check=True), dict(name='unitcalls0', state='absent'),
                 dict(name='unitcalls0', state='absent', check=True)):
        counted(libvirt_calls, run, **task)
        assert libvirt_calls.calls == [], task


def test_a_batch_of_networks_opens_one_connection_and_never_asks_for_capabilities(conn, module_runner, libvirt_calls):
    """kvm_domains has its own call counts (test_kvm_domains.py); its sibling for networks asks no capability and
    lists no networks, whether it creates the list or finds it converged."""
    items = [dict(name='unit-calls-%d' % index, bridge='unitcalls%d' % index,
                  ipv4=dict(address='10.52.%d.1' % index, prefix=24)) for index in range(3)]
    run = module_runner(kvm_networks)
    for args in (dict(networks=items, check=True), dict(networks=items), dict(networks=items)):
        counted(libvirt_calls, run, **args)
        assert libvirt_calls.capability_queries() == [], args
    assert libvirt_calls.count('listAllNetworks') == 0, libvirt_calls.calls
    run(networks=[dict(name=item['name'], state='absent') for item in items])
