"""The lab as one object: `Lab().up(hosts=2, storage=True)`, `.down()`, `.status()`, plus what
tests need to use it (hosts, storage, guests, inventory, tiny guests and their consoles)."""
import shutil
import time
from pathlib import Path

import libvirt

from . import artifacts, config, domains, guests, hosts, image, inventory, mirror, network, state, storage, teardown
from .console import SerialConsole
from .hosts import HypervisorHost
from .keys import LabKeys, ensure_keys, ssh
from .shell import LabError, wait_for

READY_MARKER = "KVMLAB-READY"


class Lab:
    def __init__(self) -> None:
        self.inventory_path = config.RUN_DIR / "inventory.yml"
        self.hosts: list[HypervisorHost] = []
        self.storage: storage.StorageHost | None = None
        self.guests: list[guests.DebianGuest] = []
        self._keys: LabKeys | None = None
        self.reload()

    # --- lifecycle -------------------------------------------------------------------------
    def up(self, hosts: int = 2, storage: bool = False, debian_guests: int = 0, nfs_guest: bool = False,
           package_mirror: bool = False) -> "Lab":
        """Bring up (or complete) the lab; a second call with the same arguments changes nothing."""
        if not 0 <= hosts <= config.MAX_HOSTS:
            raise LabError(f"hosts must be 0..{config.MAX_HOSTS}")
        with state.locked():
            lab_state = state.State()
            try:
                self._up(lab_state, hosts, storage, debian_guests, nfs_guest)
                if package_mirror:
                    self._serve_mirror(lab_state)
            finally:
                self.reload()
                self._write_inventory()
        return self

    def _up(self, lab_state: state.State, host_count: int, want_storage: bool, debian_guests: int,
            nfs_guest: bool) -> None:
        keys = self.keys
        if debian_guests or nfs_guest:
            debian_image = self._ensure_image(keys)  # the slow part: before anything starts
        network.ensure_bridge(lab_state)
        network.ensure_dhcp(lab_state)
        for index in range(1, host_count + 1):
            hosts.ensure_host(lab_state, keys, index)
        if want_storage:
            storage.ensure_storage(lab_state, keys)
        started = [guests.start_debian_guest(lab_state, debian_image, f"{config.PREFIX}deb{i}", guests.guest_ip(i))
                   for i in range(1, debian_guests + 1)]
        if nfs_guest:
            started.append(guests.start_debian_guest(lab_state, debian_image, guests.NFS_GUEST,
                                                     guests.guest_ip(10), role="nfs-server"))
        for guest in started:
            guests.wait_for_ssh(keys, guest)
            if guest.role == "nfs-server":
                guests.configure_nfs_server(keys, guest)

    def _serve_mirror(self, lab_state: state.State) -> mirror.Mirror:
        network.ensure_bridge(lab_state)
        with state.cache_locked("mirror"):   # shared by every lab instance, built by one at a time
            built = mirror.ensure_mirror(self._ensure_image(self.keys))
        return mirror.serve(lab_state, built)

    def package_mirror(self) -> dict:
        """The local package mirror served to the guests (built and started when missing): url, apt_line, path."""
        self.up(hosts=len(self.hosts), storage=self.storage is not None, package_mirror=True)
        return state.State().component("mirror")

    def down(self) -> None:
        """Remove everything the lab made (also after a crash); harmless when nothing is up."""
        with state.locked():
            teardown.tear_down(state.State())
        self.reload()

    def status(self) -> dict:
        self.reload()
        return {
            "hosts": [{"name": h.name, "ip": h.ip, "running": h.is_running(), "uris": h.uris} for h in self.hosts],
            "storage": ({"name": self.storage.name, "ip": self.storage.ip, "running": self.storage.is_running(),
                         "export": f"{self.storage.ip}:{self.storage.export_path}"} if self.storage else None),
            "guests": [{"name": g.name, "ip": g.ip, "uri": g.uri, "role": g.role} for g in self.guests],
            "inventory": str(self.inventory_path) if self.inventory_path.exists() else None,
            "leftovers": teardown.leftovers(),
        }

    def reload(self) -> None:
        lab_state = state.State()
        components = lab_state.data["components"]
        self.hosts = sorted((HypervisorHost.from_dict(v) for k, v in components.items() if k.startswith("host:")),
                            key=lambda h: h.index)
        self.storage = storage.StorageHost.from_dict(components["storage"]) if "storage" in components else None
        self.guests = [guests.DebianGuest(**v) for k, v in sorted(components.items()) if k.startswith("guest:")]

    def _write_inventory(self) -> None:
        if config.RUN_DIR.exists() and (self.hosts or self.storage or self.guests):
            tiny = self.tiny_artifacts() if self.hosts else None   # what guests on the hosts boot
            served = state.State().component("mirror")
            inventory.write_inventory(self.inventory_path,
                                      inventory.build_inventory(self.keys, self.hosts, self.storage, self.guests, tiny,
                                                                served))

    # --- what tests use --------------------------------------------------------------------
    @property
    def keys(self) -> LabKeys:
        if self._keys is None:
            self._keys = ensure_keys()
        return self._keys

    def host(self, name_or_index: str | int) -> HypervisorHost:
        for host in self.hosts:
            if name_or_index in (host.name, host.index):
                return host
        raise LabError(f"no lab host {name_or_index}")

    def ssh(self, ip: str, command: str, timeout: float = 60, check: bool = True):
        """Run a command as root on a lab host, storage host or guest; returns CompletedProcess."""
        return ssh(self.keys, ip, command, timeout=timeout, check=check)

    def tiny_artifacts(self) -> artifacts.TinyArtifacts:
        return artifacts.ensure_tiny_artifacts()

    def debian_image(self) -> image.DebianImage:
        """The cached Debian image, built when missing (under the cache's lock, not this lab's: it is shared)."""
        return self._ensure_image(self.keys)

    @staticmethod
    def _ensure_image(keys: LabKeys) -> image.DebianImage:
        # the image is shared by every lab instance (parallel test streams): one builder at a time
        return image.cached_image(keys) or _locked_build(keys)

    def tiny_guest_xml(self, name: str, ip: str | None = "dhcp", disks: list[str] | None = None,
                       memory_mib: int = 128) -> str:
        """Domain XML of a tiny busybox guest for a lab host (on its br0). name must start with the
        lab prefix; ip: 'dhcp', a static address such as '10.213.47.60', or None."""
        if not name.startswith(config.PREFIX):
            raise LabError(f"lab guest names start with {config.PREFIX}")
        tiny = self.tiny_artifacts()
        return domains.tiny_guest_xml(name, str(tiny.kernel), str(tiny.initrd), "br0", ip, memory_mib, disks)

    def start_tiny_guest(self, host: HypervisorHost, name: str, ip: str | None = "dhcp",
                         disks: list[str] | None = None, timeout: float = 60) -> float:
        """Define and start a tiny guest on a lab host and wait for its ready marker; returns the
        seconds from start to marker."""
        xml = self.tiny_guest_xml(name, ip, disks)
        self.serial_log(host, name).unlink(missing_ok=True)
        conn = host.connect()
        try:
            begin = time.monotonic()
            try:
                conn.lookupByName(name).undefine()  # a stopped leftover of an earlier run
            except libvirt.libvirtError:
                pass
            conn.defineXML(xml).create()
        finally:
            conn.close()
        self.wait_for_marker(host, name, timeout)
        return time.monotonic() - begin

    def serial_log(self, host: HypervisorHost, name: str) -> Path:
        return Path(host.state_dir) / "log" / "qemu" / f"{name}-serial.log"

    def wait_for_marker(self, host: HypervisorHost, name: str, timeout: float = 60) -> str:
        """Wait for the tiny guest's ready line in its serial log; returns that line."""
        path = self.serial_log(host, name)

        def marker_line() -> str | None:
            for line in path.read_text(errors="replace").splitlines():
                if READY_MARKER in line:
                    return line.strip()
            return None

        return wait_for(marker_line, timeout, f"{name} ready marker on {host.name}")

    def console(self, host: HypervisorHost, name: str) -> SerialConsole:
        return SerialConsole(host.unix_uri, name)

    def remove_guest(self, host: HypervisorHost, name: str) -> None:
        teardown.remove_domain(host.unix_uri, name)


def _locked_build(keys: LabKeys) -> image.DebianImage:
    with state.cache_locked("image"):
        return image.ensure_image(keys)   # finds the image when another session built it meanwhile


def remove_cache() -> None:
    """Forget every cached artifact and image (the next `up` rebuilds them)."""
    for sub in (config.ARTIFACTS_DIR, config.IMAGES_DIR, config.KEYS_DIR):
        shutil.rmtree(sub, ignore_errors=True)
