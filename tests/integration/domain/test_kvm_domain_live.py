"""kvm_domain against the machine's real libvirtd, with the lab's tiny guest (a Debian kernel + busybox)."""

import os
import subprocess
import time

import libvirt
import pytest
from lxml import etree

from domain_env import DISK_DIR, NETWORK, PREFIX, SUBNET
from harness import contract, fails, ok
from kvmlab.shell import LabError

READY = 'KVMLAB-READY'


def guest(tiny, name='g1', **extra):
    args = dict(name=PREFIX + name, memory=128, kernel=str(tiny.kernel), initrd=str(tiny.initrd),
                cmdline='console=ttyS0 quiet panic=-1 ip=dhcp kvmlab.hostname=%s' % name,
                interfaces=[dict(network=NETWORK)], graphics=dict(type='none'))
    args.update(extra)
    return args


def xml_of(conn, name, inactive=False):
    dom = conn.lookupByName(name)
    flags = libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0
    return etree.fromstring(dom.XMLDesc(flags))


def boot(console, name, timeout=180):
    """The guest's serial shell once it has booted: its ready marker, or (when the marker came out before the
    console was opened, after a few module runs) a command that answers: the shell starts after the marker. A tiny
    guest boots in seconds on a quiet machine; the long deadline is for a loaded one (TCG shares the cores)."""
    shell = console(name)
    deadline = time.monotonic() + timeout
    while True:
        try:
            shell.expect(READY, timeout=3)
            return shell
        except LabError:
            pass
        try:
            shell.run('true', timeout=3)
            return shell
        except LabError:
            if time.monotonic() > deadline:
                raise


def test_create_then_nothing_changes_and_ids_stay(conn, tiny):
    args = guest(tiny)
    predicted, applied, last = contract('kvm_domain', args)
    assert applied['actions'] == ["define domain '%s'" % args['name'], "start domain '%s'" % args['name']]
    assert predicted['domain']['uuid'] is None
    dom = conn.lookupByName(args['name'])
    root = xml_of(conn, args['name'])
    assert root.get('type') == 'qemu'   # no usable KVM on this machine
    assert any('emulation' in w for w in applied.get('warnings', []))
    mac = root.find('devices/interface/mac').get('address')
    uuid = dom.UUIDString()
    # the peer's bug: every run assigned a new MAC. Ours keeps MAC and UUID, run after run
    for _run in range(2):
        again = ok('kvm_domain', args)
        assert again['changed'] is False
        assert again['domain']['interfaces'][0]['mac'] == mac
        assert again['domain']['uuid'] == uuid
    assert xml_of(conn, args['name'], inactive=True).find('devices/interface/mac').get('address') == mac
    assert root.find('devices/serial') is not None and root.find('devices/console') is not None
    assert root.find('devices/graphics') is None


def test_generated_mac_is_predicted_by_check_mode(conn, tiny):
    predicted = ok('kvm_domain', guest(tiny), check=True)
    applied = ok('kvm_domain', guest(tiny))
    assert predicted['domain']['interfaces'][0]['mac'] == applied['domain']['interfaces'][0]['mac']


def test_power_states(conn, tiny, console):
    name = PREFIX + 'g1'
    contract('kvm_domain', guest(tiny, state='present'))
    assert conn.lookupByName(name).state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    contract('kvm_domain', guest(tiny, state='paused'))
    assert conn.lookupByName(name).state()[0] == libvirt.VIR_DOMAIN_PAUSED
    contract('kvm_domain', dict(name=name, state='running'))
    assert conn.lookupByName(name).state()[0] == libvirt.VIR_DOMAIN_RUNNING
    boot(console, name)
    contract('kvm_domain', dict(name=name, state='paused'))
    contract('kvm_domain', dict(name=name, state='destroyed'))
    assert conn.lookupByName(name).state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    contract('kvm_domain', dict(name=name, state='running'))
    predicted, applied, last = contract('kvm_domain', dict(name=name, state='absent'))
    assert name not in [d.name() for d in conn.listAllDomains()]
    assert last['domain'] is None


def test_graceful_shutdown_of_a_cooperating_guest(conn, tiny, console):
    """The tiny guest runs acpid: the ACPI power button powers it off, no force needed."""
    name = PREFIX + 'g1'
    ok('kvm_domain', guest(tiny))
    boot(console, name)   # acpid listens once the ready marker is out
    predicted, applied, last = contract('kvm_domain', dict(name=name, state='shutdown', shutdown_timeout=60))
    assert applied['actions'] == ["shutdown domain '%s'" % name]
    assert not applied.get('warnings'), 'a cooperating guest needs no force: %r' % applied.get('warnings')
    assert last['domain']['state'] == 'shutoff'
    assert conn.lookupByName(name).state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN]


