"""kvm_migrate's batch path for real on the lab: two tiny guests move h1 -> h2 side by side (`guests`,
`parallel: 2`) under the contract (check mode predicts each guest, the second run changes nothing), then back in
one task that also names a guest that cannot move: it fails its pre-check and stays, the other still moves."""

import time

from conftest import defined_on, runs_on
from harness import contract, fails


def test_two_guests_side_by_side_and_one_that_cannot_move(mig):
    names = [mig.prefix + 'bat%d' % i for i in range(2)]
    for name in names:
        mig.define(mig.h1, mig.lab.tiny_guest_xml(name, ip=None))
    args = dict(source_uri=mig.h1.ssh_uri, dest_uri=mig.h2.ssh_uri, parallel=2, guests=[dict(name=n) for n in names])
    began = time.monotonic()
    predicted, applied, last = contract('kvm_migrate', args)
    print('batch contract: %.1f s' % (time.monotonic() - began))
    assert list(applied['guests']) == names
    for name in names:
        guess, moved, again = predicted['guests'][name], applied['guests'][name], last['guests'][name]
        assert guess['actions'] == moved['actions'] == ["migrate domain '%s': from '%s' to '%s' (live, shared storage)"
                                                        % (name, mig.h1.name, mig.h2.name)]
        assert guess['location'] == moved['location'] == again['location'] == mig.h2.name
        assert guess['duration_s'] is None and 0 < moved['duration_s'] < 60 and moved['downtime_ms'] is not None
        assert all(v['verdict'] == 'pass' for v in moved['precheck'].values()), moved['precheck']
        assert again['changed'] is False and again['actions'] == []
        assert runs_on(mig.h2, name) and not defined_on(mig.h1, name)

    # back to h1, with a guest that is on neither host: it fails alone (nothing of it anywhere), the other moves
    missing = mig.prefix + 'batnone'
    back = dict(source_uri=mig.h2.ssh_uri, dest_uri=mig.h1.ssh_uri, parallel=2,
                guests=[dict(name=names[0]), dict(name=missing)])
    result = fails('kvm_migrate', back)
    assert result['failed_guests'] == [missing] and 'neither' in result['guests'][missing]['msg']
    assert result['changed'] is True and result['guests'][names[0]]['location'] == mig.h1.name
    assert runs_on(mig.h1, names[0]) and not defined_on(mig.h2, names[0])
    assert runs_on(mig.h2, names[1]) and not defined_on(mig.h1, names[1])
