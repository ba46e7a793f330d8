"""Owner, group and mode of pools and volumes: read, given, set on the host, one way for both."""

import os

import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import xml as _xml
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError, ParameterError
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.plan import Plan
from ansible_collections.kvmops.kvm.plugins.module_utils._storage import permissions


@pytest.mark.parametrize('value, expected', [('755', '0755'), ('0750', '0750'), (0o640, '0640'), ('0o700', '0700')])
def test_modes(value, expected):
    assert permissions.canonical_mode(value) == expected


def test_identity():
    assert permissions.identity('owner', 'root', True, 'user') == 0
    assert permissions.identity('owner', '107', False, 'user') == 107
    with pytest.raises(ParameterError, match='numeric user ID'):
        permissions.identity('owner', 'root', False, 'user')
    with pytest.raises(ParameterError, match="no group 'kvmtest-none'"):
        permissions.identity('group', 'kvmtest-none', True, 'group')


def test_read_takes_minus_one_and_blanks_as_unset():
    target = _xml.parse('<target><permissions><mode> 755 </mode><owner>-1</owner><group> 36 </group>'
                        '</permissions></target>')
    assert permissions.read(target) == {'owner': None, 'group': 36, 'mode': '0755'}
    assert permissions.read(None) == {'owner': None, 'group': None, 'mode': None}


def test_given_holds_only_what_the_user_gave():
    assert permissions.given({'owner': 107, 'mode': '640'}, False, '0600') == {'owner': 107, 'mode': '0640'}
    with pytest.raises(ParameterError, match="as a quoted string, e.g. '0644'"):
        permissions.given({'mode': 'rw'}, True, '0600')


def test_plan_set_changes_only_what_it_is_given(tmp_path):
    path = tmp_path / 'image'
    path.write_bytes(b'')
    os.chmod(str(path), 0o600)
    after = []
    plan = Plan()
    permissions.plan_set(plan, 'volume', 'p/image', str(path), mode='0640', detail='mode=0640',
                         then=lambda: after.append('refreshed'))
    assert plan.describe() == ["set permissions of volume 'p/image': mode=0640"]
    plan.apply()
    assert os.stat(str(path)).st_mode & 0o777 == 0o640 and after == ['refreshed']


def test_plan_set_names_the_object_when_the_host_refuses(tmp_path):
    plan = Plan()
    permissions.plan_set(plan, 'pool', 'images', str(tmp_path / 'missing'), mode='0755')
    with pytest.raises(KvmError, match="set permissions of pool 'images' failed: .*missing: No such file"):
        plan.apply()
