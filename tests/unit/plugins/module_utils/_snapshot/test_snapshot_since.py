"""The "nothing changed since" decision on its own: recorded marks against what a guest shows now."""

import pytest

pytest.importorskip('lxml')

from ansible_collections.kvmops.kvm.plugins.module_utils._snapshot import since  # noqa: E402


def test_libvirt_and_stat_times_on_one_scale():
    assert since._as_ns('1700000000.5') == 1700000000500000000
    assert since._as_ns('1700000000123456789') == 1700000000123456789
    assert since._as_ns('1700000000') == 1700000000 * 10 ** 9


@pytest.mark.parametrize('now, reasons', [
    (dict(domain_id='7', disks={'vda': dict(wr_reqs='3', wr_bytes='512')}), []),
    (dict(domain_id='8', disks={'vda': dict(wr_reqs='3', wr_bytes='512')}), ['restarted']),
    (dict(domain_id='7', disks={'vda': dict(wr_reqs='4', wr_bytes='1024')}), ['vda was written']),
    (dict(domain_id='7', disks={'vdb': dict(wr_reqs='0', wr_bytes='0')}), ['vdb was not there']),
])
def test_running_guest(monkeypatch, now, reasons):
    mark = dict(snapshot='s1', domain_id='7', disks={'vda': dict(wr_reqs='3', wr_bytes='512')})
    monkeypatch.setattr(since, 'read_mark', lambda dom, active: mark)
    monkeypatch.setattr(since, 'observe', lambda *args: now)
    found = since.changes_since(None, None, 's1', [], True)
    assert len(found) == len(reasons) and all(r in f for r, f in zip(reasons, found)), found


def test_mark_of_another_snapshot_or_none(monkeypatch):
    monkeypatch.setattr(since, 'observe', lambda *args: dict(domain_id='-1', disks={}))
    monkeypatch.setattr(since, 'read_mark', lambda dom, active: dict(snapshot='s0', domain_id='-1', disks={}))
    assert 'no record' in since.changes_since(None, None, 's1', [], True)[0]
    monkeypatch.setattr(since, 'read_mark', lambda dom, active: None)
    assert 'no record' in since.changes_since(None, None, 's1', [], True)[0]


def test_shut_off_guest_by_modification_time(monkeypatch):
    mark = dict(snapshot='s1', domain_id='-1', disks={'vda': dict(mtime='1700000000.5')})
    monkeypatch.setattr(since, 'read_mark', lambda dom, active: mark)
    monkeypatch.setattr(since, 'observe', lambda *args: dict(domain_id='-1', disks={'vda': dict(mtime='1700000000500000000')}))
    assert since.changes_since(None, None, 's1', [], True) == []
    monkeypatch.setattr(since, 'observe', lambda *args: dict(domain_id='-1', disks={'vda': dict(mtime='1700000000500000001')}))
    assert since.changes_since(None, None, 's1', [], True) == ['disk vda was modified since']
    monkeypatch.setattr(since, 'observe', lambda *args: dict(domain_id='-1', disks={'vda': dict(mtime=None)}))
    assert since.changes_since(None, None, 's1', [], True) == ['disk vda was modified since']
