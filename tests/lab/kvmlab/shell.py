"""Running commands, polling conditions, and the lab's logger."""
import logging
import subprocess
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

log = logging.getLogger("kvmlab")
T = TypeVar("T")


class LabError(RuntimeError):
    pass


def run(cmd: Sequence[str], check: bool = True, timeout: float = 120, input: str | None = None,
        quiet: bool = False) -> subprocess.CompletedProcess:
    if not quiet:
        log.debug("run: %s", " ".join(map(str, cmd)))
    # never the caller's stdin: ssh makes its stdin non-blocking and, when killed by the timeout, leaves it so,
    # and every later `ansible` sharing that stdin then refuses to run
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, input=input,
                          stdin=None if input is not None else subprocess.DEVNULL, check=False)
    if check and proc.returncode != 0:
        raise LabError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}): "
                       f"{proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def wait_for(condition: Callable[[], T], timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll until condition() returns something truthy (and return it); exceptions count as 'not yet'."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = condition()
            if result:
                return result
        except Exception as error:  # noqa: BLE001 - a probe failing just means "not ready yet"
            last_error = error
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise LabError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        time.sleep(interval)
