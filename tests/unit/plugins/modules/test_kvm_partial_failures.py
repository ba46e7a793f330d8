"""Issue 18, defect 3, for kvm_snapshot, kvm_migrate and kvm_bridge: a step that fails after others were done is
told through the engine's partial failure (steps done, the failed step, changed truthful, the state left). In-process
on libvirt's test driver and a netlink stand-in, with a fault injected after the first step ran: no guests, no host."""

import pytest

libvirt = pytest.importorskip('libvirt')

from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import bridge as _bridge  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import rollback as _rollback  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge.deps import NetlinkError  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._bridge.netlink import State  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._migrate import job as _job  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._migrate import migrate as _migrate  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.modules import kvm_bridge, kvm_migrate, kvm_snapshot  # noqa: E402

GUEST = """<domain type='test'><name>%s</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type></os><devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/guest/%s.qcow2'/>
<target dev='vda' bus='virtio'/></disk></devices></domain>"""


def failed(result):
    assert result['rc'] == 1 and result.get('failed'), result
    assert 'Traceback' not in result['msg'] and 'exception' not in result, result
    return result['msg']


# ---- kvm_snapshot: a new snapshot taken, then pruning fails half-way

@pytest.fixture
def snap_guest(test_driver, monkeypatch):
    from ansible_collections.kvmops.kvm.plugins.module_utils._snapshot import since
    monkeypatch.setattr(libvirt.virDomain, 'blockStats', lambda dom, disk: (0, 0, 0, 0, 0))
    monkeypatch.setattr(since, '_mtime', lambda conn, path, is_local: '1700000000')
    dom = test_driver.defineXML(GUEST % ('unit-pf-g', 'unit-pf-g'))
    dom.create()
    yield dom
    if dom.isActive():
        dom.destroy()
    dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)


def test_snapshot_prune_failing_after_the_create_is_told(snap_guest, module_runner, monkeypatch):
    run = module_runner(kvm_snapshot)
    for name in ('s1', 's2'):
        assert run(domain='unit-pf-g', name=name)['changed'] is True
    real_delete = libvirt.virDomainSnapshot.delete

    def delete(snap, flags=0):
        if snap.getName() == 's2':
            raise libvirt.libvirtError('refused for the test')
        return real_delete(snap, flags)
    monkeypatch.setattr(libvirt.virDomainSnapshot, 'delete', delete)
    result = run(domain='unit-pf-g', name='s3', keep=1)
    msg = failed(result)
    assert result['changed'] is True
    assert [a.split(':')[0] for a in result['actions']] == ["create snapshot 's3'", "delete snapshot 's1'"]
    assert result['failed_action'].startswith("delete snapshot 's2'")
    assert result['state_left'] == {'domain unit-pf-g': 'running, current snapshot s3',
                                    'snapshot s3 of domain unit-pf-g': 'present',
                                    'snapshot s2 of domain unit-pf-g': 'present'}
    assert 'done before it' in msg and 'refused for the test' in msg
    assert sorted(s.getName() for s in snap_guest.listAllSnapshots()) == ['s2', 's3']


def test_snapshot_first_step_failing_changed_nothing(snap_guest, module_runner, monkeypatch):
    def refuse(dom, xml, flags=0):
        raise libvirt.libvirtError('no room for the test')
    monkeypatch.setattr(libvirt.virDomain, 'snapshotCreateXML', refuse)
    result = module_runner(kvm_snapshot)(domain='unit-pf-g', name='s1')
    assert 'nothing was changed before it' in failed(result)
    assert result['changed'] is False and result['actions'] == []
    assert result['state_left'] == {'domain unit-pf-g': 'running, current snapshot none',
                                    'snapshot s1 of domain unit-pf-g': 'absent'}


# ---- kvm_migrate: a pool made on the destination, then the migration fails (or fails after the guest moved)

@pytest.fixture
def two_hosts(test_driver, tmp_path):
    """The test driver as the source (its guest 'test' runs), a second test-driver host from a file as the
    destination; the pre-checks (which need two real hypervisors) are replaced by a plan of the real steps."""
    guest = test_driver.lookupByName('test')
    if not guest.isActive():   # other tests of the process may have stopped it
        guest.create()
    node = tmp_path / 'dest.xml'
    node.write_text('<node></node>')
    return 'test://%s' % node


