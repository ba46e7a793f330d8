"""The kvmops.kvm.libvirt inventory plugin through ansible-inventory, against libvirt's test driver (two
hypervisors from node files: tests/unit/fixtures/inventory/kvm1.xml and kvm2.xml)."""

import json
import os
import subprocess

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
FIXTURES = os.path.join(ROOT, 'tests', 'unit', 'fixtures', 'inventory')
KVM1 = 'test://' + os.path.join(FIXTURES, 'kvm1.xml')
KVM2 = 'test://' + os.path.join(FIXTURES, 'kvm2.xml')
BIN = os.path.join(ROOT, '.venv', 'bin')


def plain(value):
    """ansible-inventory --list marks values that are not templates as {'__ansible_unsafe': value}."""
    if isinstance(value, dict):
        if set(value) == set(['__ansible_unsafe']):
            return value['__ansible_unsafe']
        return dict((key, plain(item)) for key, item in value.items())
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def env():
    result = dict(os.environ)
    result.update(ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
                  ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'),
                  ANSIBLE_INVENTORY_UNPARSED_FAILED='1', ANSIBLE_NOCOLOR='1')
    return result


def inventory(tmp_path, config, *extra, **kwargs):
    """(rc, the listed inventory, stderr) for one source file written from config."""
    source = tmp_path / kwargs.get('file_name', 'fleet.libvirt.yml')
    source.write_text(yaml.safe_dump(dict(dict(plugin='kvmops.kvm.libvirt'), **config)))
    proc = subprocess.run([os.path.join(BIN, 'ansible-inventory'), '-i', str(source), '--list'] + list(extra),
                          capture_output=True, text=True, env=env(), check=False, stdin=subprocess.DEVNULL, timeout=120)
    listed = plain(json.loads(proc.stdout)) if proc.returncode == 0 else None
    return proc.returncode, listed, proc.stderr


def hosts(listed, group):
    return sorted(listed.get(group, {}).get('hosts', []))


def test_guests_of_two_hypervisors_with_their_vars_and_groups(tmp_path):
    rc, listed, err = inventory(tmp_path, dict(uris=[dict(uri=KVM1, name='kvm1'), dict(uri=KVM2, name='kvm2.lab')]))
    assert rc == 0, err
    hostvars = listed['_meta']['hostvars']
    assert sorted(hostvars) == ['db1', 'moved', 'paused1', 'web1']
    web = hostvars['web1']
    assert web['kvm_hypervisor'] == 'kvm1' and web['kvm_hypervisor_uri'] == KVM1
    assert web['kvm_state'] == 'running' and web['kvm_uuid'] == '11111111-1111-1111-1111-111111111111'
    assert (web['kvm_memory'], web['kvm_max_memory'], web['kvm_vcpus'], web['kvm_max_vcpus']) == (1024, 2048, 1, 4)
    assert web['kvm_macs'] == ['52:54:00:aa:00:01', '52:54:00:aa:00:02']
    assert web['kvm_networks'] == ['kvmtinv-nat']
    assert web['ansible_host'] == web['kvm_ipv4_addresses'][0] == web['kvm_interfaces'][0]['addresses'][0]['address']
    assert 'ansible_connection' not in web   # guests are reached the usual way, never forced onto libvirt_qemu
    assert 'ansible_host' not in hostvars['db1']   # shut off: no address
    # the guest defined on both: the running copy (kvm2) wins, the other is named
    moved = hostvars['moved']
    assert moved['kvm_hypervisor'] == 'kvm2.lab' and moved['kvm_state'] == 'running'
    assert moved['kvm_other_definitions'] == [dict(hypervisor='kvm1', uri=KVM1, state='shutoff',
                                                   uuid='33333333-3333-3333-3333-333333333333')]
    assert hosts(listed, 'kvm_guests') == ['db1', 'moved', 'paused1', 'web1']
    assert hosts(listed, 'kvm_hypervisor_kvm1') == ['db1', 'web1']
    assert hosts(listed, 'kvm_hypervisor_kvm2_lab') == ['moved', 'paused1']
    assert hosts(listed, 'kvm_state_running') == ['moved', 'web1']
    assert hosts(listed, 'kvm_state_shutoff') == ['db1']
    assert hosts(listed, 'kvm_state_paused') == ['paused1']
    assert hosts(listed, 'kvm_network_kvmtinv_nat') == ['db1', 'web1']
    assert hosts(listed, 'kvm_bridge_br_mgmt') == ['web1']


