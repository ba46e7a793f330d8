#!/usr/bin/env python3
"""Measure the local lab (tests/lab/kvmlab) and write docs/benchmarks/lab.md.

    .venv/bin/python bench/lab_bench.py          # warm caches (builds them first if missing)
    .venv/bin/python bench/lab_bench.py --cold   # also time cold builds (deletes the lab's cache)

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


def timed(action) -> tuple[float, object]:
    began = time.monotonic()
    result = action()
    return time.monotonic() - began, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="delete the lab cache first and time cold builds")
    parser.add_argument("--tiny-runs", type=int, default=3)
    args = parser.parse_args()

    lab = Lab()
    lab.down()
    rows: list[tuple[str, str, str]] = []
    if args.cold:
        for sub in (config.ARTIFACTS_DIR, config.IMAGES_DIR):
            shutil.rmtree(sub, ignore_errors=True)
    seconds, _ = timed(lab.tiny_artifacts)
    rows.append(("tiny guest kernel + initramfs build" + (" (cold)" if args.cold else " (cached)"), f"{seconds:.1f} s", ""))
    seconds, _ = timed(lab.debian_image)
    rows.append(("Debian image build" + (" (cold: debootstrap, no package cache)" if args.cold else " (cached)"),
                 f"{seconds:.1f} s", "< 240 s cold"))
    try:
        seconds, _ = timed(lambda: lab.up(hosts=2, storage=True))
        rows.append(("`up` 2 hypervisor hosts + storage (warm caches)", f"{seconds:.1f} s", "< 30 s"))
        seconds, _ = timed(lambda: lab.up(hosts=2, storage=True))
        rows.append(("`up` again (already up)", f"{seconds:.2f} s", ""))

        host_a, host_b = lab.hosts
        boots = []
        for run in range(args.tiny_runs):
            name = f"{config.PREFIX}bench{run}"
            boots.append(lab.start_tiny_guest(host_a, name, ip="dhcp"))
            if run == 0:
                with lab.console(host_a, name) as console:
                    round_trips = [timed(lambda: console.run("true"))[0] for _ in range(5)]
                seconds, _ = timed(lambda: subprocess.run(
                    ["virsh", "-c", host_a.tcp_uri, "migrate", "--live", "--persistent", "--undefinesource",
                     name, host_b.tcp_uri], check=True, capture_output=True))
                rows.append(("tiny guest live migration h1 → h2 (virsh)", f"{seconds:.1f} s", ""))
                lab.remove_guest(host_b, name)
            lab.remove_guest(host_a, name)
        rows.append((f"tiny guest start → console marker, DHCP (median of {len(boots)})",
                     f"{statistics.median(boots):.1f} s (min {min(boots):.1f}, max {max(boots):.1f})", "< 15 s"))
        rows.append(("serial console command round trip (median of 5)", f"{statistics.median(round_trips):.2f} s", ""))

        seconds, _ = timed(lambda: lab.up(hosts=2, storage=True, debian_guests=1))
        rows.append(("Debian guest start → ssh answers", f"{seconds:.1f} s", ""))
        seconds, ping = timed(lambda: subprocess.run(
            [ROOT / ".venv" / "bin" / "ansible", "all", "-i", lab.inventory_path, "-m", "ping"],
            capture_output=True, env={**os.environ, "ANSIBLE_HOST_KEY_CHECKING": "False"}))
        rows.append(("`ansible all -m ping` (2 hosts, storage, 1 Debian guest)",
                     f"{seconds:.1f} s" + ("" if ping.returncode == 0 else " (FAILED)"), ""))
    finally:
        seconds, _ = timed(lab.down)
        rows.append(("`down` (everything above)", f"{seconds:.1f} s", ""))
    left = lab.status()["leftovers"]
    write_report(rows, args.cold, left)
    print(REPORT.read_text())
    return 1 if left else 0


def write_report(rows: list[tuple[str, str, str]], cold: bool, leftovers: list[str]) -> None:
    lines = [
        "# Lab benchmarks",
        "",
        f"Measured by `bench/lab_bench.py{' --cold' if cold else ''}` on "
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC: {os.cpu_count()} cores, "
        f"{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, "
        f"kernel {platform.release()}, guests under TCG (no usable KVM).",
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