def test_shutdown_while_the_guest_still_boots(conn, tiny):
    """A power button press before the guest's acpid listens is lost: the module presses again until the
    guest goes off (or shutdown_timeout)."""
    name = PREFIX + 'g1'
    ok('kvm_domain', guest(tiny))
    started = time.monotonic()
    predicted, applied, last = contract('kvm_domain', dict(name=name, state='shutdown', shutdown_timeout=90))
    assert applied['actions'] == ["shutdown domain '%s'" % name] and not applied.get('warnings')
    assert conn.lookupByName(name).state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN]
    assert time.monotonic() - started < 90


def test_shutdown_that_the_guest_ignores(conn, tiny, console):
    """The same guest without its ACPI daemon (kvmlab.acpi=off): the graceful shutdown times out, then
    fails or forces."""
    name = PREFIX + 'g1'
    args = guest(tiny)
    ok('kvm_domain', dict(args, cmdline=args['cmdline'] + ' kvmlab.acpi=off'))
    boot(console, name)   # the power button is pressed on a guest that has booted, not one still in its kernel
    failed = fails('kvm_domain', dict(name=name, state='shutdown', shutdown_timeout=2))
    assert "shut down domain '%s' failed" % name in failed['msg'] and 'force: true' in failed['msg']
    assert conn.lookupByName(name).isActive()
    contract('kvm_domain', dict(name=name, state='shutdown', shutdown_timeout=2, force=True))
    assert conn.lookupByName(name).state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED]


def test_nic_hotplug_is_seen_inside_the_guest(conn, tiny, console):
    name = PREFIX + 'g1'
    ok('kvm_domain', guest(tiny))
    shell = boot(console, name)
    two = guest(tiny, interfaces=[dict(network=NETWORK), dict(network=NETWORK, link_state='down')])
    predicted, applied, last = contract('kvm_domain', two)
    assert [a for a in applied['actions'] if 'attach interface' in a and '(live)' in a]
    assert applied['restart_required'] is False
    macs = [i['mac'] for i in last['domain']['interfaces']]
    assert len(set(macs)) == 2
    rc, out = shell.run('sleep 2; cat /sys/class/net/eth1/address')
    assert rc == 0 and out.strip() == macs[1]
    # link state changes live
    up = guest(tiny, interfaces=[dict(network=NETWORK), dict(network=NETWORK, link_state='up')])
    predicted, applied, last = contract('kvm_domain', up)
    assert any('link_state up (live)' in a for a in applied['actions'])
    assert [i.find('link') for i in xml_of(conn, name).findall('devices/interface')][1].get('state') == 'up'


def _mem_total_mib(conn, name, shell, mib, timeout=60):
    """The guest's MemTotal (MiB) once its balloon reached `mib` MiB (libvirt's 'actual'; the driver gives
    or takes the pages over a few seconds under TCG)."""
    dom = conn.lookupByName(name)
    deadline = time.monotonic() + timeout
    while dom.memoryStats().get('actual') != mib * 1024 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert dom.memoryStats().get('actual') == mib * 1024, dom.memoryStats()
    rc, out = shell.run("awk '/^MemTotal:/ {print $2}' /proc/meminfo")
    assert rc == 0, out
    return int(out.strip()) / 1024.0


