"""The guests role on this machine's libvirtd: a tiny guest with a volume, cloud-init and a NIC is deployed (check
mode predicts it, the second run changes nothing), its address reaches the next play through the in-memory
inventory, a change is preceded by the role's snapshot, and `absent` removes the guest but keeps its disk. The role
converges a host's guests in one kvm_domains task: a guest that fails does not stop the others and is named."""

import glob
import json
import os
import shutil
import subprocess

import pytest
import yaml

from harness import ROOT, ansible_env

libvirt = pytest.importorskip('libvirt')

PREFIX = 'kvmtg-'
NETWORK = PREFIX + 'net'
POOL = PREFIX + 'pool'
POOL_DIR = '/var/lib/libvirt/images/kvmtg-pool'
SUBNET = '10.213.120.'   # 10.213.100-109 are kvm_domain's, 92-97 kvm_network's, 47-56 the labs'
GUEST = PREFIX + 'web1'
SECRET = 'kvmtg-Secret-in-user-data'
NETWORK_XML = """<network><name>%s</name><forward mode='nat'/><bridge name='kvmtg-br0'/>
<ip address='%s1' prefix='24'><dhcp><range start='%s10' end='%s99'/></dhcp></ip></network>""" % (
    NETWORK, SUBNET, SUBNET, SUBNET)


def _tiny():
    found = sorted(glob.glob(os.path.join(ROOT, '.cache', 'lab', 'artifacts', 'tiny-*', 'vmlinuz')))
    if not found:
        import sys
        sys.path.insert(0, os.path.join(ROOT, 'tests', 'lab'))
        from kvmlab import artifacts
        tiny = artifacts.ensure_tiny_artifacts()
        return str(tiny.kernel), str(tiny.initrd)
    return found[-1], os.path.join(os.path.dirname(found[-1]), 'initrd.img')


def purge(conn):
    for dom in conn.listAllDomains():
        if dom.name().startswith(PREFIX):
            if dom.isActive():
                dom.destroy()
            if dom.isPersistent():
                for snap in dom.listAllSnapshots():
                    snap.delete(libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY)
                dom.undefine()
    for pool in conn.listAllStoragePools():
        if pool.name().startswith(PREFIX):
            if pool.isActive():
                pool.destroy()
            pool.undefine()
    for net in conn.listAllNetworks():
        if net.name().startswith(PREFIX):
            if net.isActive():
                net.destroy()
            if net.isPersistent():
                net.undefine()
    shutil.rmtree(POOL_DIR, ignore_errors=True)


@pytest.fixture(scope='module')
def env(libvirtd):
    conn = libvirtd
    purge(conn)
    conn.networkDefineXML(NETWORK_XML).create()
    os.makedirs(POOL_DIR, exist_ok=True)
    conn.storagePoolDefineXML("<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>"
                              % (POOL, POOL_DIR)).create()
    yield conn
    purge(conn)


def guest(**extra):
    kernel, initrd = _tiny()
    item = dict(name=GUEST, memory='128MiB', vcpus=1, type='qemu', kernel=kernel, initrd=initrd,
                cmdline='console=ttyS0 quiet panic=-1 ip=dhcp kvmlab.hostname=%s' % GUEST,
                volumes=[dict(name=GUEST + '.qcow2', pool=POOL, capacity='64MiB')],
                interfaces=[dict(network=NETWORK)], graphics=dict(type='none'),
                cloud_init=dict(user_data=dict(chpasswd=dict(expire=False), password=SECRET),
                                directory=POOL_DIR),
                groups=['web'], host_vars=dict(ansible_user='root'))
    item.update(extra)
    return item


def play(tmp_path, guests, check=False, expect_failure=False, **role_vars):
    """The role on localhost, then a play on the guests it added; returns (records, stdout)."""
    playbook = [
        dict(name='Deploy', hosts='localhost', gather_facts=False,
             roles=[dict(role='kvmops.kvm.guests', vars=dict(dict(guests_list=guests), **role_vars))]),
        dict(name='The guests as inventory hosts', hosts='web', gather_facts=False,
             tasks=[dict(name='Where is it', **{'ansible.builtin.debug': dict(
                 msg='{{ inventory_hostname }} {{ ansible_host }} {{ guests_hypervisor }} {{ ansible_user }} '
                     '{{ ansible_ssh_common_args | default("-") }}')})]),
    ]
    path = tmp_path / 'play.yml'
    path.write_text(yaml.safe_dump(playbook))
    record = tmp_path / ('record-%d.jsonl' % len(list(tmp_path.iterdir())))
    command = [os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook'), '-i',
               os.path.join(ROOT, 'playbooks', 'inventory', 'localhost.yml'), str(path), '-v']
    if check:
        command.append('--check')
    proc = subprocess.run(command, env=ansible_env(str(record)), capture_output=True, text=True, timeout=600,
                          check=False, stdin=subprocess.DEVNULL)
    assert (proc.returncode != 0) == expect_failure, proc.stdout + proc.stderr
    assert SECRET not in proc.stdout + proc.stderr   # cloud-init's user_data never shows
    with open(record) as stream:
        return [json.loads(line) for line in stream if line.strip()], proc.stdout


