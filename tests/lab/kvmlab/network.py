"""The lab network: one bridge in the root namespace, network namespaces attached to it by veth
pairs, and a DHCP server (dnsmasq) that answers only on the bridge."""
import ipaddress
import json
import os
import signal
from pathlib import Path

from . import config, processes
from .shell import LabError, run, wait_for
from .state import State


def link_exists(name: str, netns: str | None = None) -> bool:
    prefix = ["ip", "-n", netns] if netns else ["ip"]
    return run([*prefix, "link", "show", "dev", name], check=False, quiet=True).returncode == 0


def netns_exists(name: str) -> bool:
    return Path("/run/netns", name).exists()


def lab_netns_names() -> list[str]:
    out = run(["ip", "-j", "netns", "list"], check=False, quiet=True).stdout.strip()
    return [entry["name"] for entry in json.loads(out or "[]") if entry["name"].startswith(config.PREFIX)]


def lab_link_names() -> list[str]:
    out = run(["ip", "-j", "link", "show"], quiet=True).stdout
    return [entry["ifname"] for entry in json.loads(out) if entry["ifname"].startswith(config.PREFIX)]


def _check_subnet_is_free() -> None:
    """Refuse to run if the lab subnet is routed anywhere but the lab bridge."""
    lab_net = ipaddress.ip_network(f"{config.SUBNET_PREFIX}.0/{config.NETMASK_BITS}")
    for route in json.loads(run(["ip", "-j", "route", "show"], quiet=True).stdout):
        dst = route.get("dst", "default")
        if dst == "default" or route.get("dev") == config.BRIDGE:
            continue
        if ipaddress.ip_network(dst, strict=False).overlaps(lab_net):
            raise LabError(f"lab subnet {lab_net} overlaps route {dst} on {route.get('dev')}")


def ensure_bridge(state: State) -> None:
    if link_exists(config.BRIDGE) and not any(r == {"kind": "link", "name": config.BRIDGE} for r in state.resources):
        raise LabError(f"{config.BRIDGE} exists but this lab ({config.RUN_DIR}) did not make it: another checkout's "
                       f"lab instance {config.INSTANCE} is up (`kvmlab down` there, or choose another KVMLAB_INSTANCE)")
    if not link_exists(config.BRIDGE):
        _check_subnet_is_free()
        state.add("link", name=config.BRIDGE)
        run(["ip", "link", "add", config.BRIDGE, "type", "bridge", "stp_state", "0"])
        run(["ip", "addr", "add", f"{config.BRIDGE_IP}/{config.NETMASK_BITS}", "dev", config.BRIDGE])
    run(["ip", "link", "set", config.BRIDGE, "up"])


def ensure_netns(state: State, name: str, ip: str, bridge_inside: bool = False) -> None:
    """A namespace whose eth0 is a veth on the lab bridge; its address goes on eth0, or on a
    bridge br0 over eth0 when guests inside should share the lab segment."""
    if not netns_exists(name):
        state.add("netns", name=name)
        run(["ip", "netns", "add", name])
    root_end = f"{name}-r"
    if not link_exists(root_end):
        state.add("link", name=root_end)
        run(["ip", "link", "add", root_end, "type", "veth", "peer", "name", "eth0", "netns", name])
    run(["ip", "link", "set", root_end, "master", config.BRIDGE, "up"])
    ns = ["ip", "-n", name]
    run([*ns, "link", "set", "lo", "up"])
    address_dev = "eth0"
    if bridge_inside:
        address_dev = "br0"
        if not link_exists("br0", name):
            eth0 = json.loads(run([*ns, "-j", "link", "show", "eth0"]).stdout)[0]
            run([*ns, "link", "add", "br0", "type", "bridge", "stp_state", "0"])
            # the bridge keeps the uplink's MAC, or it takes a tap's and migration traffic breaks
            run([*ns, "link", "set", "br0", "address", eth0["address"]])
            run([*ns, "link", "set", "eth0", "master", "br0"])
        run([*ns, "link", "set", "br0", "up"])
    run([*ns, "link", "set", "eth0", "up"])
    addrs = json.loads(run([*ns, "-j", "addr", "show", "dev", address_dev]).stdout)[0]["addr_info"]
    if not any(a.get("local") == ip for a in addrs):
        run([*ns, "addr", "add", f"{ip}/{config.NETMASK_BITS}", "dev", address_dev])
    run([*ns, "route", "replace", "default", "via", config.BRIDGE_IP])


def dhcp_hosts_file() -> Path:
    return config.RUN_DIR / "dhcp-hosts"


def reserve_address(state: State, mac: str, ip: str, hostname: str) -> None:
    """Tell dnsmasq to hand `ip` to `mac` (it rereads the file on SIGHUP)."""
    path = dhcp_hosts_file()
    lines = [line for line in path.read_text().splitlines() if not line.startswith(mac)] if path.exists() else []
    lines.append(f"{mac},{ip},{hostname}")
    path.write_text("\n".join(lines) + "\n")
    dhcp = state.component("dhcp")
    if dhcp and processes.is_running(dhcp["pid"], dhcp["started"]):
        os.kill(dhcp["pid"], signal.SIGHUP)


def ensure_dhcp(state: State) -> None:
    current = state.component("dhcp")
    if current and processes.is_running(current["pid"], current["started"]):
        return
    config.RUN_DIR.mkdir(parents=True, exist_ok=True)
    dhcp_hosts_file().touch()
    cmd = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0",
           "--bind-interfaces", f"--interface={config.BRIDGE}", "--except-interface=lo",
           f"--listen-address={config.BRIDGE_IP}",
           f"--dhcp-range={config.DHCP_RANGE[0]},{config.DHCP_RANGE[1]},255.255.255.0,12h",
           f"--dhcp-hostsfile={dhcp_hosts_file()}", f"--dhcp-leasefile={config.RUN_DIR / 'dnsmasq.leases'}",
           "--dhcp-authoritative", "--dhcp-rapid-commit", "--no-resolv", "--no-hosts",
           f"--pid-file={config.RUN_DIR / 'dnsmasq.pid'}", "--user=root"]
    pid, started = processes.spawn(cmd, config.RUN_DIR / "dnsmasq.log")
    state.add("process", pid=pid, started=started, what="dnsmasq")
    state.set_component("dhcp", {"pid": pid, "started": started})

    def listening() -> bool:
        return f"pid={pid}," in run(["ss", "-Hlunp", "sport", "= :67"], quiet=True).stdout

    wait_for(listening, 5, "dnsmasq on :67")


def private_etc_mounts(work_dir: Path, hostname: str) -> str:
    """Shell commands (for a private mount namespace) that give it its own /etc/hosts naming every
    lab host and a resolver with no nameserver: the machine's DNS is unreachable from the lab
    network, and each lookup of the namespace's hostname would otherwise hang for 10 s."""
    names = ["127.0.0.1 localhost", f"{config.BRIDGE_IP} {config.PREFIX}gateway",
             f"{config.STORAGE_IP} {config.PREFIX}nfs"]
    names += [f"{config.host_ip(i)} {config.host_name(i)}" for i in range(1, config.MAX_HOSTS + 1)]
    (work_dir / "hosts").write_text("\n".join(names) + "\n")
    (work_dir / "resolv.conf").write_text("options timeout:1 attempts:1\n")
    return (f"mount --bind {work_dir / 'hosts'} /etc/hosts; "
            f"mount --bind {work_dir / 'resolv.conf'} /etc/resolv.conf; hostname {hostname}")
