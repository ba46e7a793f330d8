"""The failures a module reports (_engine/errors.py): their messages are what users read."""

from ansible_collections.kvmops.kvm.plugins.module_utils._engine.deps import libvirt
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import (
    KvmError, MissingLibrary, ParameterError, libvirt_reason)


def test_kvm_error_reads_action_object_name_reason_and_keeps_details():
    error = KvmError('start', 'domain', 'web1', 'no bootable device', restart_required=False)
    assert str(error) == "start domain 'web1' failed: no bootable device"
    assert (error.action, error.kind, error.name, error.reason) == ('start', 'domain', 'web1', 'no bootable device')
    assert error.details == {'restart_required': False}


def test_parameter_error_names_the_parameter():
    error = ParameterError('disks[1].size', "'lots' is not a size")
    assert str(error) == "Invalid parameter 'disks[1].size': 'lots' is not a size"
    assert error.parameter == 'disks[1].size' and error.problem == "'lots' is not a size"


def test_missing_library_carries_what_the_report_needs():
    error = MissingLibrary('pycdlib', 'Traceback ...', reason='to build a cloud-init seed')
    assert (error.library, error.traceback_text, error.reason) == ('pycdlib', 'Traceback ...', 'to build a cloud-init seed')


class _Reasoned(Exception):
    def __init__(self, message, text):
        super(_Reasoned, self).__init__(text)
        self.message = message

    def get_error_message(self):
        return self.message


def test_libvirt_reason_prefers_libvirts_own_message():
    assert libvirt_reason(_Reasoned('  domain not found  ', 'error: domain not found (code 42)')) == 'domain not found'
    assert libvirt_reason(_Reasoned(None, ' fallback text ')) == 'fallback text'
    assert libvirt_reason(ValueError('plain')) == 'plain'


def test_libvirt_reason_of_a_real_libvirt_error(test_driver):
    try:
        test_driver.networkLookupByName('kvmtu-none')
    except libvirt.libvirtError as exc:
        assert libvirt_reason(exc) == "Network not found: no network with matching name 'kvmtu-none'"
    libvirt.virResetLastError()
    assert libvirt_reason(libvirt.libvirtError('made up')) == 'made up'
