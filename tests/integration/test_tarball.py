"""The collection as users get it: `make build`'s tarball, installed into an empty collections path, runs every
module through AnsiballZ (which must pack the module_utils subpackages), and carries nothing of a checkout.

The modules run against libvirt's test driver, whose state lives within one connection, so each task stands alone.
kvm_domain needs domain capabilities the test driver lacks: its task removes a guest that is not there, which
still goes through the engine and the _domain package (validate, lookup, plan, result)."""

import json
import os
import subprocess
import tarfile

import pytest
import yaml

from harness import PYTHON, ROOT

BIN = os.path.dirname(PYTHON) if PYTHON != 'python3' else ''
NOT_SHIPPED = ('.venv', '.venv-sanity', '.collections', '.cache', '.pytest_cache', '__pycache__', '.build', '.git',
               '.ansible')
NOT_SHIPPED_TOP = ('build', 'tests/output')
MAX_TARBALL = 3 * 1024 * 1024
MAX_FILE = 256 * 1024

PLAYBOOK = """
- name: Every module from the installed tarball
  hosts: localhost
  gather_facts: false
  vars:
    uri: test:///default
  tasks:
    - name: Host facts and checks
      kvmops.kvm.kvm_host:
        uri: "{{ uri }}"
        gather: true
        allow_emulation: true
      register: host
    - name: A network
      kvmops.kvm.kvm_network:
        uri: "{{ uri }}"
        name: kvmtu-tar
        bridge: kvmtutar0
        ipv4: {address: 10.213.0.1, prefix: 24}
      register: network
    - name: A pool
      kvmops.kvm.kvm_pool:
        uri: "{{ uri }}"
        name: kvmtu-tar
        type: dir
        path: "{{ pool_dir }}"
      register: pool
    - name: A volume in the test driver's pool
      kvmops.kvm.kvm_volume:
        uri: "{{ uri }}"
        pool: default-pool
        name: kvmtu-tar.qcow2
        capacity: 16M
      register: volume
    - name: A guest that is not there stays absent
      kvmops.kvm.kvm_domain:
        uri: "{{ uri }}"
        name: kvmtu-tar
        state: absent
      register: domain
    - name: Bad input is refused by the engine before anything is touched
      kvmops.kvm.kvm_domain:
        uri: "{{ uri }}"
        name: kvmtu bad
      register: refused
      ignore_errors: true
    - name: The info modules list what the test driver holds
      kvmops.kvm.kvm_domain_info:
        uri: "{{ uri }}"
      register: domain_info
    - name: Networks
      kvmops.kvm.kvm_network_info:
        uri: "{{ uri }}"
      register: network_info
    - name: Pools
      kvmops.kvm.kvm_pool_info:
        uri: "{{ uri }}"
      register: pool_info
    - name: Volumes
      kvmops.kvm.kvm_volume_info:
        uri: "{{ uri }}"
        pool: default-pool
      register: volume_info
    - name: A snapshot of a guest that does not exist is refused
      kvmops.kvm.kvm_snapshot:
        uri: "{{ uri }}"
        domain: kvmtu-missing
        name: before
      register: snapshot
      ignore_errors: true
    - name: An unauthenticated migration transport is refused before connecting
      kvmops.kvm.kvm_migrate:
        uri: "{{ uri }}"
        name: kvmtu-tar
        dest_uri: qemu+tcp://127.0.0.1/system
      register: migrate
      ignore_errors: true
    - name: A bridge name longer than Linux allows is refused before the host is touched
      kvmops.kvm.kvm_bridge:
        name: kvmtu-bridge-name-too-long
      register: bridge
      ignore_errors: true
    - name: Record the results
      ansible.builtin.copy:
        content: "{{ dict(host=host, network=network, pool=pool, volume=volume, domain=domain, refused=refused,
                          domain_info=domain_info, network_info=network_info, pool_info=pool_info,
                          volume_info=volume_info, snapshot=snapshot, migrate=migrate, bridge=bridge) | to_json }}"
        dest: "{{ results_file }}"
        mode: '0600'
"""


@pytest.fixture(scope='module')
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp('kvmtu-build')
    proc = subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--output-path', str(out), ROOT],
                          capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    built = [name for name in os.listdir(str(out)) if name.endswith('.tar.gz')]
    assert len(built) == 1, built
    return os.path.join(str(out), built[0])


