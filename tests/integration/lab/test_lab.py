"""The local lab itself (tests/lab/kvmlab), proven with real components: Ansible over ssh, virsh
live migration between the namespaced hypervisor hosts, NFS shared storage, a Debian guest, and a
`down` (also after a crashed `up`) that leaves nothing behind."""
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import libvirt
import pytest
from lxml import etree

from kvmlab import Lab, config, network, processes, teardown
from kvmlab.domains import nfs_disk_xml

BIN = Path(sys.executable).parent
LAB_CLI = Path(__file__).resolve().parents[2] / "lab" / "kvmlab"


def ansible_ping(lab: Lab, pattern: str) -> dict[str, str]:
    proc = subprocess.run([BIN / "ansible", pattern, "-i", lab.inventory_path, "-m", "ping"],
                          capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL,
                          env={**os.environ, "ANSIBLE_HOST_KEY_CHECKING": "False"})
    results = {}
    for line in proc.stdout.splitlines():
        if " | " in line:
            host, status = line.split(" | ")[:2]
            results[host.strip()] = status.split()[0]
    assert results, proc.stdout + proc.stderr
    return results


def virsh(uri: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["virsh", "-c", uri, *args], capture_output=True, text=True, timeout=120, check=check)


@pytest.fixture
def tiny_name(lab: Lab):
    """A fresh tiny guest name, removed from every lab host afterwards."""
    name = f"{config.PREFIX}t-{uuid.uuid4().hex[:6]}"
    yield name
    for host in lab.hosts:
        lab.remove_guest(host, name)


def test_hypervisor_hosts_and_storage_answer_ansible_ping(lab):
    results = ansible_ping(lab, "kvm_hosts:storage")
    expected = [config.host_name(1), config.host_name(2), lab.storage.name]
    assert results == {name: "SUCCESS" for name in expected}


def test_hosts_answer_on_tcp_ssh_and_unix_uris_with_distinct_host_uuids(lab):
    host_uuids = set()
    for host in lab.hosts:
        for uri in host.uris.values():
            conn = libvirt.open(uri)
            try:
                assert conn.getHostname() == host.name
                host_uuids.add(etree.fromstring(conn.getCapabilities()).findtext("host/uuid"))
            finally:
                conn.close()
    assert len(host_uuids) == len(lab.hosts) == 2


def test_inventory_lists_what_is_up(lab):
    inventory = json.loads(subprocess.run([BIN / "ansible-inventory", "-i", lab.inventory_path, "--list"],
                                          capture_output=True, text=True, check=True).stdout)
    assert inventory["kvm_hosts"]["hosts"] == [config.host_name(1), config.host_name(2)]
    assert inventory["storage"]["hosts"] == [lab.storage.name]
    h1 = inventory["_meta"]["hostvars"][config.host_name(1)]
    assert h1["kvm_uri"] == f"qemu+tcp://{config.host_ip(1)}/system"
    assert h1["ansible_user"] == "root" and "StrictHostKeyChecking=no" in h1["ansible_ssh_common_args"]


def test_tiny_guest_live_migrates_between_hosts_with_virsh(lab, tiny_name):
    host_a, host_b = lab.hosts
    seconds = lab.start_tiny_guest(host_a, tiny_name, ip="dhcp")
    assert seconds < 60
    with lab.console(host_a, tiny_name) as console:
        rc, output = console.run("echo before-migration > /tmp/marker; ip -o -4 addr show eth0")
    assert rc == 0 and f"{config.SUBNET_PREFIX}." in output

    virsh(host_a.tcp_uri, "migrate", "--live", "--persistent", "--undefinesource", tiny_name, host_b.tcp_uri)

    assert tiny_name not in virsh(host_a.tcp_uri, "list", "--all", "--name").stdout.split()
    assert virsh(host_b.tcp_uri, "domstate", tiny_name).stdout.strip() == "running"
    with lab.console(host_b, tiny_name) as console:
        rc, output = console.run(f"cat /tmp/marker; ping -c 1 -W 2 {config.BRIDGE_IP} >/dev/null && echo net-ok")
    assert rc == 0 and output.split() == ["before-migration", "net-ok"]


