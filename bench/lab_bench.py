"""Measure the local lab (tests/lab/kvmlab) and write docs/benchmarks/lab.md.

    .venv/bin/python bench/lab_bench.py          # warm caches (builds them first if missing)
    .venv/bin/python bench/lab_bench.py --cold   # also time cold builds, in a throw-away cache dir

Targets: `up` (2 hosts + storage, warm) < 30 s; Debian image cold build < 4 min; tiny guest to its
console marker < 15 s. The lab is down before and after."""
import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "lab"))

from kvmlab import Lab, config  # noqa: E402

REPORT = ROOT / "docs" / "benchmarks" / "lab.md"


def timed(action) -> float:
    return timed_result(action)[0]


def timed_result(action) -> tuple[float, object]:
    began = time.monotonic()
    result = action()
    return time.monotonic() - began, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="also time cold builds (in an empty, temporary cache)")
    parser.add_argument("--tiny-runs", type=int, default=3)
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    rows: list[tuple[str, str, str]] = []
    if args.cold:
        rows += cold_builds()
    lab = Lab()
    lab.down()
    seconds = timed(lab.tiny_artifacts)
    rows.append(("tiny guest artifacts, cached (warm check)", f"{seconds:.2f} s", ""))
    seconds = timed(lab.debian_image)
    rows.append(("Debian image, cached (warm check)", f"{seconds:.2f} s", ""))
    try:
        seconds = timed(lambda: lab.up(hosts=2, storage=True))
        rows.append(("`up` 2 hypervisor hosts + storage (warm caches)", f"{seconds:.1f} s", "< 30 s"))
        seconds = timed(lambda: lab.up(hosts=2, storage=True))
        rows.append(("`up` again (already up)", f"{seconds:.2f} s", ""))

        host_a, host_b = lab.hosts
        boots = []
        for run in range(args.tiny_runs):
            name = f"{config.PREFIX}bench{run}"
            boots.append(lab.start_tiny_guest(host_a, name, ip="dhcp"))
            if run == 0:
                with lab.console(host_a, name) as console:
                    round_trips = [timed(lambda: console.run("true")) for _attempt in range(5)]
                seconds = timed(lambda: subprocess.run(
                    ["virsh", "-c", host_a.tcp_uri, "migrate", "--live", "--persistent", "--undefinesource",
                     name, host_b.tcp_uri], check=True, capture_output=True))
                rows.append(("tiny guest live migration h1 → h2 (virsh)", f"{seconds:.1f} s", ""))
                lab.remove_guest(host_b, name)
            lab.remove_guest(host_a, name)
        rows.append((f"tiny guest start → console marker, DHCP (median of {len(boots)})",
                     f"{statistics.median(boots):.1f} s (min {min(boots):.1f}, max {max(boots):.1f})", "< 15 s"))
        rows.append(("serial console command round trip (median of 5)", f"{statistics.median(round_trips):.2f} s", ""))

        seconds = timed(lambda: lab.up(hosts=2, storage=True, debian_guests=1))
        rows.append(("Debian guest start → ssh answers", f"{seconds:.1f} s", ""))
        seconds, ping = timed_result(lambda: subprocess.run(
            [ROOT / ".venv" / "bin" / "ansible", "all", "-i", lab.inventory_path, "-m", "ping"],
            capture_output=True, text=True, check=False, env={**os.environ, "ANSIBLE_HOST_KEY_CHECKING": "False"}))
        if ping.returncode != 0:
            print(f"ansible ping failed ({ping.returncode}):\n{ping.stdout}\n{ping.stderr}", file=sys.stderr)
        rows.append(("`ansible all -m ping` (2 hosts, storage, 1 Debian guest)",
                     f"{seconds:.1f} s" + ("" if ping.returncode == 0 else " (FAILED)"), ""))
    finally:
        seconds = timed(lab.down)
        rows.append(("`down` (everything above)", f"{seconds:.1f} s", ""))
    left = lab.status()["leftovers"]
    write_report(rows, args.cold, left, (load_before, os.getloadavg()[0]))
    print(REPORT.read_text())
    return 1 if left else 0


def cold_builds() -> list[tuple[str, str, str]]:
    """Build from nothing (no package cache either) in a temporary cache dir, so the shared cache
    that other sessions may be using is never touched."""
    cold_cache = config.CACHE_DIR.parent / "lab-cold-bench"
    shutil.rmtree(cold_cache, ignore_errors=True)
    env = {**os.environ, "KVMLAB_CACHE": str(cold_cache)}
    cli = [sys.executable, ROOT / "tests" / "lab" / "kvmlab", "build"]
    try:
        tiny = timed(lambda: subprocess.run(cli, env=env, check=True, capture_output=True))
        debian = timed(lambda: subprocess.run([*cli, "--debian"], env=env, check=True, capture_output=True))
    finally:
        shutil.rmtree(cold_cache, ignore_errors=True)
    return [("tiny guest kernel + initramfs, cold (apt-get download, dpkg-deb -x, cpio)", f"{tiny:.1f} s", ""),
            ("Debian image, cold (debootstrap with downloads, mkfs.ext4 -d)", f"{debian:.1f} s", "< 240 s")]


def write_report(rows: list[tuple[str, str, str]], cold: bool, leftovers: list[str],
                 load: tuple[float, float]) -> None:
    lines = [
        "# Lab benchmarks",
        "",
        f"Measured by `bench/lab_bench.py{' --cold' if cold else ''}` on "
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC: {os.cpu_count()} cores, "
        f"{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, "
        f"kernel {platform.release()}, guests under TCG (no usable KVM). 1-minute load average "
        f"{load[0]:.1f} before, {load[1]:.1f} after (other work on the machine slows every number).",
        "",
        "| what | time | target |",
        "| --- | --- | --- |",
        *[f"| {what} | {value} | {target} |" for what, value, target in rows],
        "",
        f"After `down`: {'nothing left' if not leftovers else 'LEFT OVER: ' + ', '.join(leftovers)}.",
        "",
    ]
    REPORT.write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
