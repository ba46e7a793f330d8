"""Galaxy metadata and release notes: requires_ansible is the ansible-core range CI tests, and antsibull-changelog
lints the fragments and generates the release notes of the version in galaxy.yml, in a copy of the checkout (the
repository itself is left as it is)."""

import os
import subprocess

import yaml
from docutils.core import publish_doctree
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from harness import PYTHON, ROOT

BIN = os.path.dirname(PYTHON)


def read_yaml(*path):
    with open(os.path.join(ROOT, *path)) as stream:
        return yaml.safe_load(stream)


def core_pin():
    with open(os.path.join(ROOT, 'requirements-dev.txt')) as stream:
        line = [item for item in stream.read().splitlines() if item.startswith('ansible-core')][0]
    return SpecifierSet(line[len('ansible-core'):])


def lower_bound(specifiers):
    return min(Version(spec.version) for spec in specifiers if spec.operator in ('>=', '=='))


def test_requires_ansible_is_what_ci_tests():
    requires = SpecifierSet(read_yaml('meta', 'runtime.yml')['requires_ansible'])
    pinned = core_pin()
    # the oldest ansible-core the collection claims is the oldest CI installs, and CI's own version satisfies both
    assert lower_bound(requires) == lower_bound(pinned), (str(requires), str(pinned))
    import ansible.release
    installed = Version(ansible.release.__version__)
    assert installed in requires and installed in pinned
    # and the sanity ignore file of that version exists (empty: the tests stay clean)
    ignore = os.path.join(ROOT, 'tests', 'sanity', 'ignore-%d.%d.txt' % (installed.major, installed.minor))
    assert os.path.exists(ignore) and open(ignore).read().strip() == ''


def test_release_notes_are_generated_for_the_galaxy_version(tmp_path):
    before = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=all'], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout
    copy = tmp_path / 'ansible_collections' / 'kvmops' / 'kvm'
    copy.mkdir(parents=True)
    files = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], cwd=ROOT,
                           capture_output=True, check=True).stdout
    subprocess.run(['rsync', '-a', '--from0', '--files-from=-', './', str(copy) + '/'], input=files, cwd=ROOT,
                   check=True)
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ['PATH'], ANSIBLE_COLLECTIONS_PATH=str(tmp_path))
    version = read_yaml('galaxy.yml')['version']

    def changelog(*args):
        proc = subprocess.run([os.path.join(BIN, 'antsibull-changelog')] + list(args), cwd=str(copy), env=env,
                              capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc
    assert changelog('lint').stdout.strip() == ''
    changelog('release', '--version', version, '--date', '2026-12-05')
    changelog('generate')
    notes = (copy / 'CHANGELOG.rst').read_text()
    assert 'v%s' % version in notes
    for section in ('Major Changes', 'Bugfixes', 'New Modules', 'New Plugins'):
        assert '\n%s\n' % section in notes, section
    for name in ('kvmops.kvm.kvm_domain', 'kvmops.kvm.kvm_network', 'kvmops.kvm.libvirt'):
        assert name in notes
    released = yaml.safe_load((copy / 'changelogs' / 'changelog.yaml').read_text())
    assert version in released['releases']
    assert not list((copy / 'changelogs' / 'fragments').glob('*.yml'))   # consumed by the release
    publish_doctree(notes, settings_overrides=dict(halt_level=2, report_level=2))   # valid RST, no warnings
    after = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=all'], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout
    assert after == before   # the checkout is untouched
