"""The hypervisor role's package, daemon and user names for every platform it supports, rendered by Ansible from
the role's own files with that platform's facts (only Debian boots here), compared with golden files."""

import json
import os
import subprocess

import pytest
import yaml

from harness import ROOT, ansible_env

PLATFORMS = {
    'debian12': dict(os_family='Debian', distribution='Debian', distribution_major_version='12'),
    'ubuntu2204': dict(os_family='Debian', distribution='Ubuntu', distribution_major_version='22'),
    'ubuntu2404': dict(os_family='Debian', distribution='Ubuntu', distribution_major_version='24'),
    'centos7': dict(os_family='RedHat', distribution='CentOS', distribution_major_version='7'),
    'rocky8': dict(os_family='RedHat', distribution='Rocky', distribution_major_version='8'),
    'rhel9': dict(os_family='RedHat', distribution='RedHat', distribution_major_version='9'),
    'alma10': dict(os_family='RedHat', distribution='AlmaLinux', distribution_major_version='10'),
}
GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'golden')
PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: kvmops.kvm.hypervisor
        tasks_from: platform.yml
    - ansible.builtin.copy:
        dest: "{{ out }}/{{ inventory_hostname }}.json"
        content: "{{ {'packages': __hypervisor_packages, 'extras': __hypervisor_extras,
                      'daemons': __hypervisor_daemons, 'qemu_user': __hypervisor_qemu_user,
                      'tls_daemons': __hypervisor_tls_daemons,
                      'tls_listen_args': __hypervisor_tls_listen_args} | to_nice_json }}"
      delegate_to: localhost
"""


@pytest.fixture(scope='module')
def rendered(tmp_path_factory):
    work = tmp_path_factory.mktemp('platforms')
    (work / 'inventory.yml').write_text(yaml.safe_dump({'all': {'hosts': dict(
        (host, {'ansible_connection': 'local', '__hypervisor_platform': facts}) for host, facts in PLATFORMS.items())}}))
    (work / 'play.yml').write_text(PLAYBOOK)
    env = ansible_env(str(work / 'record.jsonl'))
    env.update(ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default')
    proc = subprocess.run([os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook'), '-i', str(work / 'inventory.yml'),
                           str(work / 'play.yml'), '-e', 'out=%s' % work], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dict((host, json.loads((work / (host + '.json')).read_text())) for host in PLATFORMS)


@pytest.mark.parametrize('platform', sorted(PLATFORMS))
def test_names_match_the_golden_file(rendered, platform):
    path = os.path.join(GOLDEN, 'hypervisor-%s.json' % platform)
    if os.environ.get('KVMOPS_REGOLD'):
        with open(path, 'w') as stream:
            json.dump(rendered[platform], stream, indent=2, sort_keys=True)
            stream.write('\n')
    with open(path) as stream:
        assert rendered[platform] == json.load(stream)


def test_modular_daemons_only_where_the_distribution_uses_them(rendered):
    modular = sorted(p for p, names in rendered.items() if 'virtqemud.socket' in names['daemons'])
    assert modular == ['alma10', 'rhel9']
    assert rendered['centos7']['packages'][:2] == ['qemu-kvm', 'libvirt']   # the seeds' names


def test_tls_listens_on_16514_the_way_each_platform_does(rendered):
    """Socket units where libvirt is socket-activated (listen_tls and --listen mean nothing there), --listen where
    it is not (EL7); never the plain TCP socket."""
    sockets = dict((p, names['tls_daemons']) for p, names in rendered.items())
    assert sockets == {'debian12': ['libvirtd-tls.socket'], 'ubuntu2204': ['libvirtd-tls.socket'],
                       'ubuntu2404': ['libvirtd-tls.socket'], 'rocky8': ['libvirtd-tls.socket'],
                       'rhel9': ['virtproxyd-tls.socket'], 'alma10': ['virtproxyd-tls.socket'], 'centos7': []}
    assert not any('tcp' in unit for units in sockets.values() for unit in units)
    listen = dict((p, names['tls_listen_args']) for p, names in rendered.items() if names['tls_listen_args'])
    assert listen == {'centos7': {'path': '/etc/sysconfig/libvirtd', 'variable': 'LIBVIRTD_ARGS', 'value': '--listen'}}
