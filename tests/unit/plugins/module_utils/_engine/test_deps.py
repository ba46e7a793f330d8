"""Guarded imports (_engine/deps.py): a missing library is reported by name, never by an ImportError."""

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import deps


def test_with_both_libraries_nothing_is_missing():
    assert deps.missing_dependency() is None
    assert deps.libvirt and deps.etree is not None


def test_a_missing_library_is_named_with_its_traceback(monkeypatch):
    monkeypatch.setattr(deps, 'LXML_IMPORT_ERROR', 'Traceback: No module named lxml')
    message, traceback_text = deps.missing_dependency()
    assert 'lxml' in message and traceback_text == 'Traceback: No module named lxml'
    monkeypatch.setattr(deps, 'LIBVIRT_IMPORT_ERROR', 'Traceback: No module named libvirt')
    assert 'libvirt-python' in deps.missing_dependency()[0]   # the first missing one is named


def test_the_stand_in_for_libvirt_is_false_yet_catchable():
    stand_in = deps._NotInstalled()   # pylint: disable=protected-access
    assert not stand_in
    try:
        raise stand_in.libvirtError('x')
    except stand_in.libvirtError as exc:
        assert str(exc) == 'x'