def changed(records):
    return [r['_task'] for r in records if r.get('changed')]


def task(records, name):
    return [r for r in records if r['_task'].split(' : ')[-1].startswith(name)]


def test_bad_input_fails_before_anything_is_touched(env, tmp_path):
    conn = env
    records, _out = play(tmp_path, [guest(vcpus='many')], expect_failure=True)
    failed = [r for r in records if r['_status'] == 'failed']
    assert len(failed) == 1
    assert 'guests_list' in failed[0]['msg'] and 'vcpus' in failed[0]['msg'], failed[0]['msg']
    records, _out = play(tmp_path, [guest(), guest()], expect_failure=True)
    failed = [r for r in records if r['_status'] == 'failed']
    assert GUEST in failed[0]['msg'] and 'more than once' in failed[0]['msg'], failed[0]['msg']
    records, _out = play(tmp_path, [guest(hypervisor='kvmtg-nowhere')], expect_failure=True)
    failed = [r for r in records if r['_status'] == 'failed']
    assert 'guests_list[].hypervisor' in failed[0]['msg'] and 'kvmtg-nowhere' in failed[0]['msg'], failed[0]['msg']
    assert GUEST not in [d.name() for d in conn.listAllDomains()]
    assert not os.path.exists(os.path.join(POOL_DIR, GUEST + '-cidata.iso'))


def test_deploy_contract_inventory_snapshot_and_absent(env, tmp_path):
    conn = env
    # check mode predicts the creation and creates nothing
    records, _out = play(tmp_path, [guest()], check=True)
    assert changed(records), records
    # the batch's plan per guest, and its diff keyed by guest name (what --diff shows)
    planned = task(records, 'Guests defined')[0]
    assert planned['domains'][GUEST]['actions'] and planned['diff']['after'][GUEST]['state'] == 'running', planned
    assert GUEST not in [d.name() for d in conn.listAllDomains()]
    assert not os.path.exists(os.path.join(POOL_DIR, GUEST + '.qcow2'))

    records, _out = play(tmp_path, [guest()])
    assert changed(records)
    # one kvm_domains run for the host's guests, results keyed by name; then one for the wait
    defined = task(records, 'Guests defined')
    assert [r['_action'] for r in defined] == ['kvmops.kvm.kvm_domains'], defined
    assert list(defined[0]['domains']) == [GUEST] and defined[0]['domains'][GUEST]['changed'], defined
    waited = task(records, 'Wait for the running guests')
    assert len(waited) == 1 and waited[0]['_status'] == 'ok', waited
    assert waited[0]['domains'][GUEST]['domain']['interfaces'][0]['ipv4'][0].startswith(SUBNET), waited
    dom = conn.lookupByName(GUEST)
    assert dom.isActive()
    xml = dom.XMLDesc()
    assert "pool='%s' volume='%s.qcow2'" % (POOL, GUEST) in xml or '%s/%s.qcow2' % (POOL_DIR, GUEST) in xml, xml
    assert os.path.exists(os.path.join(POOL_DIR, GUEST + '-cidata.iso'))
    where = [r for r in records if r['_task'] == 'Where is it'][0]
    assert where['_host'] == GUEST and where['msg'].startswith('%s %s' % (GUEST, SUBNET))
    assert where['msg'].endswith(' localhost root -')

    # the rerun, in check mode and for real, changes nothing (add_host included) and still adds the guest
    # (guests on a NAT network: reached through their hypervisor)
    for check in (True, False):
        records, _out = play(tmp_path, [guest()], check=check, guests_inventory_proxy_jump=True)
        assert changed(records) == [], records
        # a guest already running as asked is not waited for
        assert [r['_status'] for r in task(records, 'Wait for the running guests')] == ['skipped'], records
    where = [r for r in records if r['_task'] == 'Where is it'][0]
    assert where['_host'] == GUEST and where['msg'].endswith(' localhost root -o ProxyJump=root@localhost'), where

    # a change to an existing guest is preceded by the role's snapshot; the rerun takes none
    for _run in range(2):
        records, _out = play(tmp_path, [guest(memory='112MiB', snapshot_before_change=True)])
    snaps = [s.getName() for s in conn.lookupByName(GUEST).listAllSnapshots()]
    assert len(snaps) == 1 and snaps[0].startswith('guests-before-change-'), snaps
    assert changed(records) == []

    # absent: the guest goes, its volume stays
    records, _out = play(tmp_path, [guest(state='absent')])
    assert [t.split(' : ')[-1] for t in changed(records)] == ['Guests marked absent are removed']
    assert GUEST not in [d.name() for d in conn.listAllDomains()]
    assert os.path.exists(os.path.join(POOL_DIR, GUEST + '.qcow2'))