def test_memory_and_vcpus_change_live(conn, tiny, console):
    name = PREFIX + 'g1'
    ok('kvm_domain', guest(tiny, memory=128, max_memory=256, vcpus=1, max_vcpus=2))
    shell = boot(console, name)
    rc, out = shell.run('ls -d /sys/bus/virtio/drivers/virtio_balloon/virtio*')
    assert rc == 0, 'the tiny guest has no balloon driver: %s' % out
    at_128 = _mem_total_mib(conn, name, shell, 128)   # booted with 256 MiB of RAM, ballooned down at once
    assert at_128 <= 128
    predicted, applied, last = contract('kvm_domain', guest(tiny, memory=192, max_memory=256, vcpus=2, max_vcpus=2))
    assert "set memory of domain '%s': 192 MiB (live)" % name in applied['actions']
    assert "set vCPUs of domain '%s': 2 (live)" % name in applied['actions']
    assert applied['restart_required'] is False
    assert conn.lookupByName(name).vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE) == 2
    assert int(xml_of(conn, name, inactive=True).findtext('currentMemory')) == 192 * 1024
    at_192 = _mem_total_mib(conn, name, shell, 192)
    assert abs(at_192 - at_128 - 64) < 1, 'MemTotal went from %.1f to %.1f MiB' % (at_128, at_192)
    assert int(xml_of(conn, name).findtext('currentMemory')) == 192 * 1024
    # the hot-added vCPU: there, and working once onlined (no udev in the tiny guest to online it)
    rc, out = shell.run('cat /sys/devices/system/cpu/cpu1/online')
    assert rc == 0, 'the hot-added vCPU is not visible in the guest: %s' % out
    if out.strip() == '0':
        rc, out = shell.run('echo 1 > /sys/devices/system/cpu/cpu1/online')
        assert rc == 0, out
    rc, out = shell.run('nproc; cat /sys/devices/system/cpu/online')
    assert rc == 0 and out.split() == ['2', '0-1'], out
    # down again, still within max_memory: live too
    predicted, applied, last = contract('kvm_domain', guest(tiny, memory=160, max_memory=256, vcpus=2, max_vcpus=2))
    assert applied['actions'] == ["define domain '%s': memory" % name, "set memory of domain '%s': 160 MiB (live)" % name]
    assert applied['restart_required'] is False
    at_160 = _mem_total_mib(conn, name, shell, 160)
    assert abs(at_192 - at_160 - 32) < 1, 'MemTotal went from %.1f to %.1f MiB' % (at_192, at_160)
    assert int(xml_of(conn, name).findtext('currentMemory')) == 160 * 1024


def test_a_change_that_needs_a_restart(conn, tiny):
    name = PREFIX + 'g1'
    ok('kvm_domain', guest(tiny, max_memory=256))
    predicted, applied, last = contract('kvm_domain', guest(tiny, max_memory=384))
    assert applied['restart_required'] is True and last['restart_required'] is True
    assert int(xml_of(conn, name, inactive=True).findtext('memory')) == 384 * 1024
    assert int(xml_of(conn, name).findtext('memory')) == 256 * 1024
    restart = guest(tiny, max_memory=384, restart=True, force=True, shutdown_timeout=2)
    predicted, applied, last = contract('kvm_domain', restart)
    assert [a.split(':')[0] for a in applied['actions']] == ["restart domain '%s'" % name]
    assert int(xml_of(conn, name).findtext('memory')) == 384 * 1024
    assert last['restart_required'] is False


def _iso(path, label):
    subprocess.run(['genisoimage', '-quiet', '-V', label, '-o', path, '/etc/hostname'], check=True)
    return path


def test_cdrom_media_changes_live(conn, tiny):
    name = PREFIX + 'g1'
    one, two = _iso(DISK_DIR + '/one.iso', 'ONE'), _iso(DISK_DIR + '/two.iso', 'TWO')
    contract('kvm_domain', guest(tiny, cdrom=one))

    def media():
        cdrom = [d for d in xml_of(conn, name).findall('devices/disk') if d.get('device') == 'cdrom'][0]
        source = cdrom.find('source')
        return source.get('file') if source is not None else None
    assert media() == one
    predicted, applied, last = contract('kvm_domain', guest(tiny, cdrom=two))
    assert applied['actions'][-1].endswith('(live)') and applied['restart_required'] is False
    assert media() == two
    contract('kvm_domain', guest(tiny, cdrom=''))
    assert media() is None


def test_disks_created_attached_and_detached(conn, tiny, console):
    name = PREFIX + 'g1'
    base = DISK_DIR + '/base.qcow2'
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', base, '64M'], check=True)
    disks = [dict(path=DISK_DIR + '/root.qcow2', backing=base)]
    predicted, applied, last = contract('kvm_domain', guest(tiny, disks=disks))
    assert "create volume '%s/root.qcow2': overlay on %s" % (DISK_DIR, base) in applied['actions']
    info = subprocess.run(['qemu-img', 'info', '-U', DISK_DIR + '/root.qcow2'], capture_output=True, text=True, check=True)
    assert base in info.stdout
    assert last['domain']['disks'][0]['target'] == 'vda'
    shell = boot(console, name)
    more = disks + [dict(path=DISK_DIR + '/data.qcow2', size='32M')]
    predicted, applied, last = contract('kvm_domain', guest(tiny, disks=more))
    assert any(a.startswith("attach disk to domain '%s': vdb" % name) for a in applied['actions'])
    rc, out = shell.run('sleep 1; cat /sys/block/vdb/size')
    assert rc == 0 and int(out.strip()) * 512 == 32 * 1024 * 1024
    predicted, applied, last = contract('kvm_domain', guest(tiny, disks=disks))
    assert any(a.startswith("detach disk from domain '%s': vdb" % name) for a in applied['actions'])
    assert os.path.exists(DISK_DIR + '/data.qcow2'), 'a detached disk must be kept'


