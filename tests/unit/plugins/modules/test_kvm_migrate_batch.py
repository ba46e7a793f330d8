"""kvm_migrate's batch path (`guests`, `parallel`) in-process against libvirt's test driver: bad input refused
before any connection, every pre-check once per host pair, check mode predicting each guest, and failed
migrations (the test driver cannot migrate) leaving each guest running at home while the others go on."""

import pytest

pytest.importorskip('libvirt')

from ansible_collections.kvmops.kvm.plugins.modules import kvm_migrate  # noqa: E402

GUEST = """<domain type='test'><name>%s</name><uuid>%s</uuid><memory unit='KiB'>1024</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type></os><devices/></domain>"""


def node(tmp_path, name, guests):
    path = tmp_path / ('%s.xml' % name)
    path.write_text('<node>%s</node>' % ''.join(GUEST % (guest, uuid) for guest, uuid in guests))
    return 'test://%s' % path


@pytest.fixture
def hosts(tmp_path):
    """(source URI, destination URI): web1..web3 run on the source (1 MiB each); the destination is the default
    test driver (its 3 MiB free; its guest 'test' runs there)."""
    source = node(tmp_path, 'kvm1', [('web%d' % i, '1111111%d-1111-1111-1111-111111111111' % i) for i in (1, 2, 3)])
    return source, 'test:///default'


def run(module_runner, source, check=False, **args):
    return module_runner(kvm_migrate, uri=source)(check=check, **args)


def test_check_mode_predicts_each_guest_with_one_connection_per_host(module_runner, libvirt_calls, hosts):
    source, dest = hosts
    result = run(module_runner, source, check=True, dest_uri=dest, parallel=2,
                 guests=[dict(name='web1'), dict(name='web2'), dict(name='test', dest_uri=dest)])
    print(result)
    assert result['rc'] == 0 and result['changed'] is True
    assert list(result['guests']) == ['web1', 'web2', 'test']
    web1, there = result['guests']['web1'], result['guests']['test']
    assert web1['changed'] is True and web1['location'] == web1['destination'] and web1['flags']
    assert web1['precheck']['guest']['verdict'] == 'pass'
    assert there['changed'] is False and there['actions'] == []
    assert result['actions'] == result['guests']['web1']['actions'] + result['guests']['web2']['actions']
    assert sorted(result['diff']['before']) == ['web1', 'web2']
    # each host asked once for what it is, whatever the number of guests
    assert libvirt_calls.count('getCapabilities') == 2 and libvirt_calls.count('getHostname') == 2
    assert 'domain.migrate3' not in libvirt_calls.calls


KVM2 = 'qemu+ssh://root@kvm2/system'


@pytest.mark.parametrize('args, parameter, words', [
    (dict(name='web1', guests=[dict(name='web2')], dest_uri=KVM2), None, 'mutually exclusive'),
    (dict(dest_uri=KVM2), None, 'one of the following is required'),
    (dict(guests=[dict(name='web1'), dict(name='web1')], dest_uri=KVM2), 'guests', 'more than once'),
    (dict(guests=[dict(name='web1')], dest_uri=KVM2, parallel=0), 'parallel', '1 or more'),
    (dict(guests=[dict(name='web1', dest_uri=KVM2), dict(name='web2')]), 'guests[1].dest_uri', 'required'),
    (dict(guests=[dict(name='web1', dest_uri='qemu+tcp://kvm2/system')]), 'guests[0].dest_uri', 'insecure'),
    (dict(guests=[dict(name='web1')], dest_uri=KVM2, tunnelled=True, p2p=False), 'tunnelled', 'peer-to-peer'),
])
def test_bad_batch_input_is_refused_before_connecting(module_runner, libvirt_calls, args, parameter, words):
    result = module_runner(kvm_migrate)(**args)
    assert result['failed'] and words in result['msg'], result['msg']
    if parameter:
        assert result['parameter'] == parameter
    assert libvirt_calls.calls == []


def test_failed_migrations_leave_every_guest_at_home_and_the_others_go_on(module_runner, libvirt_calls, hosts):
    source, dest = hosts
    # the test driver refuses to migrate: each guest's migration fails in its lane, side by side
    result = run(module_runner, source, dest_uri=dest, parallel=2,
                 guests=[dict(name='web1'), dict(name='web2'), dict(name='web3'), dict(name='test'),
                         dict(name='nowhere')])
    print(result)
    assert result['failed'] and result['rc'] == 1
    assert result['failed_guests'] == ['web1', 'web2', 'web3', 'nowhere']
    for name in ('web1', 'web2', 'web3'):
        guest = result['guests'][name]
        assert guest['failed'] and guest['guest_running_on_source'] is True, guest
        assert guest['location'] == guest['source'] and 'still runs' in guest['msg']
    assert result['guests']['test']['changed'] is False and not result['guests']['test'].get('failed')
    assert 'neither' in result['guests']['nowhere']['msg']
    assert '4 of 5 guests failed' in result['msg']