def test_guest_on_nfs_storage_migrates_as_shared_storage(lab, tiny_name):
    """A disk on the ganesha export (QEMU nfs://) counts as shared: no --unsafe needed."""
    host_a, host_b = lab.hosts
    storage = lab.storage
    disk = Path(storage.export_dir) / f"{tiny_name}.qcow2"
    try:
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", storage.nfs_url(disk.name), "32M"], check=True)
        lab.start_tiny_guest(host_a, tiny_name, ip=f"{config.SUBNET_PREFIX}.71",
                             disks=[nfs_disk_xml(storage.ip, f"{storage.export_path}/{disk.name}")])
        virsh(host_a.tcp_uri, "migrate", "--live", "--persistent", "--undefinesource", tiny_name, host_b.tcp_uri)
        with lab.console(host_b, tiny_name) as console:
            rc, output = console.run("echo written-after-migration | dd of=/dev/vda bs=512 count=1 conv=fsync "
                                     "2>/dev/null; ip -o -4 addr show eth0")
        assert rc == 0 and f"{config.SUBNET_PREFIX}.71/24" in output
    finally:
        lab.remove_guest(host_b, tiny_name)
        lab.remove_guest(host_a, tiny_name)
        disk.unlink(missing_ok=True)


@pytest.mark.lab
def test_debian_guest_is_an_ansible_host_and_mounts_the_nfs_export(lab, lab_debian_guest):
    assert ansible_ping(lab, "guests") == {lab_debian_guest.name: "SUCCESS"}
    marker = f"from-{lab_debian_guest.name}"
    lab.ssh(lab_debian_guest.ip, f"mkdir -p /mnt/lab && mount -t nfs -o vers=4.1 "
                                 f"{lab.storage.ip}:{lab.storage.export_path} /mnt/lab && "
                                 f"echo {marker} > /mnt/lab/{marker} && umount /mnt/lab",
            timeout=180)   # the guest's first NFS mount under TCG: ~50 s on a busy machine, over 60 s at times
    exported = Path(lab.storage.export_dir) / marker
    assert exported.read_text().strip() == marker
    exported.unlink()


@pytest.mark.last
def test_down_leaves_nothing_even_after_a_crashed_up(lab):
    """Runs last (of the session): takes the lab down, checks, then kills an `up` half-way and checks again."""
    pids = _lab_pids(lab)
    assert pids, "the lab should run processes before down"
    lab.down()
    _assert_nothing_left(pids)

    crashing = subprocess.Popen([sys.executable, LAB_CLI, "up", "--hosts", "2", "--storage"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_until(lambda: network.netns_exists(config.host_name(2)), 30)
    crashing.send_signal(signal.SIGKILL)
    crashing.wait()
    pids = _lab_pids(Lab())
    Lab().down()
    _assert_nothing_left(pids)


def _lab_pids(lab: Lab) -> list[tuple[int, int]]:
    pids = []
    for name in network.lab_netns_names():
        out = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True, check=False).stdout
        pids += [(int(p), processes.start_time(int(p))) for p in out.split()]
    state_file = config.RUN_DIR / "state.json"
    if state_file.exists():
        for resource in json.loads(state_file.read_text())["resources"]:
            if resource["kind"] == "process":
                pids.append((resource["pid"], resource["started"]))
    return [p for p in pids if p[1] is not None]


def _assert_nothing_left(pids: list[tuple[int, int]]) -> None:
    assert [p for p in pids if processes.is_running(*p)] == []
    assert teardown.leftovers() == []
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(config.RUN_DIR) not in mounts and f"/run/netns/{config.PREFIX}" not in mounts


def _wait_until(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
