"""What `make demo`'s playbooks (site.yml, guests.yml, demo.yml) make on the lab with the project's
playbooks/inventory/lab, and its removal: test_demo.py and the AWX runner test (ecosystem/test_awx_runner.py) run those
playbooks on the same lab stream."""

import os

GUEST = 'demo-web1'
NETWORKS = ('hostonly', 'private1')
POOL = 'shared'
DEFAULT_POOL = 'default'   # the hypervisor role's, in each host's own /var/lib/libvirt/images
DEFAULT_DIR = '/var/lib/libvirt/images'


def clean(lab):
    """Remove every object the demo's playbooks make on the lab's hosts and the storage, and the lab's own
    libvirtd.conf line the hypervisor role changes (nothing else: the lab stays up)."""
    import libvirt
    for host in lab.hosts:
        try:
            conn = host.connect()
        except libvirt.libvirtError:
            continue
        try:
            for dom in conn.listAllDomains():
                if dom.name() == GUEST:
                    if dom.isActive():
                        dom.destroy()
                    dom.undefine()
            for net in conn.listAllNetworks():
                if net.name() in NETWORKS:
                    if net.isActive():
                        net.destroy()
                    net.undefine()
            for pool in conn.listAllStoragePools():
                # a pool another suite left on the default pool's directory (kvm_migrate's copy makes 'migrated-images')
                # would rightly make the role refuse a second pool there
                if pool.name() in (POOL, DEFAULT_POOL) or '<path>%s</path>' % DEFAULT_DIR in pool.XMLDesc():
                    if pool.isActive():
                        pool.destroy()
                    pool.undefine()
        finally:
            conn.close()
        # the lab's own libvirtd.conf line back (kvmlab/hosts.py), which the hypervisor role sets to listen_tcp = 0
        path = os.path.join(host.state_dir, 'etc', 'libvirtd.conf')
        with open(path) as stream:
            lines = stream.read().splitlines()
        with open(path, 'w') as stream:
            stream.write(''.join(('listen_tcp = 1' if line.startswith('listen_tcp') else line) + '\n' for line in lines))
    disk = os.path.join(lab.storage.export_dir, GUEST + '.qcow2')
    if os.path.exists(disk):
        os.unlink(disk)
