"""The real resources under run_many: each object reads only its own params (the module's hold just the uri)."""

import json

import pytest

libvirt = pytest.importorskip('libvirt')

from ansible.module_utils.testing import patch_module_args  # noqa: E402

from ansible_collections.kvmops.kvm.plugins.modules import kvm_domain, kvm_network, kvm_pool  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._domain.domain import Domain  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.module import KvmModule  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._network.network import Network  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._storage.pool import Pool  # noqa: E402


def defaults(module):
    return dict((key, spec.get('default')) for key, spec in module.argument_spec().items())


def run_many(capsys, resource_class, items, check=False):
    with patch_module_args(dict(uri='test:///default', _ansible_check_mode=check, _ansible_diff=True)):
        with pytest.raises(SystemExit):
            KvmModule({}).run_many(resource_class, items)
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def conn(test_driver):
    yield test_driver
    for net in test_driver.listAllNetworks():
        if net.name().startswith('unit-'):
            if net.isActive():
                net.destroy()
            net.undefine()
    for pool in test_driver.listAllStoragePools():
        if pool.name().startswith('unit-'):
            if pool.isActive():
                pool.destroy()
            pool.undefine()


def test_networks_each_with_their_own_options(conn, capsys):
    items = [dict(defaults(kvm_network), name='unit-b1', bridge='unitb1',
                  ipv4=dict(address='10.61.0.1', prefix=24)),
             dict(defaults(kvm_network), name='unit-b2', bridge='unitb2', mode='isolated',
                  state='inactive', autostart=False)]
    predicted = run_many(capsys, Network, items, check=True)
    applied = run_many(capsys, Network, items)
    for result in (predicted, applied):
        assert result['results']['unit-b1']['actions'] == [
            "define network 'unit-b1'", "start network 'unit-b1'", "enable autostart on network 'unit-b1'"]
        assert result['results']['unit-b2']['actions'] == ["define network 'unit-b2'"]
    assert applied['results']['unit-b1']['network']['active'] is True
    assert applied['results']['unit-b2']['network']['active'] is False
    assert conn.networkLookupByName('unit-b2').isActive() == 0
    assert run_many(capsys, Network, items)['changed'] is False


def test_pools_each_with_their_own_options(conn, capsys):
    items = [dict(defaults(kvm_pool), name='unit-p1', path='/unit-p1', state='inactive'),
             dict(defaults(kvm_pool), name='unit-p2', path='/unit-p2', state='inactive', mode='0750')]
    applied = run_many(capsys, Pool, items)
    assert applied['results']['unit-p2']['diff']['after']['mode'] == '0750'
    assert 'mode' not in applied['results']['unit-p1']['diff']['after']
    assert run_many(capsys, Pool, items, check=True)['changed'] is False


def test_guests_each_with_their_own_options(conn, capsys):
    # the test driver offers no domain capabilities: its predefined guest 'test', left as it is, needs none
    item = dict(defaults(kvm_domain), name='test', state='running')
    guest = conn.lookupByName('test')   # other tests of the session may have stopped or paused it
    if not guest.isActive():
        guest.create()
    if guest.state()[0] == libvirt.VIR_DOMAIN_PAUSED:
        guest.resume()
    result = run_many(capsys, Domain, [item], check=True)
    assert result['changed'] is False and result['results']['test']['domain']['state'] == 'running'
    paused = run_many(capsys, Domain, [dict(item, state='paused')], check=True)
    assert paused['results']['test']['actions'] == ["pause domain 'test'"]


class _Meeting(object):
    """A resource whose one action waits for the other objects' actions to run at the same time (a barrier:
    it passes only when `parallel` lanes apply side by side), and records the lane that applied it."""

    KIND = 'item'
    uses_events = False
    lane = None

    def __init__(self, module, params):
        self.module, self.params, self.name = module, params, params['name']
        self.barrier = params['barrier']

    def validate(self):
        if self.name == 'bad':
            from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError
            raise ParameterError('name', 'refused')

    def plan(self, plan):
        if self.name == 'refused':
            from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError
            raise KvmError('meet', 'item', self.name, 'refused while planning')
        plan.difference('met', False, True)
        plan.add('meet', 'item', self.name, self.meet)

    def meet(self):
        self.barrier.wait(timeout=30)
        if self.name == 'fails':
            raise libvirt.libvirtError('no luck in lane %s' % self.lane)

    def apply(self, plan):
        plan.apply()

    def result(self):
        return dict(lane=self.lane)


def test_parallel_applies_side_by_side_in_lanes_and_every_failure_stays_its_own(capsys):
    import threading
    barrier = threading.Barrier(3)
    items = [dict(name=name, barrier=barrier) for name in ('a', 'b', 'fails', 'refused')]
    with patch_module_args(dict(uri='test:///default', _ansible_check_mode=False, _ansible_diff=True)):
        with pytest.raises(SystemExit):
            KvmModule({}).run_many(_Meeting, items, keep_going=True, parallel=3)
    result = json.loads(capsys.readouterr().out)
    assert list(result['results']) == ['a', 'b', 'fails', 'refused']   # keyed in list order
    assert result['failed_results'] == ['fails', 'refused']
    assert all(result['results'][n]['lane'] in (0, 1, 2) for n in ('a', 'b'))   # the barrier: 3 lanes at once
    assert 'no luck in lane' in result['results']['fails']['msg']
    assert 'refused while planning' in result['results']['refused']['msg']
    assert result['results']['refused']['actions'] == [] and result['results']['a']['changed'] is True


def test_parallel_in_check_mode_plans_only(capsys):
    import threading
    items = [dict(name=name, barrier=threading.Barrier(1)) for name in ('a', 'b')]
    with patch_module_args(dict(uri='test:///default', _ansible_check_mode=True, _ansible_diff=True)):
        with pytest.raises(SystemExit):
            KvmModule({}).run_many(_Meeting, items, parallel=2)
    result = json.loads(capsys.readouterr().out)
    assert result['changed'] is True and all(r['lane'] is None for r in result['results'].values())