def test_a_failed_guest_does_not_stop_the_others_and_a_restart_is_named(env, tmp_path):
    """One guest fails to start (its kernel is no kernel): the others are still converged, and the role's batch
    fails at the end naming it. Then a change that waits for a restart is named by the role's handler."""
    conn = env
    kernel, initrd = _tiny()
    bad, good = PREFIX + 'bad', PREFIX + 'web2'
    bogus = os.path.join(POOL_DIR, 'kvmtg-bogus-vmlinuz')
    with open(bogus, 'wb') as stream:
        stream.write(b'no kernel' * 512)
    running = dict(name=good, memory='96MiB', vcpus=1, type='qemu', kernel=kernel, initrd=initrd,
                   cmdline='console=ttyS0 quiet panic=-1', graphics=dict(type='none'))
    guests = [dict(name=bad, type='qemu', memory='64MiB', kernel=bogus, graphics=dict(type='none')), running]
    records, out = play(tmp_path, guests, expect_failure=True)
    failed = [r for r in records if r['_status'] == 'failed']
    assert len(failed) == 1 and failed[0]['failed_domains'] == [bad], failed
    assert failed[0]['msg'].startswith('1 of 2 domains failed: %s: start domain' % bad), failed[0]['msg']
    assert bad in out and "start domain '%s' failed" % bad in out
    assert conn.lookupByName(good).isActive()              # converged although the guest before it failed
    assert not conn.lookupByName(bad).isActive()

    # a larger balloon ceiling waits for a restart: the handler names the guest; the persistent definition has it
    records, _out = play(tmp_path, [dict(running, max_memory='160MiB')], guests_wait_for_ip=False)
    said = task(records, 'Say which guests wait for a restart')
    assert len(said) == 1 and said[0]['msg'].endswith(': ' + good), said
    domains = task(records, 'Guests defined')[0]['domains']
    assert domains[good]['restart_required'] and domains[good]['changed'], domains
    dom = conn.lookupByName(good)
    assert dom.isActive() and "<memory unit='KiB'>163840</memory>" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)


def test_a_base_image_and_the_overlays_on_it_are_made_by_one_task_on_a_first_run(env, tmp_path):
    """The README's example: a base image (not attached) listed before the overlays of two guests. One kvm_volumes
    task makes them in list order: check mode predicts the overlays on the base the run makes first, the run makes
    exactly that, and the rerun changes nothing."""
    kernel, initrd = _tiny()
    base = PREFIX + 'base.qcow2'

    def tiny(name, volumes):
        return dict(name=PREFIX + name, memory='64MiB', vcpus=1, type='qemu', kernel=kernel, initrd=initrd,
                    graphics=dict(type='none'), state='present', volumes=volumes)
    guests = [tiny('ov1', [dict(name=base, pool=POOL, capacity='32MiB', attach=False),
                           dict(name=PREFIX + 'ov1.qcow2', pool=POOL, backing=base)]),
              tiny('ov2', [dict(name=PREFIX + 'ov2.qcow2', pool=POOL, backing=base, capacity='48MiB')])]
    keys = ['%s/%s' % (POOL, name) for name in (base, PREFIX + 'ov1.qcow2', PREFIX + 'ov2.qcow2')]
    try:
        records, _out = play(tmp_path, guests, check=True)
        predicted = task(records, "The guests' volumes")[0]
        assert predicted['_action'] == 'kvmops.kvm.kvm_volumes' and list(predicted['volumes']) == keys, predicted
        assert predicted['volumes'][keys[1]]['actions'] == [
            "create volume '%s': qcow2, overlay on %s/%s (which this run creates first), 32 MiB" % (keys[1], POOL_DIR, base)]
        assert not os.path.exists(os.path.join(POOL_DIR, base))

        records, _out = play(tmp_path, guests)
        made = task(records, "The guests' volumes")
        assert len(made) == 1 and made[0]['actions'] == predicted['actions'], made
        for name in ('ov1', 'ov2'):
            overlay = os.path.join(POOL_DIR, '%s%s.qcow2' % (PREFIX, name))
            info = json.loads(subprocess.run(['qemu-img', 'info', '-U', '--output=json', overlay], check=True,
                                             capture_output=True, text=True).stdout)
            assert info['backing-filename'] == os.path.join(POOL_DIR, base), info
            assert overlay in env.lookupByName(PREFIX + name).XMLDesc()   # attached by path
        assert base not in env.lookupByName(PREFIX + 'ov1').XMLDesc()      # attach: false

        for check in (True, False):
            records, _out = play(tmp_path, guests, check=check)
            assert changed(records) == [], records
    finally:
        for name in ('ov1', 'ov2'):
            try:
                env.lookupByName(PREFIX + name).undefine()
            except libvirt.libvirtError:
                pass
        pool = env.storagePoolLookupByName(POOL)
        pool.refresh(0)
        for volume in pool.listAllVolumes():
            if volume.name() in (base, PREFIX + 'ov1.qcow2', PREFIX + 'ov2.qcow2'):
                volume.delete(0)
