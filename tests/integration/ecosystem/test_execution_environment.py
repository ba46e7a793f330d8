"""The AWX execution environment: `ansible-builder create` makes a complete build context from
meta/execution-environment.yml (no container engine runs here: the image is not built), and the Python and system
dependencies it lists are exactly what the code under plugins/ imports and runs."""

import ast
import os
import subprocess
import sys

import pytest
import yaml
from packaging.requirements import Requirement

from harness import PYTHON, ROOT

BIN = os.path.dirname(PYTHON)
EE_FILE = os.path.join(ROOT, 'meta', 'execution-environment.yml')

# import name -> the pip distribution that provides it
PIP_NAMES = {'libvirt': 'libvirt-python', 'lxml': 'lxml', 'pycdlib': 'pycdlib', 'pyroute2': 'pyroute2', 'jeepney': 'jeepney'}
# pip distribution -> system packages it needs: (runtime, compile) per platform
SYSTEM_FOR_PIP = {
    'libvirt-python': dict(dpkg=(['libvirt0'], ['libvirt-dev', 'pkg-config', 'gcc', 'python3-dev']),
                           rpm=(['libvirt-libs'], ['libvirt-devel', 'pkgconf-pkg-config', 'gcc', 'python3.11-devel'])),
}
# executables the modules run on a hypervisor -> the package per platform (bindep profile "hypervisor")
EXECUTABLES = {
    'blkid': dict(dpkg='util-linux', rpm='util-linux'),
    'umount': dict(dpkg='mount', rpm='util-linux'),
    'mount.nfs': dict(dpkg='nfs-common', rpm='nfs-utils'),
    'timeout': dict(dpkg='coreutils', rpm='coreutils'),
    'lvextend': dict(dpkg='lvm2', rpm='lvm2'),
    'modprobe': dict(dpkg='kmod', rpm='kmod'),
    'ip': dict(dpkg='iproute2', rpm='iproute'),
    'qemu-img': dict(dpkg='qemu-utils', rpm='qemu-img'),
}


def plugin_sources():
    for directory, _subdirs, names in os.walk(os.path.join(ROOT, 'plugins')):
        for name in sorted(names):
            if name.endswith('.py'):
                path = os.path.join(directory, name)
                with open(path) as stream:
                    yield os.path.relpath(path, ROOT), ast.parse(stream.read(), path)


def third_party_imports():
    """{top-level import name: [file, ...]} of everything under plugins/ that is neither stdlib nor Ansible."""
    found = {}
    for path, tree in plugin_sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split('.')[0]
                if top in sys.stdlib_module_names or top in ('ansible', 'ansible_collections', '__future__'):
                    continue
                found.setdefault(top, []).append(path)
    return found


def _command_head(node, assignments):
    """The executable of a run_command([...]) argument: a list literal, a name bound to one, or name + [...]."""
    if isinstance(node, ast.BinOp):
        return _command_head(node.left, assignments)
    if isinstance(node, ast.Name):
        return _command_head(assignments.get(node.id), assignments) if node.id in assignments else None
    if isinstance(node, ast.List) and node.elts and isinstance(node.elts[0], ast.Constant) \
            and isinstance(node.elts[0].value, str):
        return node.elts[0].value
    return None


def executables():
    """{executable: [file, ...]} the modules run (run_command of a literal command, get_bin_path)."""
    found = {}
    for path, tree in plugin_sources():
        assignments = dict((node.targets[0].id, node.value) for node in ast.walk(tree)
                           if isinstance(node, ast.Assign) and len(node.targets) == 1
                           and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.List))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute) or not node.args:
                continue
            head = None
            if node.func.attr == 'run_command':
                head = _command_head(node.args[0], assignments)
            elif node.func.attr == 'get_bin_path' and isinstance(node.args[0], ast.Constant):
                head = node.args[0].value
            if head:
                found.setdefault(head, []).append(path)
    return found


def requirement_names(path):
    with open(path) as stream:
        return set(Requirement(line.split('#')[0].strip()).name.lower() for line in stream
                   if line.split('#')[0].strip())


def bindep_packages(profiles):
    from bindep.depends import Depends
    with open(os.path.join(ROOT, 'bindep.txt')) as stream:
        return set(rule[0] for rule in Depends(stream.read()).active_rules(profiles))


