"""The inventory the molecule scenarios run against: the lab's own (hosts, keys, the package mirror's apt line)
plus the two groups the scenarios use, kvmtr_kvm (a KVM host: hypervisor, host_network, NFS client) and kvmtr_nfs
(the kernel NFS server; a second host for host_network's cross-host check). Lab Debian guests, never the machine.

  python tests/integration/roles/molecule_lab.py     # prints `export MOLECULE_LAB_INVENTORY=...` for a lab that is up
"""

import os
import sys

import yaml


def lab_groups(lab):
    """(kvm host, nfs server) names: the first plain Debian guest, and the kernel NFS guest or else the second."""
    plain = [guest.name for guest in lab.guests if guest.role == 'guest']
    nfs = [guest.name for guest in lab.guests if guest.role == 'nfs-server']
    if not plain or not (nfs or len(plain) > 1):
        raise RuntimeError('the molecule scenarios need two lab Debian guests (kvmlab up --debian-guests 2 --mirror, '
                           'or one with --nfs-guest)')
    return plain[0], (nfs or plain[1:])[0]


def write_inventory(lab, directory):
    """A directory inventory: the lab's file (linked) and the scenario groups. Returns its path."""
    kvm, nfs = lab_groups(lab)
    os.makedirs(directory, exist_ok=True)
    link = os.path.join(directory, '10-lab.yml')
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(str(lab.inventory_path), link)
    with open(os.path.join(directory, '20-kvmtr.yml'), 'w') as stream:
        yaml.safe_dump({'all': {'children': {'kvmtr_kvm': {'hosts': {kvm: None}},
                                             'kvmtr_nfs': {'hosts': {nfs: None}}}}}, stream)
    return directory


if __name__ == '__main__':
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'lab'))
    from kvmlab import Lab, config
    print('export MOLECULE_LAB_INVENTORY=%s' % write_inventory(Lab(), str(config.RUN_DIR / 'molecule-inventory')))
