"""host_network's and nfs_storage's package, service and user names for every platform they support, rendered by
Ansible from the roles' own files with that platform's facts (only Debian boots here), compared with golden files
(KVMOPS_REGOLD=1 rewrites them)."""

import json
import os
import subprocess

import pytest
import yaml

from harness import ROOT, ansible_env
from test_hypervisor_platforms import GOLDEN, PLATFORMS

ROLES = {
    'host_network': "{'packages': __host_network_packages}",
    'nfs_storage': "{'server_packages': __nfs_storage_server_packages, 'client_packages': __nfs_storage_client_packages,"
                   " 'service': __nfs_storage_service, 'qemu_user': __nfs_storage_qemu_user}",
}
PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: kvmops.kvm.{role}
        tasks_from: platform.yml
    - ansible.builtin.copy:
        dest: "{{{{ out }}}}/{role}-{{{{ inventory_hostname }}}}.json"
        content: "{{{{ {names} | to_nice_json }}}}"
      delegate_to: localhost
"""


@pytest.fixture(scope='module')
def rendered(tmp_path_factory):
    work = tmp_path_factory.mktemp('role-platforms')
    inventory = {'all': {'hosts': dict(
        (host, dict([('ansible_connection', 'local')] + [('__%s_platform' % role, facts) for role in ROLES]))
        for host, facts in PLATFORMS.items())}}
    (work / 'inventory.yml').write_text(yaml.safe_dump(inventory))
    (work / 'play.yml').write_text(''.join(PLAYBOOK.format(role=role, names=names) for role, names in ROLES.items()))
    env = ansible_env(str(work / 'record.jsonl'))
    env.update(ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default')
    proc = subprocess.run([os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook'), '-i', str(work / 'inventory.yml'),
                           str(work / 'play.yml'), '-e', 'out=%s' % work], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dict(((role, host), json.loads((work / ('%s-%s.json' % (role, host))).read_text()))
                for role in ROLES for host in PLATFORMS)


@pytest.mark.parametrize('role', sorted(ROLES))
@pytest.mark.parametrize('platform', sorted(PLATFORMS))
def test_names_match_the_golden_file(rendered, role, platform):
    path = os.path.join(GOLDEN, '%s-%s.json' % (role, platform))
    if os.environ.get('KVMOPS_REGOLD'):
        with open(path, 'w') as stream:
            json.dump(rendered[role, platform], stream, indent=2, sort_keys=True)
            stream.write('\n')
    with open(path) as stream:
        assert rendered[role, platform] == json.load(stream)


def test_nfs_server_service_per_os_family(rendered):
    services = dict((host, rendered['nfs_storage', host]['service']) for host in PLATFORMS)
    assert set(h for h, s in services.items() if s == 'nfs-kernel-server') == {'debian12', 'ubuntu2204', 'ubuntu2404'}
    assert set(h for h, s in services.items() if s == 'nfs-server') == {'centos7', 'rocky8', 'rhel9', 'alma10'}
