"""kvm_domains with `hypervisors`: the guests of many hypervisors from one process, against libvirt's test driver.

Each test:///<file> connection is a test driver of its own (its state ends with the connection), so the second
hypervisor's state is read from the results; the first is the shared test:///default, read back after the run.
tests/integration/domain/test_kvm_domains_fleet.py runs the whole contract on lab hosts over ssh."""

import pytest

libvirt = pytest.importorskip('libvirt')

from ansible_collections.kvmops.kvm.plugins.modules import kvm_domains  # noqa: E402

PREFIX = 'kvmtbn-f'
UNREACHABLE = 'qemu+tcp://127.0.0.1:9/system'   # discard port: nothing listens, the connection is refused


def guest(name, **options):
    return dict(dict(name=PREFIX + name, type='qemu', memory=128, vcpus=1, state='present'), **options)


@pytest.fixture
def conn(test_driver, libvirt_calls):
    yield test_driver
    for dom in test_driver.listAllDomains():
        if dom.name().startswith(PREFIX):
            dom.undefine()


@pytest.fixture
def second(tmp_path):
    path = tmp_path / 'host2.xml'
    path.write_text('<node/>')
    return 'test://%s' % path


@pytest.fixture
def run(module_runner):
    return module_runner(kvm_domains)


def names(conn):
    return sorted(dom.name() for dom in conn.listAllDomains() if dom.name().startswith(PREFIX))


def test_each_guest_goes_where_it_belongs_and_results_are_keyed_per_hypervisor(conn, run, second, opened):
    fleet = dict(h1='test:///default', h2=second)
    items = [guest('all'), guest('one', hypervisor='h1'), guest('two', hypervisor='h2', memory=256)]
    check = run(check=True, hypervisors=fleet, domains=items)
    assert check['rc'] == 0 and check['changed'] and names(conn) == []
    assert list(check['hypervisors']) == ['h1', 'h2']
    assert sorted(check['hypervisors']['h1']['domains']) == [PREFIX + 'all', PREFIX + 'one']
    assert sorted(check['hypervisors']['h2']['domains']) == [PREFIX + 'all', PREFIX + 'two']
    assert check['hypervisors']['h2']['uri'] == second
    assert 'domains' not in check
    assert all(action.split(': ', 1)[0] in ('h1', 'h2') for action in check['actions'])
    assert sorted(check['diff']['after']) == ['h1', 'h2']

    done = run(hypervisors=fleet, domains=items)
    assert done['rc'] == 0 and done['changed']
    assert done['actions'] == check['actions']   # check mode said what the run did
    assert names(conn) == [PREFIX + 'all', PREFIX + 'one']
    assert done['hypervisors']['h2']['domains'][PREFIX + 'two']['domain']['memory'] == 256
    assert sorted(opened) == sorted(['test:///default', second] * 2)   # one connection per hypervisor per run

    again = run(check=True, hypervisors=dict(h1='test:///default'), domains=items[:2])
    assert again['rc'] == 0 and not again['changed'] and again['actions'] == []


def test_an_unreachable_hypervisor_fails_alone(conn, run):
    done = run(hypervisors=dict(h1='test:///default', down=UNREACHABLE), domains=[guest('x')])
    assert done['rc'] == 1 and done['failed_hypervisors'] == ['down']
    assert names(conn) == [PREFIX + 'x']   # the reachable one was converged
    assert done['hypervisors']['h1']['changed'] and not done['hypervisors']['h1'].get('failed')
    down = done['hypervisors']['down']
    assert down['failed'] and UNREACHABLE in down['msg'] and down['domains'] == {}
    assert done['msg'].startswith('1 of 2 hypervisors failed: down: ')


@pytest.mark.parametrize('args, parameter, words', [
    (dict(hypervisors=dict(h1='test:///default'), domains=[guest('a'), guest('b', hypervisor='nope')]),
     'domains[1].hypervisor', 'one of the hypervisors (h1)'),
    (dict(domains=[guest('a', hypervisor='h1')]), 'domains[0].hypervisor', 'needs hypervisors'),
    (dict(hypervisors=dict(h1='test:///default'), domains=[guest('a'), guest('b', memory='lots')]),
     'domains[1].memory', 'on hypervisor h1'),
    (dict(hypervisors=dict(h1='test:///default', h2='test:///default'), domains=[guest('a')]),
     'hypervisors', 'each uri may appear once'),
    (dict(hypervisors=dict(h1=''), domains=[guest('a')]), 'hypervisors.h1', 'libvirt URI'),
    (dict(hypervisors={}, domains=[guest('a')]), 'hypervisors', 'at least one'),
    (dict(hypervisors=dict(h1='test:///default'), parallel_hypervisors=0, domains=[guest('a')]),
     'parallel_hypervisors', '1 or more'),
])
def test_bad_input_names_the_parameter_and_touches_no_host(conn, run, args, parameter, words):
    done = run(**args)
    assert done['rc'] == 1 and done['parameter'] == parameter and words in done['msg'], done['msg']
    assert names(conn) == []


def test_bad_input_on_one_hypervisor_stops_the_others_too(conn, run, second):
    # the second host lacks nothing the first has: memory 'lots' is bad everywhere, and names the item once
    done = run(hypervisors=dict(h1='test:///default', h2=second),
               domains=[guest('a'), guest('b', hypervisor='h2', vcpus=0)])
    assert done['rc'] == 1 and done['parameter'].startswith('domains[1].'), done['msg']
    assert names(conn) == []
