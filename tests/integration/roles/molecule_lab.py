"""The inventory the molecule scenarios run against: the lab's own (hosts, keys, the package mirror's apt line)
plus the groups the scenarios use, kvmtr_kvm (a KVM host: hypervisor, host_network, NFS client) and kvmtr_nfs
(the kernel NFS server; a second host for host_network's cross-host check), both lab Debian guests, never the
machine; and kvmtr_hv, the lab's first namespaced hypervisor host (the guests role deploys a tiny guest there).

The scenarios' Ansible runs and testinfra's commands share one ssh connection per guest (a ControlMaster socket in
a directory of its own, kept 30 minutes): a new ssh login to a TCG guest costs seconds (sshd, PAM, logind), and
testinfra alone would make one per command. close_connections() ends them.

The scenarios' Ansible runs use Mitogen for Ansible (mitogen_env(): its `mitogen_linear` strategy): one Python
interpreter per host for the whole molecule run, forked for every task (mitogen_task_isolation: fork, so each
module still runs in a fresh process, as under AnsiballZ), with module_utils sent and compiled once. Without it
every task is a new Python start and an AnsiballZ unpack-and-import in the emulated guest, 10-45 s each under load;
with it about a second (docs/molecule.md). testinfra is unaffected: it runs its commands over the shared ssh
connection.

  python tests/integration/roles/molecule_lab.py     # prints `export MOLECULE_LAB_INVENTORY=...` for a lab that is up
"""

import os
import subprocess
import sys
import tempfile

import yaml

CONTROL_PERSIST = '30m'
# every module run in a fresh child forked from the host's warm interpreter: no state (libvirt's event loop thread,
# module globals) carried from one task to the next
HOST_VARS = {'mitogen_task_isolation': 'fork'}


def lab_groups(lab):
    """(kvm host, nfs server) names: the first plain Debian guest, and the kernel NFS guest or else the second."""
    plain = [guest.name for guest in lab.guests if guest.role == 'guest']
    nfs = [guest.name for guest in lab.guests if guest.role == 'nfs-server']
    if not plain or not (nfs or len(plain) > 1):
        raise RuntimeError('the molecule scenarios need two lab Debian guests (kvmlab up --debian-guests 2 --mirror, '
                           'or one with --nfs-guest)')
    return plain[0], (nfs or plain[1:])[0]


def control_directory():
    """A short directory for the ssh ControlMaster sockets (a socket path must stay under 108 bytes)."""
    return tempfile.mkdtemp(prefix='kvmtr-cp-', dir='/tmp')


def write_inventory(lab, directory, control_dir, debian_guests=True):
    """A directory inventory: the lab's file (linked) and the scenario groups (without debian_guests only kvmtr_hv,
    for the guests scenario alone). Returns its path."""
    kvm, nfs = lab_groups(lab) if debian_guests else (None, None)
    os.makedirs(directory, exist_ok=True)
    link = os.path.join(directory, '10-lab.yml')
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(str(lab.inventory_path), link)
    with open(str(lab.inventory_path)) as stream:
        common = yaml.safe_load(stream)['all']['vars'].get('ansible_ssh_common_args', '')
    persistent = '%s -o ControlMaster=auto -o ControlPersist=%s -o ControlPath=%s/%%C' % (
        common, CONTROL_PERSIST, control_dir)
    guest_vars = dict(HOST_VARS, ansible_ssh_common_args=persistent)
    children = {'kvmtr_hv': {'hosts': dict((host.name, None) for host in lab.hosts[:1]), 'vars': dict(HOST_VARS)}}
    if debian_guests:
        children.update(kvmtr_kvm={'hosts': {kvm: None}, 'vars': guest_vars},
                        kvmtr_nfs={'hosts': {nfs: None}, 'vars': dict(guest_vars)})
    with open(os.path.join(directory, '20-kvmtr.yml'), 'w') as stream:
        yaml.safe_dump({'all': {'children': children}}, stream)
    return directory


def mitogen_env():
    """The environment that makes the scenarios' ansible-playbook runs use Mitogen's strategy (requirements-dev.txt).
    Host keys: Mitogen puts its own StrictHostKeyChecking option before the inventory's ssh arguments (first one
    wins in ssh) unless Ansible's host key checking is off; the lab's inventory turns it off for plain ssh already
    (its guests get new keys at every boot). The timeout: Mitogen's first connection to a host is an ssh login and
    its interpreter's bootstrap, within Ansible's connection timeout (10 s by default), which a TCG guest under
    load overran."""
    import ansible_mitogen
    return {'ANSIBLE_STRATEGY_PLUGINS': os.path.join(os.path.dirname(ansible_mitogen.__file__), 'plugins', 'strategy'),
            'ANSIBLE_STRATEGY': 'mitogen_linear', 'ANSIBLE_HOST_KEY_CHECKING': 'False', 'ANSIBLE_TIMEOUT': '120'}


def close_connections(lab, control_dir):
    """End the shared ssh connections to the scenario guests and remove their directory."""
    for guest in lab.guests:
        subprocess.run(['ssh', '-o', 'ControlPath=%s/%%C' % control_dir, '-O', 'exit', 'root@%s' % guest.ip],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False)
    for name in os.listdir(control_dir):
        os.unlink(os.path.join(control_dir, name))
    os.rmdir(control_dir)


if __name__ == '__main__':
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'lab'))
    from kvmlab import Lab, config
    inventory = write_inventory(Lab(), str(config.RUN_DIR / 'molecule-inventory'), control_directory())
    print('export MOLECULE_LAB_INVENTORY=%s' % inventory)
    for name, value in sorted(mitogen_env().items()):
        print('export %s=%s' % (name, value))
