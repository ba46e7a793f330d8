"""Command line: up, down, status, inventory, build."""
import argparse
import json
import logging
import sys
import time

import libvirt

from . import config
from .lab import Lab, remove_cache
from .shell import LabError


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kvmlab", description="The kvmops.kvm local lab.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every command")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="bring the lab up (idempotent; adds what is missing)")
    up.add_argument("--hosts", type=int, default=2, help="hypervisor hosts (default 2)")
    up.add_argument("--storage", action="store_true", help="nfs-ganesha storage host")
    up.add_argument("--debian-guests", type=int, default=0, metavar="N", help="Debian guests reachable over ssh")
    up.add_argument("--nfs-guest", action="store_true", help="a Debian guest running the kernel NFS server")
    up.add_argument("--mirror", action="store_true",
                    help="serve the local package mirror (the roles' .debs) to the guests from the lab bridge")
    sub.add_parser("down", help="remove everything the lab made")
    status = sub.add_parser("status", help="what is up (JSON with --json)")
    status.add_argument("--json", action="store_true")
    sub.add_parser("inventory", help="print the inventory path")
    build = sub.add_parser("build", help="build (or find cached) guest artifacts")
    build.add_argument("--debian", action="store_true", help="also the Debian image")
    sub.add_parser("clean-cache", help="down, then delete cached artifacts, images and keys")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s kvmlab: %(message)s" if args.verbose else "kvmlab: %(message)s", stream=sys.stderr)
    lab = Lab()
    began = time.monotonic()
    try:
        if args.command == "up":
            lab.up(hosts=args.hosts, storage=args.storage, debian_guests=args.debian_guests,
                   nfs_guest=args.nfs_guest, package_mirror=args.mirror)
            print_status(lab.status())
            print(f"up in {time.monotonic() - began:.1f}s; inventory: {lab.inventory_path}")
        elif args.command == "down":
            lab.down()
            left = lab.status()["leftovers"]
            print(f"down in {time.monotonic() - began:.1f}s" + (f"; LEFT OVER: {left}" if left else ""))
            return 1 if left else 0
        elif args.command == "status":
            status = lab.status()
            print(json.dumps(status, indent=1) if args.json else "", end="")
            if not args.json:
                print_status(status)
        elif args.command == "inventory":
            print(lab.inventory_path)
            return 0 if lab.inventory_path.exists() else 1
        elif args.command == "build":
            tiny = lab.tiny_artifacts()
            print(f"tiny guest: {tiny.kernel} {tiny.initrd}")
            if args.debian:
                print(f"debian image: {lab.debian_image().disk}")
        elif args.command == "clean-cache":
            lab.down()
            remove_cache()
    except (LabError, libvirt.libvirtError) as error:
        print(f"kvmlab: {error}", file=sys.stderr)
        return 1
    return 0


def print_status(status: dict) -> None:
    if not (status["hosts"] or status["storage"] or status["guests"]):
        print("lab: down" + (f" (left over: {status['leftovers']})" if status["leftovers"] else ""))
        return
    for host in status["hosts"]:
        print(f"host    {host['name']:10} {host['ip']:14} {'running' if host['running'] else 'BROKEN'}  "
              f"{host['uris']['tcp']}")
    if status["storage"]:
        storage = status["storage"]
        print(f"storage {storage['name']:10} {storage['ip']:14} "
              f"{'running' if storage['running'] else 'BROKEN'}  nfs {storage['export']}")
    for guest in status["guests"]:
        print(f"guest   {guest['name']:10} {guest['ip']:14} {guest['role']} on {guest['uri']}")
    print(f"subnet  {config.SUBNET_PREFIX}.0/{config.NETMASK_BITS} on {config.BRIDGE}")
