"""kvm_domains in-process against libvirt's test driver: many guests in one run, each as kvm_domain converges it.

What the test driver cannot serve (see test_kvm_domain.py) is proven for kvm_domain itself; the batch adds no
device handling of its own. tests/integration/domain/test_kvm_domains_batch.py runs it on qemu:///system."""

import re

import pytest

libvirt = pytest.importorskip('libvirt')

from ansible_collections.kvmops.kvm.plugins.modules import kvm_domains  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._domain.domain import Domain  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError  # noqa: E402

PREFIX = 'kvmtbn-u'


def guests(count, **options):
    return [dict(dict(name='%s%d' % (PREFIX, index), type='qemu', memory=128, vcpus=1), **options)
            for index in range(count)]


@pytest.fixture
def conn(test_driver, libvirt_calls):
    """The test driver, its kvmtbn-u guests removed afterwards; capabilities answered as a real host does."""
    yield test_driver
    for dom in test_driver.listAllDomains():
        if dom.name().startswith(PREFIX):
            if dom.isActive():
                dom.destroy()
            dom.undefine()


@pytest.fixture
def run(module_runner):
    return module_runner(kvm_domains)


def names(conn):
    return sorted(dom.name() for dom in conn.listAllDomains() if dom.name().startswith(PREFIX))


def test_a_batch_follows_the_contract_guest_by_guest(conn, run):
    items = guests(3) + [dict(name=PREFIX + 'off', type='qemu', memory='256MiB', vcpus=2, state='present')]
    check = run(check=True, domains=items)
    assert check['changed'] is True and names(conn) == []
    applied = run(domains=items)
    assert applied['changed'] is True and sorted(applied['domains']) == sorted(i['name'] for i in items)
    for item in items:
        predicted, done = check['domains'][item['name']], applied['domains'][item['name']]
        assert predicted['actions'] == done['actions'] and done['changed'] is True
        assert predicted['diff'] == done['diff']
    assert applied['domains'][PREFIX + 'off']['domain']['state'] == 'shutoff'
    assert applied['domains'][PREFIX + '0']['domain']['state'] == 'running'
    for again in (run(check=True, domains=items), run(domains=items)):
        assert again['changed'] is False and all(not r['changed'] and r['actions'] == [] for r in again['domains'].values())
    # the driver holds what each item asked for
    off = conn.lookupByName(PREFIX + 'off')
    assert off.isActive() == 0 and off.maxMemory() == 256 * 1024 and off.vcpusFlags(0) == 2


def test_only_the_guest_that_differs_changes(conn, run):
    items = guests(4)
    run(domains=items)
    items[2]['memory'] = 96
    result = run(domains=items)
    assert result['changed'] is True
    assert [name for name, r in sorted(result['domains'].items()) if r['changed']] == [PREFIX + '2']
    assert result['domains'][PREFIX + '2']['diff'] == {'before': {'memory': 128}, 'after': {'memory': 96}}
    assert conn.lookupByName(PREFIX + '2').info()[2] == 96 * 1024


def test_a_no_op_batch_opens_one_connection_and_asks_no_capabilities(conn, run, opened, libvirt_calls):
    items = guests(5)
    run(domains=items)
    assert opened == ['test:///default']
    del opened[:]
    libvirt_calls.reset()
    result = run(domains=items)
    assert result['changed'] is False and opened == ['test:///default']
    assert libvirt_calls.capability_queries() == [] and libvirt_calls.count('listAllDomains') == 0
    # per guest as kvm_domain alone: its definition and its live XML once each
    assert libvirt_calls.count('XMLDesc') == 2 * len(items), libvirt_calls.calls
    assert len(libvirt_calls.calls) <= 12 * len(items)


def test_creating_a_batch_asks_capabilities_once(conn, run, libvirt_calls):
    libvirt_calls.reset()
    run(domains=guests(4))
    assert libvirt_calls.capability_queries() == ['conn.getDomainCapabilities']


def test_bad_input_names_the_item_and_changes_nothing(conn, run):
    items = guests(3)
    items[1]['memory'] = 'lots'
    result = run(domains=items)
    assert result['failed'] and result['parameter'] == 'domains[1].memory'
    assert result['msg'].startswith("Invalid parameter 'domains[1].memory': (domain %s1) " % PREFIX), result['msg']
    assert names(conn) == []


def test_a_bad_item_found_against_the_host_changes_no_other(conn, run):
    items = guests(2) + [dict(name=PREFIX + 'x', type='qemu', interfaces=[dict(network='kvmtbn-missing')])]
    result = run(domains=items)
    assert result['failed'] and result['parameter'].startswith('domains[2].interfaces'), result
    assert 'kvmtbn-missing' in result['msg'] and names(conn) == []


def test_ansible_checks_each_item(conn, run):
    result = run(domains=[dict(name=PREFIX + 'a', state='bogus')])
    assert result['failed'] and 'bogus' in result['msg'] and 'domains' in result['msg']
    result = run(domains=[dict(name=PREFIX + 'a', xml='<domain/>', memory=128)])
    assert result['failed'] and 'xml' in result['msg'] and 'memory' in result['msg']
    result = run(domains=[dict(name=PREFIX + 'a', vcpus='two')])
    assert result['failed'] and 'domains.vcpus' in result['msg'], result['msg']   # Ansible names no index here


def test_a_name_given_twice_is_refused(conn, run):
    result = run(domains=guests(2) + guests(1))
    assert result['failed'] and result['parameter'] == 'domains' and PREFIX + '0' in result['msg']
    assert names(conn) == []


def test_a_failed_guest_does_not_stop_the_others(conn, run, monkeypatch):
    planned = Domain.plan

    def plan(self, plan):
        if self.name == PREFIX + '1':
            raise KvmError('define', 'domain', self.name, 'the disk is on fire')
        return planned(self, plan)
    monkeypatch.setattr(Domain, 'plan', plan)
    result = run(domains=guests(3))
    assert result['failed'] and result['failed_domains'] == [PREFIX + '1']
    assert result['msg'] == "1 of 3 domains failed: %s1: define domain '%s1' failed: the disk is on fire" % (PREFIX, PREFIX)
    assert result['changed'] is True and result['domains'][PREFIX + '1']['failed'] is True
    assert result['domains'][PREFIX + '1']['changed'] is False
    assert names(conn) == [PREFIX + '0', PREFIX + '2']


def test_secrets_of_an_item_stay_out_of_the_result(conn, run):
    item = dict(guests(1)[0], graphics=dict(type='vnc', password='s3cr3tvn'))
    result = run(domains=[item])
    assert result.get('changed') is True and 's3cr3tvn' not in repr(result), result


def as_items(text):
    """kvm_domain's option documentation as kvm_domains documents its items: option references under domains[]."""
    text = re.sub(r'O\(([^)]+)\)', lambda m: 'O(domains[].%s)' % m.group(1), text)
    return re.sub(r'RV\(([^)]+)\)', lambda m: 'C(%s) in RV(domains)' % m.group(1), text)


def test_the_items_are_documented_as_kvm_domain_options():
    import yaml
    from ansible_collections.kvmops.kvm.plugins.modules import kvm_domain
    documented = yaml.safe_load(kvm_domains.DOCUMENTATION)['options']['domains']['suboptions']
    assert documented.pop('hypervisor')['description']   # the batch's own: which of its hypervisors
    assert documented == yaml.safe_load(as_items(kvm_domain.DOCUMENTATION))['options']
