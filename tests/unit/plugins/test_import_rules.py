"""The engine's dependency rules (docs/engine.md), read from the source of every file under plugins/.

- `_engine` imports no family package (`_domain`, `_host`, `_network`, `_storage`, ...).
- A family imports `_engine`, its own files, and another family only by an edge listed in ALLOWED_EDGES, each
  with its reason.
- A module imports only module_utils: `_engine` and its own family.
- Code that runs on the managed host (modules, module_utils) imports nothing of Ansible but ansible.module_utils:
  AnsiballZ packs nothing else.
- No cycles, between packages or between files.
- No file directly under plugins/module_utils/ except package markers: every file belongs to a private
  subpackage (a leading underscore, with its __init__.py).
- libvirt and lxml are imported in `_engine/deps.py` only (guarded, so a missing library is reported by name).
- An inventory plugin (controller side) imports of module_utils only the packages in INVENTORY_IMPORTS.
"""

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
COLLECTION = 'ansible_collections.kvmops.kvm.plugins.'
ENGINE = '_engine'

# (importing family, imported module or package): why the families share that piece
ALLOWED_EDGES = {
    ('_domain', '_host.cpu'): "type auto/kvm asks the same real KVM probe (kvm_usable_here) that kvm_host reports, "
                              "so a guest and the host's facts never disagree about KVM",
    ('_domain', '_storage'): 'guest disks are storage: creating, inspecting and removing them goes through the pool '
                             'and volume code of the storage package, not a copy of it',
    ('_domain', '_host.qemu'): 'a cloud-init seed ISO belongs to the user QEMU runs as, read from qemu.conf the way '
                               'kvm_host reads it',
}

# what an inventory plugin (plugins/inventory, run on the controller) may import of module_utils, and why
INVENTORY_IMPORTS = {
    '_engine': 'the guarded libvirt/lxml imports (deps) and the error messages every module gives; the plugin reads '
               'libvirt as the modules do, not through a second copy',
    '_inventory': "the plugin's own family: guests read into plain records (testable without Ansible's inventory); "
                  'no module family grows controller-only code',
}

GUARDED_LIBRARIES = ('libvirt', 'lxml')
GUARDED_IN = 'module_utils/_engine/deps.py'


def plugin_files(root):
    """Every .py file under root/plugins, as paths relative to root/plugins."""
    base = os.path.join(root, 'plugins')
    found = []
    for directory, _subdirs, names in os.walk(base):
        found.extend(os.path.relpath(os.path.join(directory, name), base) for name in names if name.endswith('.py'))
    return sorted(found)


def dotted(relative):
    """'module_utils/_engine/xml.py' -> 'module_utils._engine.xml'; a package's __init__.py is the package."""
    parts = relative[:-len('.py')].split(os.sep)
    if parts[-1] == '__init__':
        parts = parts[:-1]
    return '.'.join(parts)


