"""vagrant/Vagrantfile for real (Debian's vagrant + vagrant-libvirt, this machine's qemu:///system, TCG): the seed's
"Ansible control VM + managed VMs" lab. The lab's Debian image is packaged as a local box (scripts/vagrant_box.sh,
no download) and ansible-core + this collection are staged for the offline VMs (scripts/vagrant_offline.sh);
`vagrant up` boots the control VM and the managed VM(s) and Vagrant's ansible_local provisioner runs
vagrant/provision.yml ON THE CONTROL VM against the managed ones (this machine runs no Ansible here: the venv is
not on PATH); `vagrant provision` again changes nothing; `vagrant destroy -f` leaves no domain, network or disk
behind (checked with libvirt). Every name carries the prefix kvmte-vg-; both networks are isolated, on subnets
of their own. KVMTEST_VAGRANT_MANAGED sets the number of managed VMs (1)."""

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
LAB_NETWORK = PREFIX + 'lab'
SUBNET = '10.213.244.0/24'
LAB_SUBNET = '10.213.245.0/24'
CONTROL_ADDRESS = '10.213.245.10'     # the Vagrantfile's lab addresses: control .10, managedN .10+N
MANAGED = ['managed%d' % n for n in range(1, int(os.environ.get('KVMTEST_VAGRANT_MANAGED', '1')) + 1)]
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
    networks = [ipaddress.ip_network(SUBNET), ipaddress.ip_network(LAB_SUBNET)]
    for line in subprocess.run(['ip', '-4', '-o', 'addr'], capture_output=True, text=True, check=True).stdout.split('\n'):
        fields = line.split()
        if len(fields) > 3 and not fields[1].startswith(PREFIX):
            for network in networks:
                assert ipaddress.ip_interface(fields[3]).ip not in network, 'subnet %s is taken: %s' % (network, line)
    purge(conn)
    shutil.rmtree(BASE, ignore_errors=True)
    os.makedirs(os.path.join(BASE, 'pool'))
    began = time.monotonic()
    timings = {}
    box = subprocess.run([os.path.join(ROOT, 'scripts', 'vagrant_box.sh')], capture_output=True, text=True,
                         check=True, cwd=ROOT, timeout=600).stdout.strip().splitlines()[-1]
    offline = subprocess.run([os.path.join(ROOT, 'scripts', 'vagrant_offline.sh'), os.path.join(BASE, 'offline')],
                             capture_output=True, text=True, check=True, cwd=ROOT, timeout=600)
    timings['box+offline'] = round(time.monotonic() - began, 1)
    pool = conn.storagePoolDefineXML("<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>"
                                     % (POOL, os.path.join(BASE, 'pool')))
    pool.create()
    # no Ansible of this machine on PATH or in the environment: the control VM runs it
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith('ANSIBLE_'))
    env.update(VAGRANT_HOME=os.path.join(BASE, 'home'), VAGRANT_DOTFILE_PATH=os.path.join(BASE, 'dot'),
               VAGRANT_CHECKPOINT_DISABLE='1', VAGRANT_CWD=os.path.join(ROOT, 'vagrant'),
               KVMOPS_VAGRANT_PREFIX=PREFIX, KVMOPS_VAGRANT_BOX=BOX, KVMOPS_VAGRANT_POOL=POOL,
               KVMOPS_VAGRANT_SUBNET=SUBNET, KVMOPS_VAGRANT_LAB_SUBNET=LAB_SUBNET, KVMOPS_VAGRANT_DRIVER='qemu',
               KVMOPS_VAGRANT_MANAGED=str(len(MANAGED)), KVMOPS_VAGRANT_OFFLINE=offline.stdout.strip().splitlines()[-1],
               KVMOPS_VAGRANT_KEY=os.path.join(os.path.dirname(os.path.dirname(str(lab_debian_image.disk.parent))),
                                               'keys', 'id_ed25519'),
               PATH=os.pathsep.join(p for p in os.environ['PATH'].split(os.pathsep)
                                    if os.path.realpath(p) != os.path.realpath(os.path.dirname(PYTHON))))

    def run(*args, **kwargs):
        start = time.monotonic()
        proc = subprocess.run([binary] + list(args) + ['--no-color'], env=env, capture_output=True, text=True,
                              check=False, stdin=subprocess.DEVNULL, timeout=kwargs.get('timeout', 1500))
        timings[' '.join(args)] = round(time.monotonic() - start, 1)
        if os.environ.get('KVMTEST_VAGRANT_LOG'):   # a directory: each command's output, for a failure or timings
            with open(os.path.join(os.environ['KVMTEST_VAGRANT_LOG'], '%s.log' % args[0]), 'a') as log:
                log.write(proc.stdout + proc.stderr)
        return proc
    try:
        added = run('box', 'add', '--force', '--name', BOX, box)
        assert added.returncode == 0, added.stdout + added.stderr
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
    up = vagrant('up', timeout=2400)
    output = up.stdout + up.stderr
    assert up.returncode == 0, output[-5000:]
    # the control VM was made a control node offline, then ran the playbook itself (ansible_local)
    assert re.search(r'control: control VM: installed ansible-core==\S+ .*kvmops\.kvm$', up.stdout, re.M), up.stdout[-5000:]
    assert re.search(r'control: Running ansible-playbook', up.stdout), up.stdout[-5000:]
    first = recap(up)
    assert sorted(first) == MANAGED, first
    for name in MANAGED:
        assert first[name] == dict(ok=7, changed=2, unreachable=0, failed=0), first
        # the collection's modules ran there (kvm_host, kvm_pool, kvm_volume), reached from the control VM
        assert re.search(r'"msg": "%s: libvirt \d+\.\d+\.\d+, volume /var/lib/libvirt/lab-images/seed\.img, '
                         r'managed from %s"' % (name, re.escape(CONTROL_ADDRESS)), up.stdout), up.stdout[-5000:]
    for name in ['control'] + MANAGED:
        dom = conn.lookupByName(PREFIX + name)
        assert dom.isActive(), name
        xml = dom.XMLDesc()
        assert "type='qemu'" in xml and '<kernel>' in xml, name
        assert "<source network='%s'" % NETWORK in xml and "<source network='%s'" % LAB_NETWORK in xml, name
        assert "<memory unit='KiB'>524288</memory>" in xml and '>1</vcpu>' in xml, name
    for name, address in ((NETWORK, "address='10.213.244.1'"), (LAB_NETWORK, "address='10.213.245.1'")):
        xml = conn.networkLookupByName(name).XMLDesc()
        assert '<forward' not in xml and address in xml, xml   # isolated
    assert '<dhcp' not in conn.networkLookupByName(LAB_NETWORK).XMLDesc()   # fixed addresses

    again = vagrant('provision', timeout=1500)
    assert again.returncode == 0, again.stdout[-5000:] + again.stderr[-5000:]
    assert 'control VM: ansible-core and kvmops.kvm already installed, nothing to do' in again.stdout
    assert recap(again) == dict((name, dict(ok=7, changed=0, unreachable=0, failed=0)) for name in MANAGED)

    gone = vagrant('destroy', '-f', timeout=300)
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert names(conn) == dict(domains=[], networks=[])
    pool = conn.storagePoolLookupByName(POOL)
    pool.refresh()
    # only the box's base image stays, as vagrant-libvirt keeps it for the next `up` (removed with the pool)
    volumes = [vol.name() for vol in pool.listAllVolumes()]
    assert len(volumes) == 1 and volumes[0].startswith(BOX + '_vagrant_box_image_'), volumes
