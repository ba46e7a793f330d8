"""Every plugin's and role's docs render with ansible-doc, as a user reads them: each module, the inventory plugin
and each role with an argument spec renders as text with no warning (ansible-doc says "not found" or "missing
documentation" as a warning and exits 0, so the output is what is checked). The docs site (scripts/docs_site.sh,
`make test-docs`) lints and renders the same docs through antsibull-docs."""

import glob
import os
import subprocess

import pytest

from harness import PYTHON, ROOT

BIN = os.path.dirname(PYTHON)


def ansible_doc(*args):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'), ANSIBLE_DEPRECATION_WARNINGS='1')
    return subprocess.run([os.path.join(BIN, 'ansible-doc')] + list(args), capture_output=True, text=True,
                          check=False, env=env, stdin=subprocess.DEVNULL, timeout=300)


def shipped(kind):
    if kind == 'module':
        paths = glob.glob(os.path.join(ROOT, 'plugins', 'modules', '*.py'))
    elif kind == 'inventory':
        paths = glob.glob(os.path.join(ROOT, 'plugins', 'inventory', '*.py'))
    else:
        return sorted('kvmops.kvm.' + os.path.basename(os.path.dirname(os.path.dirname(path)))
                      for path in glob.glob(os.path.join(ROOT, 'roles', '*', 'meta', 'argument_specs.yml')))
    return sorted('kvmops.kvm.' + os.path.basename(path)[:-3] for path in paths
                  if not os.path.basename(path).startswith('_'))


@pytest.mark.parametrize('kind', ['module', 'inventory', 'role'])
def test_every_plugin_and_role_renders_with_ansible_doc(kind):
    names = shipped(kind)
    assert names, kind
    text = ansible_doc('-t', kind, *names)
    assert text.returncode == 0 and 'WARNING' not in text.stderr and 'ERROR' not in text.stderr, text.stderr
    header = '> %s%s ' % (kind.upper(), ':' if kind == 'role' else '')
    rendered = [line.split()[2].strip('*') for line in text.stdout.splitlines() if line.startswith(header)]
    assert sorted(rendered) == names, (rendered, text.stdout[:2000])