def _plan_with_pool(seen):
    def plan(self, plan):
        seen['migration'] = self
        self.source = self.module.connection(self.source_uri)
        self.dest = self.module.connection(self.dest_uri)
        self.source_host, self.dest_host, self.location = 'src', 'dst', 'src'
        pool = self.source.storagePoolLookupByName('default-pool')
        self._plan_pool(plan, '/var/tmp/unit-pf-pool', 'create', pool)
        dom = self.source.lookupByName(self.name)
        plan.add('migrate', 'domain', self.name, lambda: self._migrate(dom, True), "from 'src' to 'dst'")
    return plan


def _job_ending(outcome_fields):
    class Job(object):
        def __init__(self, *args, **kwargs):
            pass

        def run(self):
            outcome = _job.Outcome()
            for key, value in outcome_fields.items():
                setattr(outcome, key, value)
            return outcome
    return Job


def test_migration_failing_after_a_pool_was_made_is_told(two_hosts, module_runner, monkeypatch):
    monkeypatch.setattr(_migrate.Migration, 'plan', _plan_with_pool({}))
    monkeypatch.setattr(_job, 'MigrationJob', _job_ending(dict(error='the destination hung up')))
    monkeypatch.setattr(libvirt.virStoragePool, 'build', lambda pool, flags=0: 0)
    result = module_runner(kvm_migrate)(name='test', dest_uri=two_hosts, insecure_transport=True)
    msg = failed(result)
    assert result['changed'] is True
    assert len(result['actions']) == 1 and result['actions'][0].startswith("create pool '")
    assert result['failed_action'].startswith("migrate domain 'test'")
    assert result['state_left'] == {"domain test on 'src'": 'running, defined', "domain test on 'dst'": 'absent'}
    assert 'the destination hung up' in msg and "still runs on 'src'" in msg and 'done before it' in msg
    assert result['guest_running_on_source'] is True


def test_migration_failing_after_the_guest_moved_says_changed(two_hosts, module_runner, monkeypatch):
    seen = {}
    monkeypatch.setattr(_migrate.Migration, 'plan', _plan_with_pool(seen))
    monkeypatch.setattr(libvirt.virStoragePool, 'build', lambda pool, flags=0: 0)

    def moved():   # the file-backed test host lives as long as the module's own connection to it
        migration = seen['migration']
        dom = migration.dest.defineXML(migration.source.lookupByName('test').XMLDesc(0))
        dom.create()
        return dict(completed=True, destination_domain=dom)
    monkeypatch.setattr(_job, 'MigrationJob', lambda *a, **k: type('J', (), {'run': lambda self: _job_ending(
        moved())().run()})())

    def refuse(dom, flags=0):
        raise libvirt.libvirtError('autostart refused for the test')
    monkeypatch.setattr(libvirt.virDomain, 'setAutostart', refuse)
    monkeypatch.setattr(libvirt.virDomain, 'autostart', lambda dom: 1)
    result = module_runner(kvm_migrate)(name='test', dest_uri=two_hosts, insecure_transport=True)
    msg = failed(result)
    assert result['changed'] is True and result['location'] == 'dst'
    assert "the guest runs on 'dst', but finishing the move failed" in msg
    assert result['state_left']["domain test on 'dst'"] == 'running, defined'


def test_migration_pool_half_made_is_removed_and_nothing_changed(two_hosts, module_runner, monkeypatch):
    monkeypatch.setattr(_migrate.Migration, 'plan', _plan_with_pool({}))

    def refuse(pool, flags=0):
        raise libvirt.libvirtError('cannot build for the test')
    monkeypatch.setattr(libvirt.virStoragePool, 'build', refuse)
    result = module_runner(kvm_migrate)(name='test', dest_uri=two_hosts, insecure_transport=True)
    failed(result)
    assert result['changed'] is False and result['actions'] == []
    pool = result['failed_action'].split("'")[1]
    assert result['state_left']["pool %s on 'dst'" % pool] == 'absent'


# ---- kvm_bridge: netlink steps, the second one failing; and the rollback's verdict

