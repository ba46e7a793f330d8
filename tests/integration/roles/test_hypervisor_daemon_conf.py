"""The hypervisor role's daemon settings (tasks/config.yml and its handler) run by Ansible for a Debian host
(monolithic libvirtd) and an EL 9 host (modular daemons) side by side, each on copies of the files its packages
ship, in a directory of the test's own: check mode reports the change, the run makes it, then both report none;
hypervisor_libvirtd_conf lands in libvirtd.conf, or in every modular daemon's file with the remote keys in
virtproxyd.conf only; the restart still to do names only the daemons whose files changed."""

import json
import os
import subprocess

import pytest
import yaml

from harness import PYTHON, ROOT, ansible_env
from test_hypervisor_platforms import GOLDEN, PLATFORMS

HOSTS = ('debian12', 'rhel9')
# as libvirt ships them: every setting commented out; the remote ones only in libvirtd.conf and virtproxyd.conf
SHIPPED = ['#max_clients = 5000', '#log_filters="1:qemu 1:libvirt 4:object 4:json 4:event 1:util"',
           '#unix_sock_group = "libvirt"']
SHIPPED_REMOTE = ['#listen_tls = 0', '#listen_tcp = 1', '#auth_tls = "none"']
SETTINGS = {'log_filters': '1:qemu 4:object', 'auth_tls': 'none'}   # a daemon-wide key, a remote one
# the role's files at their paths under the host's own root (set_fact outranks the platform's include_vars); no
# init system: a change is reported as restart_required, naming the daemons to restart
PLAYBOOK = """
- hosts: all
  gather_facts: false
  vars:
    hypervisor_manage_services: false
    hypervisor_libvirtd_conf: %(settings)s
    hypervisor_migration_transport: "{{ transport }}"
  tasks:
    - ansible.builtin.include_role:
        name: kvmops.kvm.hypervisor
        tasks_from: platform.yml
    - ansible.builtin.set_fact:   # as the packages step registers it: true where it is about to install them
        __hypervisor_install: {changed: "{{ fresh | default(false) | bool }}"}
        __hypervisor_daemon_conf_files: "{{ __hypervisor_daemon_conf_files | map('regex_replace', '^', root) | list }}"
        __hypervisor_remote_conf_file: "{{ root ~ __hypervisor_remote_conf_file }}"
    - ansible.builtin.include_role:
        name: kvmops.kvm.hypervisor
        tasks_from: config.yml
"""


@pytest.fixture(scope='module')
def play(tmp_path_factory):
    work = tmp_path_factory.mktemp('daemon-conf')
    files = {}
    for host in HOSTS:
        with open(os.path.join(GOLDEN, 'hypervisor-%s.json' % host)) as stream:
            files[host] = json.load(stream)['daemon_conf_files']
        for path in files[host]:
            shipped = work / host / path.lstrip('/')
            shipped.parent.mkdir(parents=True, exist_ok=True)
            remote = os.path.basename(path) in ('libvirtd.conf', 'virtproxyd.conf')
            shipped.write_text('\n'.join(SHIPPED + (SHIPPED_REMOTE if remote else [])) + '\n')
    (work / 'inventory.yml').write_text(yaml.safe_dump({'all': {'hosts': dict(
        (host, {'ansible_connection': 'local', 'ansible_python_interpreter': PYTHON,
                '__hypervisor_platform': PLATFORMS[host], 'root': str(work / host)})
        for host in HOSTS)}}))
    (work / 'play.yml').write_text(PLAYBOOK % dict(settings=json.dumps(SETTINGS)))

    def run(name, transport='ssh', check=False, fresh=False):
        record = work / (name + '.jsonl')
        env = ansible_env(str(record))
        env.update(ANSIBLE_PIPELINING='1')   # one module run per loop item, without temporary files
        command = [os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook'), '-i', str(work / 'inventory.yml'),
                   str(work / 'play.yml'), '-e', 'transport=' + transport] + (['--check'] if check else [])
        if fresh:   # a host without the packages yet, where check mode says they would be installed
            command += ['-e', 'fresh=true', '-e', 'root=%s' % (work / 'fresh')]
        proc = subprocess.run(command, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        results = [json.loads(line) for line in record.read_text().splitlines()]
        changed = dict((host, sorted(set(r['_task'] for r in results if r['_host'] == host and r.get('changed'))))
                       for host in HOSTS)
        told = dict((r['_host'], r['msg']) for r in results if r['_task'].endswith('need a restart'))
        return changed, told

    def read(host):
        return dict((path, (work / host / path.lstrip('/')).read_text().splitlines()) for path in files[host])

    return run, read, work


SETTINGS_TASK = ("kvmops.kvm.hypervisor : Settings in the libvirt daemons' config files (libvirtd.conf, or each "
                 "modular daemon's)")


def test_settings_land_where_each_platforms_daemons_read_them_and_restart_only_those(play):
    run, read, work = play
    before = dict((host, read(host)) for host in HOSTS)
    changed, told = run('check', check=True)
    assert changed == {'debian12': [SETTINGS_TASK], 'rhel9': [SETTINGS_TASK]}
    assert dict((host, read(host)) for host in HOSTS) == before   # check mode wrote nothing
    assert told['debian12'].endswith('restart libvirtd for them to take effect')
    assert 'restart virtqemud, virtnetworkd, virtstoraged, virtnodedevd, virtsecretd, virtinterfaced, ' \
        'virtnwfilterd, virtproxyd for them' in told['rhel9']

    assert run('apply') == (changed, told)   # check mode predicted the run
    # before the packages are there (no files yet) check mode predicts the same lines, and an install restarts all
    assert run('fresh check', check=True, fresh=True) == (changed, told)
    assert not os.path.exists(str(work / 'fresh'))
    debian = read('debian12')['/etc/libvirt/libvirtd.conf']
    assert debian == ['#max_clients = 5000', 'log_filters = "1:qemu 4:object"', '#unix_sock_group = "libvirt"',
                      '#listen_tls = 0', 'listen_tcp = 0', 'auth_tls = "none"']
    el9 = read('rhel9')
    assert '/etc/libvirt/libvirtd.conf' not in el9   # read by none of the modular daemons
    assert el9.pop('/etc/libvirt/virtproxyd.conf') == debian
    assert len(el9) == 7 and all(lines == debian[:3] for lines in el9.values()), el9

    assert run('check again', check=True) == ({'debian12': [], 'rhel9': []}, {})
    assert run('apply again') == ({'debian12': [], 'rhel9': []}, {})

    # a remote setting (the TLS transport's listen_tls) restarts the listening daemon alone: never virtqemud, whose
    # restart would abort a migration in progress
    changed, told = run('tls', transport='tls')
    assert changed == {'debian12': [SETTINGS_TASK], 'rhel9': [SETTINGS_TASK]}
    assert told['debian12'].endswith('restart libvirtd for them to take effect')
    assert told['rhel9'].endswith('restart virtproxyd for them to take effect')
    assert [path for path, lines in read('rhel9').items() if 'listen_tls = 1' in lines] == [
        '/etc/libvirt/virtproxyd.conf']