def imported_names(root, relative, known):
    """(line, name) for everything a file imports, however deep in the file; a name of this collection is given
    relative to plugins/ ('module_utils._engine.xml'), down to the module when `from package import module`."""
    with open(os.path.join(root, 'plugins', relative)) as stream:
        tree = ast.parse(stream.read(), relative)
    here = dotted(relative).split('.')
    package = here if relative.endswith('__init__.py') else here[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, _local(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = '.'.join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = _local(node.module)
            for alias in node.names:
                candidate = '%s.%s' % (base, alias.name)
                yield node.lineno, candidate if candidate in known else base


def _local(name):
    return name[len(COLLECTION):] if name.startswith(COLLECTION) else name


def package_of(name):
    """The module_utils subpackage of a collection name ('_engine'), or None."""
    parts = name.split('.')
    return parts[1] if parts[0] == 'module_utils' and len(parts) > 1 else None


def is_collection_name(name, known):
    return name in known or name.split('.')[0] in ('module_utils', 'modules', 'doc_fragments')


def allowed_edge(family, target):
    inside = target[len('module_utils.'):]
    return any(source == family and (inside == piece or inside.startswith(piece + '.'))
               for source, piece in ALLOWED_EDGES)


def rule_violations(root):
    """Every broken rule, as 'file:line: what' lines."""
    files = plugin_files(root)
    known = set(dotted(relative) for relative in files)
    found = []
    file_edges = {}
    package_edges = {}
    for relative in files:
        here = dotted(relative)
        own = package_of(here)
        parts = here.split('.')
        found.extend(_layout(relative, parts))
        families = set()
        for line, name in imported_names(root, relative, known):
            where = '%s:%d' % (os.path.join('plugins', relative), line)
            if name.split('.')[0] in GUARDED_LIBRARIES and relative != GUARDED_IN:
                found.append('%s: imports %s; import it from _engine/deps.py (guarded)' % (where, name))
            if parts[0] in ('module_utils', 'modules') and name.split('.')[0] == 'ansible' \
                    and not name.startswith('ansible.module_utils'):
                found.append('%s: imports %s, which AnsiballZ does not send to the managed host' % (where, name))
            if not is_collection_name(name, known):
                continue
            file_edges.setdefault(here, set()).add(name)
            target = package_of(name)
            if parts[0] == 'inventory':
                if target not in INVENTORY_IMPORTS:
                    found.append('%s: an inventory plugin imports %s; of the collection it imports only module_utils '
                                 '%s' % (where, name, ', '.join(sorted(INVENTORY_IMPORTS))))
            elif parts[0] == 'modules':
                if target is None:
                    found.append('%s: a module imports %s; modules import only module_utils' % (where, name))
                elif target != ENGINE:
                    families.add(target)
            elif own is not None:
                if target is None:
                    found.append('%s: module_utils imports %s' % (where, name))
                elif target != own:
                    package_edges.setdefault(own, set()).add(target)
                    if own == ENGINE:
                        found.append('%s: the engine imports the family %s; the engine imports no family'
                                     % (where, target))
                    elif target != ENGINE and not allowed_edge(own, name):
                        found.append('%s: %s imports %s; a family imports another only by an edge listed in '
                                     'ALLOWED_EDGES, with its reason' % (where, own, name))
        if len(families) > 1:
            found.append('plugins/%s: a module imports one family and the engine; it imports %s'
                         % (relative, ', '.join(sorted(families))))
    found.extend('import cycle between packages: %s' % ' -> '.join(cycle) for cycle in cycles(package_edges))
    found.extend('import cycle between files: %s' % ' -> '.join(cycle) for cycle in cycles(file_edges))
    return found


def _layout(relative, parts):
    if parts[0] != 'module_utils':
        return []
    if len(relative.split(os.sep)) == 2 and not relative.endswith('__init__.py'):
        return ['plugins/%s: a file directly under module_utils/; it belongs to a subpackage' % relative]
    if len(parts) > 1 and not parts[1].startswith('_'):
        return ['plugins/%s: module_utils subpackages are private: %s needs a leading underscore' % (relative, parts[1])]
    return []


def cycles(edges):
    """One cycle (a list of nodes, first repeated last) for each strongly connected group of nodes, found by DFS."""
    found, done = [], set()

    def visit(node, path):
        if node in path:
            cycle = path[path.index(node):] + [node]
            if not any(set(cycle) == set(other) for other in found):
                found.append(cycle)
            return
        if node in done:
            return
        for target in sorted(edges.get(node, ())):
            visit(target, path + [node])
        done.add(node)
    for start in sorted(edges):
        visit(start, [])
    return found


def test_every_file_under_plugins_keeps_the_dependency_rules():
    assert plugin_files(ROOT), 'no plugin files found under %s' % ROOT
    problems = rule_violations(ROOT)
    assert problems == [], '\n'.join(problems)


def test_every_module_utils_subpackage_has_its_marker():
    base = os.path.join(ROOT, 'plugins', 'module_utils')
    packages = [name for name in os.listdir(base) if os.path.isdir(os.path.join(base, name)) and name != '__pycache__']
    assert ENGINE in packages
    for name in packages:
        assert os.path.exists(os.path.join(base, name, '__init__.py')), name


def test_every_allowed_edge_is_in_use_or_planned():
    """An edge that is no longer used is taken off the list (the storage edge is planned: guest disks move there)."""
    files = plugin_files(ROOT)
    known = set(dotted(relative) for relative in files)
    used = set()
    for relative in files:
        for _line, name in imported_names(ROOT, relative, known):
            for source, piece in ALLOWED_EDGES:
                if package_of(dotted(relative)) == source and allowed_edge(source, name) and package_of(name) != source:
                    used.add((source, piece))
    assert ('_domain', '_host.cpu') in used
    assert set(ALLOWED_EDGES) - used <= set([('_domain', '_storage')])


# ---- the rules catch what they are meant to catch

def write(root, relative, text=''):
    path = root / 'plugins' / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_rules_catch_each_kind_of_break(tmp_path):
    prefix = 'from ansible_collections.kvmops.kvm.plugins.module_utils.'
    for package in ('_engine', '_domain', '_host', '_network'):
        write(tmp_path, 'module_utils/%s/__init__.py' % package)
    write(tmp_path, 'module_utils/_engine/deps.py', 'import libvirt\nfrom lxml import etree\n')
    write(tmp_path, 'module_utils/_engine/module.py', prefix + '_domain import model\n')
    write(tmp_path, 'module_utils/_domain/model.py', prefix + '_engine import xml\n' + prefix + '_host.cpu import probe\n')
    write(tmp_path, 'module_utils/_domain/domain.py',
          prefix + '_network.model import read\nimport libvirt\nfrom ansible.plugins.action import ActionBase\n')
    write(tmp_path, 'module_utils/_host/cpu.py', prefix + '_host import facts\n')
    write(tmp_path, 'module_utils/_host/facts.py', 'from . import cpu\n')
    write(tmp_path, 'module_utils/_network/model.py', prefix + '_domain import model\n')
    write(tmp_path, 'module_utils/_flat.py')
    write(tmp_path, 'module_utils/public/__init__.py')
    write(tmp_path, 'modules/kvm_x.py',
          prefix + '_engine.module import KvmModule\n' + prefix + '_domain.domain import D\n' + prefix
          + '_network.model import N\nfrom ansible_collections.kvmops.kvm.plugins.modules.kvm_y import main\n')
    write(tmp_path, 'modules/kvm_y.py', 'from lxml import etree\n')
    write(tmp_path, 'inventory/libvirt.py', prefix + '_engine.deps import libvirt\n' + prefix + '_domain.model import M\n'
          + 'from ansible.plugins.inventory import BaseInventoryPlugin\nimport libvirt\n')
    problems = '\n'.join(rule_violations(str(tmp_path)))
    expected = [
        'plugins/module_utils/_engine/module.py:1: the engine imports the family _domain',
        'plugins/module_utils/_domain/domain.py:1: _domain imports module_utils._network.model',
        'plugins/module_utils/_domain/domain.py:2: imports libvirt; import it from _engine/deps.py',
        'plugins/module_utils/_domain/domain.py:3: imports ansible.plugins.action',
        'plugins/modules/kvm_y.py:1: imports lxml',
        'plugins/modules/kvm_x.py:4: a module imports modules.kvm_y',
        'plugins/modules/kvm_x.py: a module imports one family and the engine; it imports _domain, _network',
        'plugins/module_utils/_flat.py: a file directly under module_utils/',
        'plugins/inventory/libvirt.py:2: an inventory plugin imports module_utils._domain.model',
        'plugins/inventory/libvirt.py:4: imports libvirt; import it from _engine/deps.py',
        'plugins/module_utils/public/__init__.py: module_utils subpackages are private',
        'import cycle between packages: _domain -> _engine -> _domain',
        'import cycle between packages: _domain -> _network -> _domain',
        'import cycle between files: module_utils._host.cpu -> module_utils._host.facts -> module_utils._host.cpu',
    ]
    for line in expected:
        assert line in problems, '%s\nnot in:\n%s' % (line, problems)
    assert '_domain/model.py:2' not in problems          # an allowed edge
    assert 'plugins/module_utils/_engine/deps.py:' not in problems   # the one place for libvirt and lxml
    assert len(problems.splitlines()) == len(expected) + 1   # and _network's own import of _domain
