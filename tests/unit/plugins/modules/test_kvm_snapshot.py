"""kvm_snapshot's planning and validation in-process against libvirt's test driver (which keeps internal snapshots;
the real proof is tests/integration/snapshot)."""

import pytest

libvirt = pytest.importorskip('libvirt')

from ansible_collections.kvmops.kvm.plugins.modules import kvm_snapshot  # noqa: E402

GUEST = """<domain type='test'><name>%s</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type></os><devices>
<disk type='file' device='disk'><driver name='qemu' type='%s'/><source file='/guest/%s.img'/><target dev='vda' bus='virtio'/></disk>
<disk type='file' device='cdrom'><source file='/guest/cd.iso'/><target dev='hdc' bus='ide'/><readonly/></disk>
</devices></domain>"""


@pytest.fixture
def conn(test_driver):
    yield test_driver
    for dom in test_driver.listAllDomains():
        if dom.name().startswith('unit-'):
            if dom.isActive():
                dom.destroy()
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)


def guest(conn, name='unit-g1', fmt='qcow2', running=True):
    dom = conn.defineXML(GUEST % (name, fmt, name))
    if running:
        dom.create()
    return dom


def tree(dom):
    """The snapshot tree as libvirt itself reports it: name -> parent, and the current one."""
    parents = {}
    for snap in dom.listAllSnapshots():
        try:
            parents[snap.getName()] = snap.getParent().getName()
        except libvirt.libvirtError:
            parents[snap.getName()] = None
    current = dom.snapshotCurrent().getName() if dom.hasCurrentSnapshot() else None
    return parents, current


@pytest.fixture(autouse=True)
def disk_writes(monkeypatch):
    """The test driver makes its block statistics up from the clock, and its disk files do not exist: here they
    are counters the test moves (domain name -> write requests) and fixed modification times."""
    from ansible_collections.kvmops.kvm.plugins.module_utils._snapshot import since
    writes = {}
    monkeypatch.setattr(libvirt.virDomain, 'blockStats', lambda dom, disk: (0, 0, writes.get(dom.name(), 0), 0, 0))
    monkeypatch.setattr(since, '_mtime', lambda conn, path, is_local: str(writes.get(path, 1700000000)))
    return writes


@pytest.fixture
def run(module_runner):
    return module_runner(kvm_snapshot)


def contract(run, **args):
    predicted = run(check=True, **args)
    applied = run(**args)
    assert not predicted.get('failed') and not applied.get('failed'), (predicted, applied)
    assert predicted['changed'] and applied['changed']
    assert predicted['actions'] == applied['actions']
    assert predicted['diff'] == applied['diff']
    again = run(check=True, **args)
    assert again['changed'] is False and again['actions'] == [], again
    last = run(**args)
    assert last['changed'] is False and last['actions'] == [], last
    return predicted, applied, last


def test_create_contract_and_tree(conn, run):
    dom = guest(conn)
    predicted, applied, last = contract(run, domain='unit-g1', name='s1', description='first')
    assert applied['actions'] == ["create snapshot 's1': internal, with RAM"]
    assert applied['diff'] == {'before': {'snapshots': []}, 'after': {'snapshots': ['s1']}}
    snap = last['snapshot']
    assert snap['name'] == 's1' and snap['current'] and snap['memory'] and snap['type'] == 'internal'
    assert snap['state'] == 'running' and snap['parent'] is None and snap['description'] == 'first'
    assert snap['disks'] == [{'name': 'vda', 'snapshot': 'internal', 'file': None},
                             {'name': 'hdc', 'snapshot': 'no', 'file': None}]
    assert snap['created'].endswith('Z') and isinstance(snap['creation_time'], int)
    assert predicted['snapshot']['name'] == 's1' and predicted['snapshot']['current']
    contract(run, domain='unit-g1', name='s2')
    assert tree(dom) == ({'s1': None, 's2': 's1'}, 's2')
    result = run(domain='unit-g1', name='s2')
    assert [s['name'] for s in result['snapshots']] == ['s1', 's2']
    assert result['snapshots'][0]['children'] == ['s2']


def test_revert_contract(conn, run):
    dom = guest(conn)
    run(domain='unit-g1', name='s1')
    run(domain='unit-g1', name='s2')
    predicted, applied, last = contract(run, domain='unit-g1', name='s1', state='current')
    assert applied['actions'][0].startswith("revert to snapshot 's1': guest running (the current snapshot is s2")
    assert applied['diff']['before']['current'] == 's2' and applied['diff']['after']['current'] == 's1'
    assert tree(dom)[1] == 's1'
    assert last['snapshot']['current'] and predicted['snapshot']['current']


def test_revert_when_the_guest_was_stopped_since(conn, run):
    dom = guest(conn)
    run(domain='unit-g1', name='s1')
    assert run(domain='unit-g1', name='s1', state='current')['changed'] is False
    dom.destroy()
    result = run(domain='unit-g1', name='s1', state='current')
    assert result['changed'] and result['diff']['before'] == {'domain_state': 'shutoff'}
    assert dom.isActive()


def test_revert_paused_on_request(conn, run):
    dom = guest(conn)
    run(domain='unit-g1', name='s1')
    contract(run, domain='unit-g1', name='s1', state='current', running_after_revert=False)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED


def test_delete_keeps_or_deletes_children(conn, run):
    dom = guest(conn)
    for name in ('s1', 's2', 's3'):
        run(domain='unit-g1', name=name)
    predicted, applied, last = contract(run, domain='unit-g1', name='s2', state='absent')
    assert applied['actions'] == ["delete snapshot 's2': children s3 kept"]
    assert tree(dom) == ({'s1': None, 's3': 's1'}, 's3')
    assert last['snapshot'] is None
    predicted, applied, last = contract(run, domain='unit-g1', name='s1', state='absent', children='delete')
    assert applied['actions'] == ["delete snapshot 's3': child of s1", "delete snapshot 's1'"]
    assert tree(dom) == ({}, None)
    assert predicted['snapshots'] == [] and last['snapshots'] == []


