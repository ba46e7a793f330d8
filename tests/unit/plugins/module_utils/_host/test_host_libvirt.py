"""libvirt facts: capabilities, domain capabilities, versions and the daemon layout."""

import pytest

from ansible_collections.kvmops.kvm.plugins.module_utils._engine import files as _files
from ansible_collections.kvmops.kvm.plugins.module_utils._host import libvirt_facts as lv

CAPABILITIES = """<capabilities><host><cpu><arch>x86_64</arch></cpu>
  <secmodel><model>apparmor</model><doi>0</doi></secmodel><secmodel><model>dac</model></secmodel></host>
  <guest><os_type>hvm</os_type><arch name='i686'><emulator>/usr/bin/qemu-system-i386</emulator>
    <machine>pc-i440fx-7.2</machine><domain type='qemu'/></arch></guest>
  <guest><os_type>hvm</os_type><arch name='x86_64'><emulator>/usr/bin/qemu-system-x86_64</emulator>
    <machine maxCpus='255'>pc-i440fx-7.2</machine><machine canonical='pc-i440fx-7.2'>pc</machine>
    <machine maxCpus='288'>pc-q35-7.2</machine><domain type='qemu'/>
    <domain type='kvm'><machine>q35</machine></domain></arch></guest>
</capabilities>"""

DOMCAPS = """<domainCapabilities><path>/usr/bin/qemu-system-x86_64</path><domain>kvm</domain>
  <machine>pc-q35-7.2</machine><arch>x86_64</arch><vcpu max='288'/>
  <os supported='yes'><enum name='firmware'><value>efi</value></enum>
    <loader supported='yes'><value>/usr/share/OVMF/OVMF_CODE_4M.ms.fd</value>
      <enum name='secure'><value>yes</value><value>no</value></enum></loader></os>
</domainCapabilities>"""


def test_capabilities():
    assert lv.read_capabilities(CAPABILITIES) == dict(
        arch='x86_64', domain_types=['kvm', 'qemu'], machine_types=['pc', 'pc-i440fx-7.2', 'pc-q35-7.2', 'q35'],
        emulator='/usr/bin/qemu-system-x86_64', security_models=['apparmor', 'dac'])


def test_domain_capabilities():
    assert lv.read_domain_capabilities(DOMCAPS) == dict(
        emulator='/usr/bin/qemu-system-x86_64', default_machine='pc-q35-7.2', max_vcpus=288, uefi=True,
        loaders=['/usr/share/OVMF/OVMF_CODE_4M.ms.fd'], secure_boot=True)
    bare = lv.read_domain_capabilities('<domainCapabilities><os supported="yes"/></domainCapabilities>')
    assert bare['uefi'] is False and bare['max_vcpus'] is None


def test_versions():
    assert lv.version_string(9000000) == '9.0.0'
    assert lv.version_string(7002022) == '7.2.22'
    assert lv.version_string(0) is None


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setattr(_files, 'ROOT', str(tmp_path))
    for name in ('usr/sbin/libvirtd', 'usr/sbin/virtqemud', 'usr/sbin/virtlogd'):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text('')
    return tmp_path


def test_daemon_layout(root):
    modular = lv.daemon_layout({'virtqemud', 'virtlogd', 'bash'})
    assert modular == dict(layout='modular', driver_daemon='virtqemud', running=True,
                           processes=['virtlogd', 'virtqemud'], installed=['libvirtd', 'virtlogd', 'virtqemud'])
    assert lv.daemon_layout({'libvirtd'})['layout'] == 'monolithic'
    nothing = lv.daemon_layout(set())
    assert nothing['layout'] is None and nothing['running'] is False     # both installed: cannot tell
    (root / 'run/libvirt').mkdir(parents=True)
    (root / 'run/libvirt/virtqemud-sock').write_text('')
    socket = lv.daemon_layout(set())
    assert socket['layout'] == 'modular' and socket['running'] is False


def test_emulator_version():
    out = 'QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright ...\n'
    assert lv.emulator_version(lambda args: (0, out, ''), '/usr/bin/qemu-system-x86_64') == '7.2.22'
    assert lv.emulator_version(lambda args: (127, '', 'not found'), '/x') is None
    assert lv.emulator_version(None, None) is None
