"""Names and clean-up shared by the hardening tests (a module of its own: a test importing `conftest` at run time
gets whichever conftest.py pytest loaded last)."""

import subprocess

PREFIX = 'kvmth'


def unmount_all(root):
    """Unmount every mount below `root` (tmpfs made for a test)."""
    with open('/proc/mounts') as stream:
        points = [line.split()[1] for line in stream if line.split()[1].startswith(root)]
    for point in sorted(points, reverse=True):
        subprocess.run(['umount', '-l', point], check=False)


def remove_volumes(conn):
    for pool in conn.listAllStoragePools():
        if pool.name().startswith(PREFIX) and pool.isActive():
            try:
                pool.refresh(0)
                for volume in pool.listAllVolumes(0):
                    volume.delete(0)
            except Exception:  # a half-broken pool: purge undefines it anyway
                pass
