"""Finding objects and reading user-given definitions (_engine/objects.py), on libvirt's test driver."""

import pytest

libvirt = pytest.importorskip('libvirt')

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError, ParameterError  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.objects import lookup, parse_definition  # noqa: E402


def test_lookup_finds_an_object(test_driver):
    found = lookup(test_driver.networkLookupByName, 'network', 'default', libvirt.VIR_ERR_NO_NETWORK)
    assert found.name() == 'default'


def test_lookup_of_a_missing_object_is_none(test_driver):
    assert lookup(test_driver.networkLookupByName, 'network', 'unit-none', libvirt.VIR_ERR_NO_NETWORK) is None
    assert lookup(test_driver.lookupByName, 'domain', 'unit-none', libvirt.VIR_ERR_NO_DOMAIN) is None


def test_any_other_libvirt_error_is_a_read_failure_named_by_label(test_driver):
    # the finder fails with 'no network', which is not the code this lookup treats as missing
    with pytest.raises(KvmError) as failed:
        lookup(test_driver.networkLookupByName, 'network', 'unit-none', libvirt.VIR_ERR_NO_DOMAIN, label='pool/unit-none')
    assert str(failed.value).startswith("read network 'pool/unit-none' failed: ")
    assert 'unit-none' in failed.value.reason


def test_parse_definition_returns_the_root():
    root = parse_definition("<network><name>n1</name><bridge name='b1'/></network>", 'network', 'n1')
    assert root.tag == 'network' and root.find('bridge').get('name') == 'b1'


@pytest.mark.parametrize('text, problem', [
    ('<network><name>n1</name>', 'not well-formed XML'),
    ('<pool><name>n1</name></pool>', 'the root element is <pool>; a network definition starts with <network>'),
    ('<network><name>n2</name></network>', "the XML names the network 'n2' but name is 'n1'"),
    ('<network/>', "the XML has no <name>: add <name>n1</name>"),
])
def test_parse_definition_refuses_what_is_not_this_objects_definition(text, problem):
    with pytest.raises(ParameterError) as failed:
        parse_definition(text, 'network', 'n1', parameter='definition')
    assert failed.value.parameter == 'definition' and problem in failed.value.problem
