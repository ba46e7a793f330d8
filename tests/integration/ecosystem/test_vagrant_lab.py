"""vagrant/Vagrantfile for real (Debian's vagrant + vagrant-libvirt, this machine's qemu:///system, TCG): the lab's
Debian image packaged as a local box (scripts/vagrant_box.sh, no download), `vagrant up` boots a managed VM and
Vagrant's ansible provisioner runs vagrant/provision.yml with this collection's modules; `vagrant provision` again
changes nothing; `vagrant destroy -f` leaves no domain, network or disk behind (checked with libvirt). Every name
carries the prefix kvmte-vg-; the management network is isolated, on a subnet of its own."""

import ipaddress
import os
import re
import shutil
import subprocess
import time

import pytest

from harness import PYTHON, ROOT

libvirt = pytest.importorskip('libvirt')

PREFIX = 'kvmte-vg-'
BOX = PREFIX + 'debian'
POOL = PREFIX + 'pool'
NETWORK = PREFIX + 'mgmt'
SUBNET = '10.213.244.0/24'
# under the checkout, not /tmp: QEMU (libvirt-qemu) reads the box's kernel and initrd from VAGRANT_HOME
BASE = os.path.join(ROOT, '.cache', 'kvmte-vagrant')
RECAP = re.compile(r'^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)


def purge(conn):
    for dom in conn.listAllDomains():
        if dom.name().startswith(PREFIX):
            if dom.isActive():
                dom.destroy()
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
    for net in conn.listAllNetworks():
        if net.name().startswith(PREFIX):
            persistent = net.isPersistent()
            if net.isActive():
                net.destroy()
            if persistent:
                net.undefine()
    for pool in conn.listAllStoragePools():
        if pool.name().startswith(PREFIX):
            if pool.isActive():
                pool.refresh()
                for vol in pool.listAllVolumes():
                    vol.delete()
                pool.destroy()
            pool.undefine()
    # libvirt leaves an isolated network's dnsmasq pid file and ports directory in its run directory
    for name in os.listdir('/run/libvirt/network') if os.path.isdir('/run/libvirt/network') else []:
        if name.startswith(PREFIX):
            path = os.path.join('/run/libvirt/network', name)
            shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)


def names(conn):
    return dict(domains=sorted(d.name() for d in conn.listAllDomains() if d.name().startswith(PREFIX)),
                networks=sorted(n.name() for n in conn.listAllNetworks() if n.name().startswith(PREFIX)))


@pytest.fixture
def vagrant(conn, lab_debian_image):
    binary = shutil.which('vagrant')
    assert binary, 'vagrant is missing: scripts/bootstrap.sh installs it with vagrant-libvirt (bindep.txt)'
    network = ipaddress.ip_network(SUBNET)
    for line in subprocess.run(['ip', '-4', '-o', 'addr'], capture_output=True, text=True, check=True).stdout.split('\n'):
        fields = line.split()
        if len(fields) > 3 and not fields[1].startswith(PREFIX):
            assert ipaddress.ip_interface(fields[3]).ip not in network, 'subnet %s is taken: %s' % (SUBNET, line)
    purge(conn)
    shutil.rmtree(BASE, ignore_errors=True)
    os.makedirs(os.path.join(BASE, 'pool'))
    began = time.monotonic()
    box = subprocess.run([os.path.join(ROOT, 'scripts', 'vagrant_box.sh')], capture_output=True, text=True,
                         check=True, cwd=ROOT, timeout=600).stdout.strip().splitlines()[-1]
    pool = conn.storagePoolDefineXML("<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>"
                                     % (POOL, os.path.join(BASE, 'pool')))
    pool.create()
    env = dict(os.environ, VAGRANT_HOME=os.path.join(BASE, 'home'), VAGRANT_DOTFILE_PATH=os.path.join(BASE, 'dot'),
               VAGRANT_CHECKPOINT_DISABLE='1', VAGRANT_CWD=os.path.join(ROOT, 'vagrant'),
               KVMOPS_VAGRANT_PREFIX=PREFIX, KVMOPS_VAGRANT_BOX=BOX, KVMOPS_VAGRANT_POOL=POOL,
               KVMOPS_VAGRANT_SUBNET=SUBNET, KVMOPS_VAGRANT_DRIVER='qemu',
               KVMOPS_VAGRANT_KEY=os.path.join(os.path.dirname(os.path.dirname(str(lab_debian_image.disk.parent))),
                                               'keys', 'id_ed25519'),
               PATH=os.path.dirname(PYTHON) + os.pathsep + os.environ['PATH'],
               ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'), ANSIBLE_DEPRECATION_WARNINGS='0')
    timings = {}

    def run(*args, **kwargs):
        start = time.monotonic()
        proc = subprocess.run([binary] + list(args) + ['--no-color'], env=env, capture_output=True, text=True,
                              check=False, stdin=subprocess.DEVNULL, timeout=kwargs.get('timeout', 1500))
        timings[' '.join(args)] = round(time.monotonic() - start, 1)
        return proc
    try:
        added = run('box', 'add', '--force', '--name', BOX, box)
        assert added.returncode == 0, added.stdout + added.stderr
        timings['box'] = round(time.monotonic() - began, 1)
        yield run
    finally:
        run('destroy', '-f', timeout=300)
        run('box', 'remove', '--force', BOX, timeout=300)
        purge(conn)
        shutil.rmtree(BASE, ignore_errors=True)
        print('vagrant timings (s): %s' % timings)


def recap(proc):
    found = RECAP.findall(proc.stdout)
    assert found, proc.stdout[-3000:] + proc.stderr[-3000:]
    return dict((host, dict(ok=int(ok), changed=int(changed), unreachable=int(unreachable), failed=int(failed)))
                for host, ok, changed, unreachable, failed in found)


@pytest.mark.lab
def test_vagrant_up_provisions_idempotently_and_destroy_leaves_nothing(vagrant, conn):
    up = vagrant('up')
    assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
    first = recap(up)
    assert list(first) == ['managed1'] and first['managed1']['failed'] == 0 and first['managed1']['changed'] == 2
    dom = conn.lookupByName(PREFIX + 'managed1')
    assert dom.isActive()
    xml = dom.XMLDesc()
    assert "type='qemu'" in xml and '<kernel>' in xml and "<source network='%s'" % NETWORK in xml
    net = conn.networkLookupByName(NETWORK)
    assert '<forward' not in net.XMLDesc() and "address='10.213.244.1'" in net.XMLDesc()   # isolated

    again = vagrant('provision')
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert recap(again) == {'managed1': dict(ok=5, changed=0, unreachable=0, failed=0)}

    gone = vagrant('destroy', '-f', timeout=300)
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert names(conn) == dict(domains=[], networks=[])
    pool = conn.storagePoolLookupByName(POOL)
    pool.refresh()
    # only the box's base image stays, as vagrant-libvirt keeps it for the next `up` (removed with the pool)
    volumes = [vol.name() for vol in pool.listAllVolumes()]
    assert len(volumes) == 1 and volumes[0].startswith(BOX + '_vagrant_box_image_'), volumes
