"""Undoing what the lab made: first everything recorded in its state (newest first), then a sweep
by name prefix for anything a crash kept out of the record. Never touches unprefixed objects."""
import glob
import shutil
import time
from pathlib import Path

import libvirt

from . import config, network, processes
from .shell import log, run
from .state import State

SCRATCH_GLOB = "/dev/shm/kvmlab-image-*"


def undo(resource: dict) -> None:
    kind = resource["kind"]
    if kind == "process":
        processes.terminate(resource["pid"], resource["started"])
    elif kind == "netns":
        remove_netns(resource["name"])
    elif kind == "link":
        if resource["name"].startswith(config.PREFIX) and network.link_exists(resource["name"]):
            run(["ip", "link", "del", resource["name"]], check=False)
    elif kind == "domain":
        remove_domain(resource["uri"], resource["name"])
    elif kind == "path":
        remove_path(Path(resource["path"]), resource.get("only_if_empty", False))
    else:
        log.warning("unknown resource kind %s", kind)


def remove_netns(name: str) -> None:
    if not name.startswith(config.PREFIX) or not network.netns_exists(name):
        return
    # whatever runs in a namespace the lab made is the lab's: daemons, their QEMUs, ssh sessions
    pids = run(["ip", "netns", "pids", name], check=False, quiet=True).stdout.split()
    processes.kill_all([int(pid) for pid in pids])
    run(["ip", "netns", "del", name], check=False)


def remove_domain(uri: str, name: str) -> None:
    if not name.startswith(config.PREFIX):
        return
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError:
        return  # a namespaced daemon that is gone took its domains with it
    try:
        domain = conn.lookupByName(name)
        if domain.isActive():
            domain.destroy()
        domain.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                             | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                             | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
    except libvirt.libvirtError:
        pass
    finally:
        conn.close()


def remove_path(path: Path, only_if_empty: bool = False) -> None:
    if only_if_empty:
        # /run/sshd: keep it if another sshd (not the lab's, those are gone by now) may use it
        if path.is_dir() and not any(path.iterdir()) and not _other_sshd_running():
            path.rmdir()
        return
    allowed = (str(config.CACHE_DIR) + "/", "/dev/shm/kvmlab-", f"/var/log/libvirt/qemu/{config.PREFIX}")
    if not str(path).startswith(allowed):
        log.warning("not removing %s: outside the lab's places", path)
        return
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _other_sshd_running() -> bool:
    return run(["pgrep", "-x", "sshd"], check=False, quiet=True).returncode == 0


def system_domains() -> list[str]:
    try:
        conn = libvirt.open(config.SYSTEM_URI)
    except libvirt.libvirtError:
        return []
    try:
        return [d.name() for d in conn.listAllDomains() if d.name().startswith(config.PREFIX)]
    finally:
        conn.close()


def leftovers() -> list[str]:
    """Everything of the lab that exists now, by prefix (empty after a clean `down`)."""
    found = [f"netns {n}" for n in network.lab_netns_names()]
    found += [f"link {n}" for n in network.lab_link_names()]
    found += [f"domain {config.SYSTEM_URI} {n}" for n in system_domains()]
    found += [f"path {p}" for p in abandoned_scratch()]
    found += [f"path {p}" for p in glob.glob(f"/var/log/libvirt/qemu/{config.PREFIX}*")]
    if config.RUN_DIR.exists():
        found.append(f"path {config.RUN_DIR}")
    return found


def tear_down(state: State) -> None:
    for resource in reversed(list(state.resources)):
        began = time.monotonic()
        try:
            undo(resource)
            log.debug("undone in %.1fs: %s", time.monotonic() - began, resource)
        except Exception as error:  # noqa: BLE001 - keep going: the sweep below is the safety net
            log.warning("could not undo %s: %s", resource, error)
    sweep()
    shutil.rmtree(config.RUN_DIR, ignore_errors=True)


def sweep() -> None:
    for name in system_domains():
        remove_domain(config.SYSTEM_URI, name)
    for name in network.lab_netns_names():
        remove_netns(name)
    for name in network.lab_link_names():
        run(["ip", "link", "del", name], check=False)
    for path in abandoned_scratch() + glob.glob(f"/var/log/libvirt/qemu/{config.PREFIX}*"):
        remove_path(Path(path))


def abandoned_scratch() -> list[str]:
    """Image build directories whose builder (pid in the name) is gone."""
    abandoned = []
    for path in glob.glob(SCRATCH_GLOB):
        pid = Path(path).name.split("-")[2]
        if not (pid.isdigit() and processes.start_time(int(pid))):
            abandoned.append(path)
    return abandoned
