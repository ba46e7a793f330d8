"""The Ansible inventory (YAML) of what is up: groups kvm_hosts, storage and guests."""
from pathlib import Path

import yaml

from . import config
from .guests import NFS_GUEST_EXPORT, DebianGuest
from .hosts import HypervisorHost
from .keys import LabKeys
from .storage import StorageHost

SSH_COMMON_ARGS = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes"


def build_inventory(keys: LabKeys, hosts: list[HypervisorHost], storage: StorageHost | None,
                    guests: list[DebianGuest], tiny=None, package_mirror: dict | None = None) -> dict:
    kvm_hosts = {
        host.name: {
            "ansible_host": host.ip,
            # the namespaced hosts share this machine's filesystem: the venv has libvirt-python and lxml
            "ansible_python_interpreter": str(config.VENV_PYTHON),
            "kvm_uri": host.tcp_uri,
            "kvm_uri_tcp": host.tcp_uri,
            "kvm_uri_ssh": host.ssh_uri,
            "kvm_uri_tls": host.tls_uri,
            "kvm_uri_unix": host.unix_uri,
            "kvm_host_uuid": host.host_uuid,
            "kvm_bridge": host.bridge,
            "kvm_migration_address": host.ip,
        } for host in hosts
    }
    storage_hosts = {}
    if storage:
        storage_hosts[storage.name] = {
            "ansible_host": storage.ip, "ansible_python_interpreter": str(config.VENV_PYTHON),
            "nfs_server": storage.ip, "nfs_export": storage.export_path, "nfs_export_dir": storage.export_dir,
            "nfs_kind": "ganesha",
        }
    guest_hosts = {}
    for guest in guests:
        entry = {"ansible_host": guest.ip, "ansible_python_interpreter": "/usr/bin/python3",
                 "kvm_guest_uri": guest.uri, "kvm_guest_mac": guest.mac}
        if guest.role == "nfs-server":
            storage_hosts[guest.name] = {**entry, "nfs_server": guest.ip, "nfs_export": NFS_GUEST_EXPORT,
                                         "nfs_kind": "kernel"}
        else:
            guest_hosts[guest.name] = entry
    return {"all": {
        "vars": {
            "ansible_user": "root",
            "ansible_ssh_private_key_file": str(keys.private_key),
            "ansible_ssh_common_args": SSH_COMMON_ARGS,
            "kvm_lab_subnet": f"{config.SUBNET_PREFIX}.0/{config.NETMASK_BITS}",
            "kvm_lab_bridge": config.BRIDGE,
            **({"kvm_lab_tiny_kernel": str(tiny.kernel), "kvm_lab_tiny_initrd": str(tiny.initrd)} if tiny else {}),
            # the local package mirror (`up --mirror`): the apt source line guests use instead of the internet
            **({"kvm_lab_apt_mirror": package_mirror["apt_line"], "kvm_lab_apt_mirror_url": package_mirror["url"]}
               if package_mirror else {}),
        },
        "children": {
            "kvm_hosts": {"hosts": kvm_hosts},
            "storage": {"hosts": storage_hosts},
            "guests": {"hosts": guest_hosts},
        },
    }}


def write_inventory(path: Path, inventory: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("# Written by tests/lab/kvmlab for the lab that is up now; `down` deletes it.\n"
                   + yaml.safe_dump(inventory, sort_keys=False, default_flow_style=False))
    tmp.replace(path)
    return path