def test_absent_keeps_disks_unless_asked(conn, tiny):
    name = PREFIX + 'g1'
    disk = DISK_DIR + '/keep.qcow2'
    ok('kvm_domain', guest(tiny, disks=[dict(path=disk, size='16M')], state='present'))
    contract('kvm_domain', dict(name=name, state='absent'))
    assert os.path.exists(disk)
    ok('kvm_domain', guest(tiny, disks=[dict(path=disk)], state='present'))
    contract('kvm_domain', dict(name=name, state='absent', remove_storage=True))
    assert not os.path.exists(disk)


def test_uefi_guest_is_removed_with_its_nvram(conn, tiny):
    name = PREFIX + 'efi'
    ok('kvm_domain', guest(tiny, name='efi', firmware='uefi', kernel=None, initrd=None, cmdline=None,
                           state='present'))
    nvram = xml_of(conn, name, inactive=True).findtext('os/nvram')
    contract('kvm_domain', dict(name=name, state='absent'))
    assert name not in [d.name() for d in conn.listAllDomains()]
    assert nvram is None or not os.path.exists(nvram)


def test_graphics_listen_on_localhost_and_password_changes_live(conn, tiny):
    name = PREFIX + 'g1'
    args = guest(tiny, graphics=dict(type='vnc', password='first'))
    predicted, applied, last = contract('kvm_domain', args)
    graphics = xml_of(conn, name).find('devices/graphics')
    assert graphics.get('listen') == '127.0.0.1' and graphics.get('autoport') == 'yes'
    assert 'first' not in str(applied) and last['domain']['graphics']['port'] >= 5900
    predicted, applied, last = contract('kvm_domain', guest(tiny, graphics=dict(type='vnc', password='second')))
    assert "set graphics password of domain '%s': ******** (live)" % name in applied['actions']
    assert 'second' not in str(applied)
    secure = etree.fromstring(conn.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE))
    assert secure.find('devices/graphics').get('passwd') == 'second'


def test_wait_for_ip_returns_an_address_the_host_can_ping(conn, tiny):
    result = ok('kvm_domain', guest(tiny, wait_for='ip', wait_timeout=120))
    addresses = result['domain']['interfaces'][0]['ipv4']
    assert addresses and addresses[0].startswith(SUBNET)
    # the lease exists from the DHCP ACK on; the guest configures the address a moment later
    subprocess.run(['ping', '-c', '1', '-w', '30', addresses[0]], check=True, capture_output=True)


def test_cloud_init_seed_is_built_once(conn, tiny):
    name = PREFIX + 'ci'
    seed = '/var/lib/libvirt/images/%s-cidata.iso' % name
    args = guest(tiny, name='ci', state='present',
                 cloud_init=dict(user_data=dict(hostname='ci1', ssh_authorized_keys=['ssh-ed25519 AAAA test'])))
    predicted, applied, last = contract('kvm_domain', args)
    assert "build seed ISO '%s': for domain %s" % (seed, name) in applied['actions']
    assert any(d.get('device') == 'cdrom' and d.find('source').get('file') == seed
               for d in xml_of(conn, name, inactive=True).findall('devices/disk'))
    listing = subprocess.run(['isoinfo', '-d', '-i', seed], capture_output=True, text=True, check=True).stdout
    assert 'Volume id: cidata' in listing
    built = os.stat(seed).st_mtime_ns
    ok('kvm_domain', args)
    assert os.stat(seed).st_mtime_ns == built, 'an unchanged seed must not be rebuilt'
    changed = dict(args, cloud_init=dict(user_data=dict(hostname='ci2')))
    predicted, applied, last = contract('kvm_domain', changed)
    assert applied['actions'] == ["build seed ISO '%s': for domain %s" % (seed, name)]


def _snapshot(conn):
    """This suite's guests (others on the machine, such as a lab's, change on their own)."""
    return sorted((d.name(), d.XMLDesc(0)) for d in conn.listAllDomains() if d.name().startswith(PREFIX))