def test_keep_prunes_exactly_the_oldest(conn, run):
    dom = guest(conn)
    for name in ('s1', 's2', 's3'):
        run(domain='unit-g1', name=name)
    predicted, applied, last = contract(run, domain='unit-g1', name='s4', keep=2)
    assert applied['actions'] == ["create snapshot 's4': internal, with RAM",
                                  "delete snapshot 's1': oldest beyond keep: 2",
                                  "delete snapshot 's2': oldest beyond keep: 2"]
    assert sorted(tree(dom)[0]) == ['s3', 's4']
    assert [s['name'] for s in predicted['snapshots']] == [s['name'] for s in last['snapshots']]


def failure(run, conn, dom, **args):
    before = (tree(dom), dom.XMLDesc(0))
    result = run(**args)
    assert result.get('failed'), result
    assert (tree(dom), dom.XMLDesc(0)) == before
    return result


def test_bad_inputs_change_nothing(conn, run):
    dom = guest(conn)
    off = guest(conn, 'unit-off', running=False)
    raw = guest(conn, 'unit-raw', fmt='raw', running=False)
    run(domain='unit-g1', name='s1', description='first')
    result = failure(run, conn, dom, domain='unit-nope', name='s1')
    assert result['parameter'] == 'domain' and 'unit-nope' in result['msg']
    result = failure(run, conn, dom, domain='unit-g1', name='s1', description='other')
    assert result['parameter'] == 'description' and "description is 'first', not 'other'" in result['msg']
    result = failure(run, conn, dom, domain='unit-g1', name='s1', type='external')
    assert result['parameter'] == 'type'
    result = failure(run, conn, off, domain='unit-off', name='s1', memory=True)
    assert result['parameter'] == 'memory' and 'shut off' in result['msg']
    result = failure(run, conn, raw, domain='unit-raw', name='s1')
    assert result['parameter'] == 'type' and 'type: external' in result['msg'] and 'raw' in result['msg']
    result = failure(run, conn, off, domain='unit-off', name='s1', state='current')
    assert result['parameter'] == 'name' and "belongs to domain 'unit-g1'" in result['msg']
    result = failure(run, conn, dom, domain='unit-g1', name='s9', state='current')
    assert result['parameter'] == 'name' and 'it has: s1' in result['msg']
    result = failure(run, conn, dom, domain='unit-g1', name='s2', quiesce=True)
    assert result['parameter'] == 'quiesce' and 'agent' in result['msg']
    result = failure(run, conn, dom, domain='unit-g1', name='s2', disk_only=True)
    assert result['parameter'] == 'disk_only' and 'type: external' in result['msg']
    result = failure(run, conn, dom, domain='unit-g1', name='s2', keep=0)
    assert result['parameter'] == 'keep'


def test_shut_off_guest_snapshot_and_revert(conn, run):
    dom = guest(conn, running=False)
    predicted, applied, last = contract(run, domain='unit-g1', name='cold')
    assert applied['actions'] == ["create snapshot 'cold': internal, of the shut-off guest"]
    assert last['snapshot']['state'] == 'shutoff' and not last['snapshot']['memory']
    dom.create()
    predicted, applied, last = contract(run, domain='unit-g1', name='cold', state='current')
    assert not dom.isActive()


def test_disk_writes_since_the_revert_mean_revert_again(conn, run, disk_writes):
    guest(conn)
    run(domain='unit-g1', name='s1')
    assert run(domain='unit-g1', name='s1', state='current')['changed'] is False
    disk_writes['unit-g1'] = 5
    predicted = run(check=True, domain='unit-g1', name='s1', state='current')
    assert predicted['actions'] == ["revert to snapshot 's1': guest running (disk vda was written since)"]
    assert predicted['diff'] == {'before': {'changed_since': ['disk vda was written since']},
                                 'after': {'changed_since': []}}
    run(domain='unit-g1', name='s1', state='current')
    assert run(domain='unit-g1', name='s1', state='current')['changed'] is False


def test_a_shut_off_disk_modified_since_means_revert_again(conn, run, disk_writes):
    guest(conn, running=False)
    run(domain='unit-g1', name='cold')
    assert run(domain='unit-g1', name='cold', state='current')['changed'] is False
    disk_writes['/guest/unit-g1.img'] = 1700000001
    assert run(check=True, domain='unit-g1', name='cold', state='current')['actions'] == [
        "revert to snapshot 'cold': guest shutoff (disk vda was modified since)"]


def test_a_revert_made_elsewhere_is_not_trusted(conn, run):
    dom = guest(conn)
    run(domain='unit-g1', name='s1')
    run(domain='unit-g1', name='s2')
    dom.revertToSnapshot(dom.snapshotLookupByName('s1'))
    result = run(domain='unit-g1', name='s1', state='current')
    assert result['changed'] and 'no record' in result['actions'][0]


def test_a_no_op_revert_stays_small_and_asks_no_capabilities(conn, run, libvirt_calls):
    guest(conn)
    run(domain='unit-g1', name='s1')
    libvirt_calls.reset()
    result = run(domain='unit-g1', name='s1', state='current')
    assert result['changed'] is False
    assert libvirt_calls.capability_queries() == []
    assert libvirt_calls.count('lookupByName') == 1
    assert len(libvirt_calls.calls) <= 15, libvirt_calls.calls
