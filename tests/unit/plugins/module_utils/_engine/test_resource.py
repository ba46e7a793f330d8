"""The Resource contract and the batch path: many objects of a kind, each with its own plan, over one connection."""

import json

import pytest

libvirt = pytest.importorskip('libvirt')

from ansible.module_utils.testing import patch_module_args  # noqa: E402

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.module import KvmModule  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import ParameterError  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.resource import Resource  # noqa: E402

XML = "<network><name>%s</name><bridge name='%s'/></network>"


class Net(Resource):
    """A minimal network resource: defined, with autostart as asked."""

    KIND = 'network'

    def validate(self):
        if not self.name.startswith('unit-'):
            raise ParameterError('name', "'%s' must start with unit-" % self.name)
        self.net = self.lookup(self.conn.networkLookupByName, libvirt.VIR_ERR_NO_NETWORK)

    def plan(self, plan):
        if self.net is None:
            plan.difference('state', 'absent', 'present')
            plan.add('define', self.KIND, self.name, self._define)
            now = False
        else:
            now = self.net.autostart()
        self.autostart = self.plan_autostart(plan, lambda: self.net, now, self.wanted_autostart())

    def _define(self):
        self.net = self.conn.networkDefineXML(XML % (self.name, self.params['bridge']))

    def result(self):
        return dict(autostart=self.autostart, connection=id(self.module.conn))


def run_many(capsys, items, check=False):
    args = dict(uri='test:///default', _ansible_check_mode=check, _ansible_diff=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            KvmModule({}).run_many(Net, items, results_key='networks')
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def items(test_driver):
    yield [dict(name='unit-many1', bridge='unitmany1', autostart=True),
           dict(name='unit-many2', bridge='unitmany2', autostart=None, state='active')]
    for name in ('unit-many1', 'unit-many2'):
        try:
            test_driver.networkLookupByName(name).undefine()
        except libvirt.libvirtError:
            pass


def test_two_resources_each_with_its_own_plan_over_one_connection(capsys, items):
    predicted = run_many(capsys, items, check=True)
    applied = run_many(capsys, items)
    for result in (predicted, applied):
        assert result['changed'] is True and sorted(result['networks']) == ['unit-many1', 'unit-many2']
        assert result['networks']['unit-many1']['actions'] == [
            "define network 'unit-many1'", "enable autostart on network 'unit-many1'"]
        assert result['networks']['unit-many1']['diff'] == {
            'before': {'state': 'absent', 'autostart': False}, 'after': {'state': 'present', 'autostart': True}}
        assert result['networks']['unit-many2']['autostart'] is True   # `active` starts at boot by default
    assert len(set(r['connection'] for r in applied['networks'].values())) == 1
    again = run_many(capsys, items)
    assert again['changed'] is False
    assert [r['actions'] for r in again['networks'].values()] == [[], []]


def test_every_item_is_validated_before_any_is_touched(capsys, items, test_driver):
    bad = items + [dict(name='other', bridge='x')]
    result = run_many(capsys, bad)
    # the item is named by its place in the list
    assert result['failed'] and result['parameter'] == 'networks[2].name' and result['networks'] == {}
    assert 'unit-many1' not in [n.name() for n in test_driver.listAllNetworks()]


def test_a_name_given_twice_is_refused(capsys, items):
    result = run_many(capsys, items + [items[0]])
    assert result['failed'] and 'given more than once: unit-many1' in result['msg']
