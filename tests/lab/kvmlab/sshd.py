"""An sshd inside the namespaces of a lab daemon, so that ssh sessions (Ansible, qemu+ssh) see
what that daemon sees: its network, hostname and mounts."""
import socket
from pathlib import Path

from . import processes
from .keys import LabKeys
from .shell import wait_for
from .state import State


def start_sshd(state: State, keys: LabKeys, ns_pid: int, ip: str, work_dir: Path, what: str) -> tuple[int, int]:
    # sshd's privilege separation directory is compiled in; on a machine that never ran sshd it is missing
    privsep = Path("/run/sshd")
    if not privsep.exists():
        state.add("path", path=str(privsep), only_if_empty=True)
        privsep.mkdir(mode=0o755)
    config_path = work_dir / "sshd_config"
    config_path.write_text(
        f"ListenAddress {ip}\nPort 22\nHostKey {keys.host_key}\nPidFile none\nUsePAM no\n"
        f"PermitRootLogin prohibit-password\nAuthorizedKeysFile {keys.authorized_keys}\nStrictModes no\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUseDNS no\nMaxStartups 50\n"
        "MaxSessions 50\nSubsystem sftp /usr/lib/openssh/sftp-server\n")
    pid, started = processes.spawn(
        ["nsenter", "-t", str(ns_pid), "-m", "-u", "-n", "/usr/sbin/sshd", "-D", "-e", "-f", config_path],
        work_dir / "sshd.log")
    state.add("process", pid=pid, started=started, what=what)
    wait_for(lambda: _port_open(ip, 22), 10, f"{what} on {ip}:22")
    return pid, started


def _port_open(ip: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((ip, port)) == 0
