"""The hypervisor role's package, daemon and user names for every platform it supports, rendered by Ansible from
the role's own files with that platform's facts (only Debian boots here), compared with golden files
(KVMOPS_REGOLD=1 rewrites them): also where hypervisor_libvirtd_conf's settings land (libvirtd.conf, or each
modular daemon's file on EL 9/10) and which daemons a change restarts."""

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
# settings as a user writes them: daemon-wide ones (every daemon's file) and remote ones (the listening daemon's)
LIBVIRTD_CONF = {'max_clients': 64, 'log_filters': '1:qemu 4:object', 'auth_tls': 'none',
                 'tls_allowed_dn_list': ['CN=kvm*']}
# what tasks report changed before the handler runs (their registered results, as Ansible registers them)
CHANGES = {
    'nothing_explained': {},
    'install': {'__hypervisor_install': {'changed': True}, '__hypervisor_qemu_conf_written': {'changed': True}},
    'qemu_conf': {'__hypervisor_qemu_conf_written': {'changed': True}},
    'kvm_device': {'__hypervisor_kvm_user': {'changed': True}},
    'remote_conf_key': {'__hypervisor_daemon_conf_written': {'changed': True, 'results': [
        {'changed': False, 'item': ['{{ __hypervisor_daemon_conf_files[0] }}', {'key': 'max_clients', 'value': 64}]},
        {'changed': True, 'item': ['{{ __hypervisor_remote_conf_file }}', {'key': 'listen_tls', 'value': 1}]}]}},
    'daemon_wide_key': {'__hypervisor_daemon_conf_written': {'changed': True, 'results': [
        {'changed': True, 'item': [path, {'key': 'max_clients', 'value': 64}]}
        for path in ('{{ __hypervisor_daemon_conf_files[0] }}', '{{ __hypervisor_daemon_conf_files[-1] }}')]}},
    'tls_certs': {'__hypervisor_tls_certs': {'changed': True}},
}
REGISTERED = sorted(set(name for change in CHANGES.values() for name in change))
PLAYBOOK = """
- hosts: all
  gather_facts: false
  vars:
    hypervisor_libvirtd_conf: %(libvirtd_conf)s
    hypervisor_migration_transport: tls
  tasks:
    - ansible.builtin.include_role:
        name: kvmops.kvm.hypervisor
        tasks_from: platform.yml
        public: true
%(restarts)s
    - ansible.builtin.copy:
        dest: "{{ out }}/{{ inventory_hostname }}.json"
        content: "{{ {'packages': __hypervisor_packages, 'extras': __hypervisor_extras,
                      'daemons': __hypervisor_daemons, 'qemu_user': __hypervisor_qemu_user,
                      'tls_daemons': __hypervisor_tls_daemons,
                      'tls_listen_args': __hypervisor_tls_listen_args,
                      'daemon_conf_files': __hypervisor_daemon_conf_files,
                      'daemon_conf_lines': __hypervisor_daemon_conf_lines,
                      'restart': restart} | to_nice_json }}"
      delegate_to: localhost
"""
# for each case: the registered results set (the others reset), then the handler's list of services taken
RESTART = """
    - ansible.builtin.set_fact: %(registered)s
    - ansible.builtin.set_fact:
        restart: "{{ restart | default({}) | combine({'%(case)s': __hypervisor_restart}) }}"
"""


@pytest.fixture(scope='module')
def rendered(tmp_path_factory):
    work = tmp_path_factory.mktemp('platforms')
    (work / 'inventory.yml').write_text(yaml.safe_dump({'all': {'hosts': dict(
        (host, {'ansible_connection': 'local', '__hypervisor_platform': facts}) for host, facts in PLATFORMS.items())}}))
    restarts = ''.join(RESTART % dict(case=case, registered=json.dumps(
        dict((name, change.get(name, {})) for name in REGISTERED))) for case, change in sorted(CHANGES.items()))
    (work / 'play.yml').write_text(PLAYBOOK % dict(libvirtd_conf=json.dumps(LIBVIRTD_CONF), restarts=restarts))
    env = ansible_env(str(work / 'record.jsonl'))
    env.update(ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default')
    proc = subprocess.run([os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook'), '-i', str(work / 'inventory.yml'),
                           str(work / 'play.yml'), '-e', 'out=%s' % work], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rendered = dict((host, json.loads((work / (host + '.json')).read_text())) for host in PLATFORMS)
    for names in rendered.values():
        # as config.yml writes them: file -> key -> value
        conf = names['daemon_conf'] = {}
        for path, setting in names.pop('daemon_conf_lines'):
            assert setting['key'] not in conf.setdefault(path, {}), (path, setting)   # one line per key and file
            conf[path][setting['key']] = setting['value']
    return rendered


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


def test_libvirtd_conf_settings_go_where_each_platforms_daemons_read_them(rendered):
    """Monolithic libvirtd: everything in libvirtd.conf, as before. EL 9/10: no libvirtd.conf (no daemon reads it);
    every modular daemon's own file gets the daemon-wide settings, and only virtproxyd.conf (the one daemon built
    to listen on the network) the remote ones, with the transport's listen_tls/listen_tcp."""
    daemon_wide = {'max_clients': 64, 'log_filters': '1:qemu 4:object'}
    remote = {'auth_tls': 'none', 'tls_allowed_dn_list': ['CN=kvm*'], 'listen_tls': 1, 'listen_tcp': 0}
    for platform in ('debian12', 'ubuntu2204', 'ubuntu2404', 'centos7', 'rocky8'):
        assert rendered[platform]['daemon_conf'] == {'/etc/libvirt/libvirtd.conf': dict(daemon_wide, **remote)}
    for platform in ('rhel9', 'alma10'):
        conf = rendered[platform]['daemon_conf']
        # one file per modular daemon the role runs, the names systemd's units have
        services = sorted(set(unit.split('.')[0] for unit in rendered[platform]['daemons']))
        assert sorted(path[len('/etc/libvirt/'):-len('.conf')] for path in conf) == services
        assert conf.pop('/etc/libvirt/virtproxyd.conf') == dict(daemon_wide, **remote)
        assert all(settings == daemon_wide for settings in conf.values()), conf


def test_a_change_restarts_only_the_daemons_that_read_it(rendered):
    assert rendered['rhel9']['restart'] == rendered['alma10']['restart'] == {
        'daemon_wide_key': ['virtqemud', 'virtproxyd'],   # the two files that changed
        'remote_conf_key': ['virtproxyd'],                # virtqemud, whose restart aborts migrations, stays up
        'qemu_conf': ['virtqemud'],
        'kvm_device': ['virtqemud'],
        'tls_certs': ['virtproxyd'],
        'install': rendered['rhel9']['restart']['nothing_explained'],
        'nothing_explained': ['virtqemud', 'virtnetworkd', 'virtstoraged', 'virtnodedevd', 'virtsecretd',
                              'virtinterfaced', 'virtnwfilterd', 'virtproxyd'],
    }
    for platform in ('debian12', 'ubuntu2204', 'ubuntu2404', 'centos7', 'rocky8'):
        assert set(map(tuple, rendered[platform]['restart'].values())) == {('libvirtd',)}, platform
