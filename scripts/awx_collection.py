"""Put the awx.awx collection (the modules awx/load.yml drives AWX with) under .cache/awx/ansible_collections, for
tests/integration/ecosystem/test_awx_load_modules.py to check load.yml against the modules' own argument specs.

Galaxy may be out of reach; PyPI is not: the `ansible` community package bundles awx.awx. Its wheel is downloaded
with pip (no dependencies, about 55 MB), only ansible_collections/awx/awx is extracted (about 1 MB) and the wheel is
deleted. A copy that is already there (or one in bench/'s peer venv, which has the same package) is used as is.
The path is kept apart from .collections, so awx.awx is seen only by the test that asks for it.

  .venv/bin/python scripts/awx_collection.py            # prints the collections path; exit 1 when unavailable
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEST = os.path.join(ROOT, '.cache', 'awx')
COLLECTION = os.path.join(DEST, 'ansible_collections', 'awx', 'awx')
# the `ansible` release bench/'s peer venv pins (benchlib.PEER_PACKAGE: ansible>=12,<13); awx.awx 24.6.1 inside
PACKAGE = 'ansible==12.3.0'
MEMBER = 'ansible_collections/awx/awx/'


def peer_copy():
    pattern = os.path.join(ROOT, '.cache', 'bench', 'peer-venv', 'lib', 'python3*', 'site-packages', MEMBER)
    return next(iter(sorted(glob.glob(pattern))), None)


def extract(wheel, target):
    with zipfile.ZipFile(wheel) as archive:
        members = [name for name in archive.namelist() if name.startswith(MEMBER)]
        if not members:
            raise RuntimeError('%s has no %s' % (os.path.basename(wheel), MEMBER))
        for name in members:
            archive.extract(name, target)


def fetch():
    if os.path.exists(os.path.join(COLLECTION, 'MANIFEST.json')):
        return DEST
    os.makedirs(DEST, exist_ok=True)
    work = tempfile.mkdtemp(prefix='awx-', dir=DEST)
    try:
        peer = peer_copy()
        if peer:
            shutil.copytree(peer, os.path.join(work, MEMBER))
        else:
            subprocess.run([sys.executable, '-m', 'pip', 'download', '-q', '--disable-pip-version-check',
                            '--no-deps', '--only-binary', ':all:', '-d', work, PACKAGE], check=True,
                           stdin=subprocess.DEVNULL)
            extract(glob.glob(os.path.join(work, 'ansible-*.whl'))[0], work)
        # in place at once: a test never sees half a collection
        if os.path.exists(os.path.dirname(COLLECTION)):
            shutil.rmtree(os.path.dirname(COLLECTION))
        os.makedirs(os.path.dirname(os.path.dirname(COLLECTION)), exist_ok=True)
        os.rename(os.path.join(work, os.path.dirname(MEMBER.rstrip('/'))), os.path.dirname(COLLECTION))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return DEST


def main():
    try:
        print(fetch())
    except (OSError, RuntimeError, subprocess.CalledProcessError) as error:
        print('awx_collection: awx.awx is not available (%s); the awx.awx checks will skip' % error, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