def test_bad_input_is_rejected_and_changes_nothing(conn, tiny):
    ok('kvm_domain', guest(tiny, name='other', state='present', interfaces=[dict(network=NETWORK, mac='52:54:00:aa:bb:01')]))
    before = _snapshot(conn)
    cases = [
        (guest(tiny, interfaces=[dict(network=PREFIX + 'nonet')]), ['interfaces[0].network', 'does not exist']),
        (guest(tiny, interfaces=[dict(bridge='kvmt-nobr0')]), ['interfaces[0].bridge', 'does not exist']),
        (guest(tiny, kernel='/nonexistent/vmlinuz'), ['kernel', 'does not exist']),
        (guest(tiny, cdrom='/nonexistent.iso'), ['cdrom', 'does not exist']),
        (guest(tiny, disks=[dict(path=DISK_DIR + '/missing.qcow2')]), ['disks[0]', 'give size']),
        (guest(tiny, disks=[dict(path=DISK_DIR + '/a.qcow2', size=1, target='vda'),
                            dict(path=DISK_DIR + '/b.qcow2', size=1, target='vda')]), ['disks[1].target', 'already used']),
        (guest(tiny, disks=[dict(path=DISK_DIR + '/c.qcow2', backing='/nonexistent/base.qcow2')]), ['disks[0].backing']),
        (guest(tiny, interfaces=[dict(network=NETWORK, mac='52:54:00:zz:00:01')]), ['interfaces[0].mac', 'not a MAC']),
        (guest(tiny, interfaces=[dict(network=NETWORK, mac='52:54:00:aa:bb:01')]), ['interfaces[0].mac', PREFIX + 'other']),
        (guest(tiny, interfaces=[dict(network=NETWORK, mac='52:54:00:aa:bb:02'), dict(network=NETWORK, mac='52:54:00:AA:BB:02')]),
         ['interfaces[1].mac', 'already given']),
        (guest(tiny, memory='512MiB', max_memory='256MiB'), ['max_memory', 'below memory']),
        (guest(tiny, memory='64TiB'), ['memory', 'more than the host has']),
        (guest(tiny, vcpus=9999), ['vcpus']),
        (guest(tiny, vcpus=3, max_vcpus=2), ['max_vcpus', 'below vcpus']),
        (guest(tiny, type='kvm'), ['type', 'kvm is not usable', 'kvm_pvm']),
        (guest(tiny, cpu=dict(mode='host-passthrough')), ['cpu.mode', 'not available']),
        (guest(tiny, machine='pc-nonexistent-1.0'), ['machine', 'not a machine type']),
        (guest(tiny, memory='lots'), ['memory', 'not a size']),
        (dict(guest(tiny), name='bad name'), ['name', 'not a valid name']),
    ]
    for args, words in cases:
        for check in (True, False):
            result = fails('kvm_domain', args, check=check)
            for word in words:
                assert word in result['msg'], '%r not in %r' % (word, result['msg'])
    assert _snapshot(conn) == before
    assert sorted(os.listdir(DISK_DIR)) == []


@pytest.mark.lab
def test_cloud_init_debian_guest_gets_hostname_and_key(conn, lab_debian_image, tmp_path):
    """A real Debian guest (the lab image) configured only through our seed; a rerun does not rebuild it."""
    image = lab_debian_image
    key = tmp_path / 'id_ed25519'
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(key)], check=True)
    public = key.with_suffix('.pub').read_text().strip()
    name = PREFIX + 'deb'
    args = dict(name=name, memory=512, vcpus=2, kernel=str(image.kernel), initrd=str(image.initrd),
                cmdline='%s cloud-init=enabled ds=nocloud' % image.cmdline,
                disks=[dict(path=DISK_DIR + '/deb.qcow2', backing=str(image.disk))],
                interfaces=[dict(network=NETWORK)], graphics=dict(type='none'),
                cloud_init=dict(user_data=dict(hostname='ci-deb', disable_root=False, ssh_authorized_keys=[public])),
                wait_for='ip', wait_timeout=300)
    result = ok('kvm_domain', args)
    address = result['domain']['interfaces'][0]['ipv4'][0]
    ssh = ['ssh', '-i', str(key), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
           '-o', 'ConnectTimeout=5', '-o', 'IdentitiesOnly=yes', 'root@' + address]
    deadline = time.monotonic() + 300
    while True:   # sshd and cloud-init come up after DHCP: the key is only there once cloud-init ran
        probe = subprocess.run(ssh + ['cloud-init status --wait >/dev/null; hostname'], capture_output=True,
                               text=True, timeout=320, check=False, stdin=subprocess.DEVNULL)
        if probe.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(5)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == 'ci-deb'
    seed = '/var/lib/libvirt/images/%s-cidata.iso' % name
    built = os.stat(seed).st_mtime_ns
    again = ok('kvm_domain', args)
    assert again['changed'] is False and os.stat(seed).st_mtime_ns == built