def isolated_env(base, collections):
    """Ansible that sees only `collections`: an empty ansible.cfg of its own, no collections on sys.path."""
    config = os.path.join(base, 'ansible.cfg')
    with open(config, 'w') as stream:
        stream.write('[defaults]\n')
    env = dict((key, value) for key, value in os.environ.items() if not key.startswith('ANSIBLE_'))
    env.update(ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false',
               ANSIBLE_CONFIG=config, ANSIBLE_DEPRECATION_WARNINGS='0', ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCAL_TEMP=os.path.join(base, 'tmp'))
    return env


def test_the_tarball_ships_no_caches_or_checkout_state(tarball):
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
        sizes = dict((member.name, member.size) for member in archive.getmembers() if member.isfile())
    assert 'plugins/module_utils/_engine/module.py' in names and 'MANIFEST.json' in names
    shipped = [name for name in names
               if any(part in NOT_SHIPPED for part in name.split('/'))
               or any(name == top or name.startswith(top + '/') for top in NOT_SHIPPED_TOP)
               or name.endswith('.pyc')]
    assert shipped == []
    print('tarball size: %d bytes' % os.path.getsize(tarball))
    # 0.8 MiB today (code, docs, the benchmark plots, tests): a cache, an image or a wheel that slips in shows here
    assert os.path.getsize(tarball) < MAX_TARBALL, 'the tarball is %d bytes' % os.path.getsize(tarball)
    large = sorted(name for name, size in sizes.items() if size > MAX_FILE and name != 'FILES.json')
    assert large == [], large


def test_galaxy_yml_ignores_what_a_checkout_makes():
    """Whatever is in this checkout now, a build elsewhere (after make setup, a sanity run, tests) ships none of it."""
    with open(os.path.join(ROOT, 'galaxy.yml')) as stream:
        ignored = set(yaml.safe_load(stream)['build_ignore'])
    assert set(['.venv', '.venv-sanity', '.cache', '.collections', '.build', 'build', '.pytest_cache', 'tests/output',
                '.ansible']) <= ignored


def test_the_installed_tarball_runs_every_module(tarball, tmp_path):
    collections = str(tmp_path / 'collections')
    os.makedirs(collections)
    env = isolated_env(str(tmp_path), collections)
    install = subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '-p', collections, tarball],
                             capture_output=True, text=True, check=False, cwd=str(tmp_path), env=env,
                             stdin=subprocess.DEVNULL, timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr
    installed = os.path.join(collections, 'ansible_collections', 'kvmops', 'kvm')
    assert os.path.isfile(os.path.join(installed, 'plugins', 'module_utils', '_domain', 'domain.py'))

    playbook = tmp_path / 'every_module.yml'
    playbook.write_text(PLAYBOOK)
    results_file = tmp_path / 'results.json'
    pool_dir = tmp_path / 'kvmtu-pool'
    pool_dir.mkdir()
    play = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
                           '-e', 'ansible_python_interpreter=%s' % PYTHON, '-e', 'results_file=%s' % results_file,
                           '-e', 'pool_dir=%s' % pool_dir,
                           str(playbook)],
                          capture_output=True, text=True, check=False, cwd=str(tmp_path), env=env,
                          stdin=subprocess.DEVNULL, timeout=600)
    assert play.returncode == 0, play.stdout + play.stderr
    results = json.loads(results_file.read_text())

    assert results['host']['failed'] is False and 'cpu' in json.dumps(results['host'])
    assert results['network']['changed'] is True
    assert results['network']['actions'][0] == "define network 'kvmtu-tar'"
    assert results['pool']['actions'][0] == "define pool 'kvmtu-tar'"
    assert results['volume']['changed'] is True and results['volume']['actions'][0].startswith("create volume")
    assert results['domain']['changed'] is False and results['domain']['domain'] is None
    assert results['refused']['failed'] is True and results['refused']['parameter'] == 'name'
    for info in ('domain_info', 'network_info', 'pool_info', 'volume_info'):
        assert results[info]['failed'] is False and results[info]['changed'] is False, results[info]
    # the newer modules' packages travel in the tarball too: each reaches its own validation
    for refused in ('snapshot', 'migrate', 'bridge'):
        assert results[refused]['failed'] is True and 'Invalid parameter' in results[refused]['msg'], results[refused]
        assert 'Traceback' not in results[refused]['msg'] and 'unexpected error' not in results[refused]['msg']
