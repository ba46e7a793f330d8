"""Daemons the lab starts: spawned in the foreground of a new session, known by pid *and* start
time so that a recycled pid is never killed."""
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from .shell import log, wait_for

# Popen objects of daemons started by this process, kept so Python does not warn about (or reap)
# children that are meant to outlive the call that started them
_daemons: list[subprocess.Popen] = []


def start_time(pid: int) -> int | None:
    """Kernel start time of a live (non-zombie) process, None otherwise."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def is_running(pid: int, started: int | None) -> bool:
    return started is not None and start_time(pid) == started


def spawn(cmd: Sequence[str], log_path: Path) -> tuple[int, int]:
    """Start a daemon that stays in the foreground; returns (pid, start time)."""
    log.debug("spawn: %s", " ".join(map(str, cmd)))
    with open(log_path, "ab") as out:
        proc = subprocess.Popen([str(c) for c in cmd], stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    _daemons.append(proc)
    started = wait_for(lambda: start_time(proc.pid), 5, f"{cmd[0]} to start")
    return proc.pid, started


def terminate(pid: int, started: int | None, timeout: float = 10) -> None:
    if not is_running(pid, started):
        _reap(pid)
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _reap(pid)
            if not is_running(pid, started):
                return
            time.sleep(0.05)


def kill_all(pids: Sequence[int]) -> None:
    """SIGKILL a set of processes (everything left in a namespace the lab made) and wait for them."""
    targets = [(pid, start_time(pid)) for pid in pids]
    for pid, started in targets:
        if started is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for pid, started in targets:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and is_running(pid, started):
            _reap(pid)
            time.sleep(0.05)
        _reap(pid)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
