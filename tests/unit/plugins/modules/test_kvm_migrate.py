"""kvm_migrate in-process: bad input is refused before any connection opens (the test driver cannot migrate;
migrations are tested on the lab, tests/integration/migrate)."""

import pytest

pytest.importorskip('libvirt')

from ansible_collections.kvmops.kvm.plugins.modules import kvm_migrate  # noqa: E402


@pytest.mark.parametrize('args, parameter, words', [
    (dict(dest_uri='qemu+tcp://kvm2/system'), 'dest_uri', 'insecure_transport'),
    (dict(dest_uri='qemu+ssh://kvm2/system', source_uri='qemu+tcp://kvm1/system'), 'source_uri', 'qemu+tcp'),
    (dict(dest_uri='test:///default'), 'dest_uri', 'same URI'),
    (dict(dest_uri='qemu+ssh://kvm2/system', tunnelled=True, p2p=False), 'tunnelled', 'peer-to-peer'),
])
def test_bad_input_is_refused_before_connecting(module_runner, libvirt_calls, args, parameter, words):
    result = module_runner(kvm_migrate)(name='web1', **args)
    assert result['failed'] and result['parameter'] == parameter and words in result['msg']
    assert libvirt_calls.calls == []