class FakeNetlink(object):
    """The netlink calls a simple bridge plan makes, on an in-memory namespace; `fail` names a call that fails."""

    def __init__(self, fail=None):
        self.links = {'nic0': dict(name='nic0', index=2, kind='veth', master=None, mtu=1500, mac='52:54:00:00:00:01',
                                   up=True, carrier=True)}
        self.addresses = {}
        self.fail = fail

    def read(self):
        return State(dict((k, dict(v)) for k, v in self.links.items()), dict(self.addresses), [])

    def _maybe_fail(self, call):
        if call == self.fail:
            raise NetlinkError(1, 'Operation not permitted')

    def create_bridge(self, name, stp=None, forward_delay=None, address=None):
        self._maybe_fail('create_bridge')
        self.links[name] = dict(name=name, index=9, kind='bridge', master=None, mtu=1500, mac=address or '52:54:00:00:00:09',
                                up=False, carrier=False, bridge=dict(stp=bool(stp), forward_delay=forward_delay or 15))

    def set(self, name, **keywords):
        self._maybe_fail('set')
        if keywords.get('state'):
            self.links[name]['up'] = keywords['state'] == 'up'
        if 'master' in keywords:
            self.links[name]['master'] = keywords['master']
        if 'mtu' in keywords:
            self.links[name]['mtu'] = keywords['mtu']
        if 'address' in keywords:
            self.links[name]['mac'] = keywords['address']

    def add_address(self, name, address, lifetime=None):   # pylint: disable=unused-argument
        self._maybe_fail('add_address')
        self.addresses.setdefault(name, []).append(address)


def _bridge_on(monkeypatch, netlink):
    monkeypatch.setattr(_bridge.Bridge, 'nl', lambda self: netlink)


def test_bridge_step_failing_after_the_create_is_told(module_runner, monkeypatch):
    netlink = FakeNetlink(fail='add_address')
    _bridge_on(monkeypatch, netlink)
    result = module_runner(kvm_bridge)(name='unit-pfbr', persist='none',
                                       ipv4=dict(addresses=['10.99.0.1/24']))
    msg = failed(result)
    assert result['changed'] is True
    assert "create bridge 'unit-pfbr'" in result['actions'] and "bring up bridge 'unit-pfbr'" in result['actions']
    assert result['failed_action'] == "add address to bridge 'unit-pfbr': 10.99.0.1/24"
    assert result['state_left'] == {'bridge unit-pfbr': 'up, no address'}
    assert 'Operation not permitted' in msg and 'done before it' in msg


def test_bridge_first_step_failing_changed_nothing(module_runner, monkeypatch):
    _bridge_on(monkeypatch, FakeNetlink(fail='create_bridge'))
    result = module_runner(kvm_bridge)(name='unit-pfbr', persist='none')
    assert 'nothing was changed before it' in failed(result)
    assert result['changed'] is False and result['actions'] == []
    assert result['state_left'] == {'bridge unit-pfbr': 'absent'}


@pytest.mark.parametrize('restored, changed', [(['deleted unit-pfbr'], False),
                                               (['deleted unit-pfbr failed: busy'], True)])
def test_bridge_rolled_back_after_all_steps_is_told(module_runner, monkeypatch, restored, changed):
    netlink = FakeNetlink()
    _bridge_on(monkeypatch, netlink)

    def apply_and_verify(resource, plan):
        for action in plan.actions:
            action.apply()
        if not changed:
            netlink.links.pop('unit-pfbr')
        resource.rolled_back = True
        raise KvmError('apply', 'bridge', resource.name, 'connectivity lost after the change: gateway 10.99.0.254 '
                       'did not answer within 3s; rolled back: %s' % restored[0], rolled_back=True,
                       lost=['gateway 10.99.0.254'], restored=restored, done=[a.describe() for a in plan.actions])
    monkeypatch.setattr(_rollback, 'apply_and_verify', apply_and_verify)
    result = module_runner(kvm_bridge)(name='unit-pfbr', persist='none', rollback=dict(timeout=3))
    failed(result)
    assert result['changed'] is changed and result['rolled_back'] is True
    assert result['actions'][0] == "create bridge 'unit-pfbr'" and result['actions'][-1] == "bring up bridge 'unit-pfbr'"
    assert result['failed_action'] == "verify connectivity after bridge 'unit-pfbr'"
    assert result['state_left']['bridge unit-pfbr'].endswith('(rolled back to its state before the run)')
    assert 'done' not in result