@pytest.fixture(scope='module')
def context(tmp_path_factory):
    target = tmp_path_factory.mktemp('kvmtinv-ee') / 'context'
    proc = subprocess.run([os.path.join(BIN, 'ansible-builder'), 'create', '-f', EE_FILE, '-c', str(target),
                           '--output-filename', 'Containerfile'], capture_output=True, text=True, check=False,
                          cwd=str(target.parent), stdin=subprocess.DEVNULL, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return target


def test_ansible_builder_creates_a_complete_context(context):
    with open(EE_FILE) as stream:
        definition = yaml.safe_load(stream)
    assert definition['version'] == 3
    containerfile = (context / 'Containerfile').read_text()
    build = context / '_build'
    for name in ('requirements.txt', 'bindep.txt', 'scripts/assemble', 'scripts/introspect.py',
                 'scripts/install-from-bindep', 'scripts/entrypoint'):
        path = build / name
        assert path.is_file() and not path.is_symlink(), name   # real files: a build copies the context as is
    assert (build / 'requirements.txt').read_text() == open(os.path.join(ROOT, 'requirements.txt')).read()
    assert (build / 'bindep.txt').read_text() == open(os.path.join(ROOT, 'bindep.txt')).read()
    assert 'FROM $EE_BASE_IMAGE AS base' in containerfile and 'AS builder' in containerfile
    assert 'introspect' in containerfile and 'install-from-bindep' in containerfile
    assert 'ansible-core' in containerfile and 'ansible-runner' in containerfile   # what AWX runs jobs with
    # the ansible-core the EE installs is the range CI tests (requirements-dev.txt)
    dev = open(os.path.join(ROOT, 'requirements-dev.txt')).read()
    core = [line for line in dev.splitlines() if line.startswith('ansible-core')][0]
    assert definition['dependencies']['ansible_core']['package_pip'] == core


def test_every_python_import_is_a_listed_requirement_and_nothing_more():
    imports = third_party_imports()
    unknown = dict((name, files) for name, files in imports.items() if name not in PIP_NAMES)
    assert not unknown, 'imports with no pip name in PIP_NAMES (add it there and to requirements.txt): %s' % unknown
    needed = set(PIP_NAMES[name] for name in imports)
    assert needed == set(['libvirt-python', 'lxml', 'pycdlib', 'pyroute2', 'jeepney'])   # the parse found them
    assert requirement_names(os.path.join(ROOT, 'requirements.txt')) == needed
    assert '-r requirements.txt' in open(os.path.join(ROOT, 'requirements-dev.txt')).read().splitlines()


def test_every_system_dependency_is_in_bindep_for_each_platform():
    needed = set(PIP_NAMES[name] for name in third_party_imports())
    for platform in ('dpkg', 'rpm'):
        runtime = bindep_packages(['platform:%s' % platform, 'default'])
        compile_ = bindep_packages(['platform:%s' % platform, 'compile'])
        hypervisor = bindep_packages(['platform:%s' % platform, 'hypervisor'])
        for pip_name in needed:
            run, build = SYSTEM_FOR_PIP.get(pip_name, {}).get(platform, ([], []))
            assert set(run) <= runtime, (platform, pip_name, set(run) - runtime)
            assert set(build) <= compile_, (platform, pip_name, set(build) - compile_)
        # an EE is no hypervisor: the default profile carries no daemon and no QEMU
        assert not runtime & set(['qemu-kvm', 'libvirt', 'libvirt-daemon-system', 'qemu-system-x86'])
        for executable in executables():
            assert executable in EXECUTABLES, 'the modules run %s: add it to EXECUTABLES and bindep.txt' % executable
            assert EXECUTABLES[executable][platform] in hypervisor, (platform, executable)
    assert set(['modprobe', 'ip', 'qemu-img', 'blkid', 'lvextend']) <= set(executables())   # the parse found them


def test_a_collection_installed_in_another_ee_gives_its_requirements(tmp_path, context):
    """Built and installed from the Galaxy tarball, the collection is introspected as ansible-builder does in an
    EE that lists it: requirements.txt and bindep.txt from its root."""
    dist = tmp_path / 'dist'
    subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--output-path', str(dist), ROOT],
                   check=True, capture_output=True, cwd=ROOT, stdin=subprocess.DEVNULL, timeout=300)
    tarball = next(dist.glob('kvmops-kvm-*.tar.gz'))
    subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '--force', '-p', str(tmp_path / 'c'),
                    str(tarball)], check=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=300)
    installed = tmp_path / 'c' / 'ansible_collections' / 'kvmops' / 'kvm'
    assert not (installed / 'meta' / 'execution-environment.yml').exists()   # build_ignore
    proc = subprocess.run([sys.executable, str(context / '_build' / 'scripts' / 'introspect.py'), 'introspect',
                           str(tmp_path / 'c')], capture_output=True, text=True, check=True, timeout=120)
    found = yaml.safe_load(proc.stdout)
    assert set(line.split('>')[0] for line in found['python']) == set(['libvirt-python', 'lxml', 'pycdlib', 'pyroute2', 'jeepney'])
    assert any(line.startswith('libvirt-libs [platform:rpm]') for line in found['system'])