def test_constructable_compose_groups_keyed_groups(tmp_path):
    rc, listed, err = inventory(tmp_path, dict(
        uris=[KVM1],
        compose=dict(doubled='kvm_memory * 2', ansible_user="'debian'"),
        groups=dict(big='kvm_max_memory >= 4096', web="kvm_name is match('web')"),
        keyed_groups=[dict(key='kvm_title | default("untitled", true)', prefix='title'),
                      dict(key='kvm_arch', prefix='arch')]))
    assert rc == 0, err
    hostvars = listed['_meta']['hostvars']
    assert hostvars['web1']['doubled'] == 2048 and hostvars['db1']['ansible_user'] == 'debian'
    assert hosts(listed, 'big') == ['db1'] and hosts(listed, 'web') == ['web1']
    assert hosts(listed, 'title_frontend') == ['web1'] and hosts(listed, 'title_untitled') == ['db1', 'moved']
    assert hosts(listed, 'arch_x86_64') == ['db1', 'moved', 'web1']


def test_strict_fails_on_an_undefined_variable_and_lax_skips_it(tmp_path):
    config = dict(uris=[KVM1], compose=dict(x='kvm_nonexistent + 1'))
    rc, listed, err = inventory(tmp_path, dict(config, strict=False))
    assert rc == 0, err
    assert 'x' not in listed['_meta']['hostvars']['web1']
    rc, _listed, err = inventory(tmp_path, dict(config, strict=True))
    assert rc != 0 and 'kvm_nonexistent' in err


def test_ansible_host_choices(tmp_path):
    rc, listed, err = inventory(tmp_path, dict(uris=[KVM1], ansible_host_networks=['192.168.0.0/24']))
    assert rc == 0, err
    assert listed['_meta']['hostvars']['web1']['ansible_host'] == '192.168.0.2'   # the bridge NIC's address
    rc, listed, err = inventory(tmp_path, dict(uris=[KVM1], ansible_host='name'))
    assert listed['_meta']['hostvars']['db1']['ansible_host'] == 'db1'
    rc, listed, err = inventory(tmp_path, dict(uris=[KVM1], ansible_host='none', inventory_hostname='uuid'))
    hostvars = listed['_meta']['hostvars']
    assert '11111111-1111-1111-1111-111111111111' in hostvars
    assert not any('ansible_host' in item for item in hostvars.values())


def test_the_cache_answers_without_connecting_until_flushed(tmp_path):
    cache = dict(cache=True, cache_plugin='ansible.builtin.jsonfile', cache_connection=str(tmp_path / 'cache'),
                 cache_timeout=3600, cache_prefix='kvmtinv')
    rc, first, err = inventory(tmp_path, dict(cache, uris=[KVM1]))
    assert rc == 0, err
    assert [name for name in os.listdir(str(tmp_path / 'cache')) if name.startswith('kvmtinv')]
    # the same source now names a hypervisor that does not exist: the cache answers, no connection is made
    rc, cached, err = inventory(tmp_path, dict(cache, uris=['test:///kvmtinv/missing.xml']))
    assert rc == 0, err
    assert cached['_meta']['hostvars'] == first['_meta']['hostvars']
    rc, _flushed, err = inventory(tmp_path, dict(cache, uris=['test:///kvmtinv/missing.xml']), '--flush-cache')
    assert rc != 0 and 'test:///kvmtinv/missing.xml' in err


def test_an_unreachable_hypervisor_fails_the_source_unless_skipped(tmp_path):
    uris = [KVM1, 'test:///kvmtinv/missing.xml']
    rc, _listed, err = inventory(tmp_path, dict(uris=uris))
    assert rc != 0 and "connect to hypervisor 'test:///kvmtinv/missing.xml' failed" in err
    rc, listed, err = inventory(tmp_path, dict(uris=uris, skip_unreachable=True))
    assert rc == 0, err
    assert 'test:///kvmtinv/missing.xml' in err and hosts(listed, 'kvm_guests') == ['db1', 'moved', 'web1']


def test_bad_options_are_named(tmp_path):
    rc, _listed, err = inventory(tmp_path, dict(uris=[dict(name='kvm1')]))
    assert rc != 0 and "uris[0]" in err
    rc, _listed, err = inventory(tmp_path, dict(uris=[KVM1], ansible_host_networks=['10.0.0.300/24']))
    assert rc != 0 and 'ansible_host_networks' in err
    rc, _listed, err = inventory(tmp_path, dict(uris=[KVM1]), file_name='fleet.yml')   # not a name it claims
    assert rc != 0


def test_ansible_doc_renders_the_plugin():
    proc = subprocess.run([os.path.join(BIN, 'ansible-doc'), '-t', 'inventory', 'kvmops.kvm.libvirt'],
                          capture_output=True, text=True, env=env(), check=False, stdin=subprocess.DEVNULL, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for option in ('uris', 'address_sources', 'ansible_host', 'compose', 'keyed_groups', 'cache_plugin'):
        assert option in proc.stdout
