"""awx/load.yml against the awx.awx collection itself (its modules' argument specs, not a syntax check): every
task's parameters are options (or aliases) of its module, the required ones are there and the literal values have
the option's type and one of its choices; then load.yml runs for real, its templates rendered for every loop item,
against a controller that is not there: each awx.awx module accepts its arguments (AnsibleModule's own validation,
types included) and fails only when it tries to reach the controller.

awx.awx comes from .cache/awx (scripts/awx_collection.py, which `make setup` runs: the `ansible` package on PyPI
bundles it) or from the collections path; without it the tests skip and say so."""

import json
import os
import re
import subprocess

import pytest
import yaml

from awx_jobs import AWX, load, templates
from harness import PYTHON, ROOT, ansible_env

BIN = os.path.dirname(PYTHON)
AWX_COLLECTIONS = os.path.join(ROOT, '.cache', 'awx')
UNAVAILABLE = ('awx.awx is not available: `make setup` (scripts/awx_collection.py) extracts it from the `ansible` '
               'package on PyPI into .cache/awx; or ansible-galaxy collection install awx.awx')
# nothing listens on port 1 of the loopback: the modules fail at their first request, after checking arguments
CONTROLLER = 'http://127.0.0.1:1'
UNREACHABLE = re.compile(r'(?i)connection refused|trying to connect|failed to connect|unable to connect')
# what AnsibleModule says of arguments it refuses
ARGUMENT_ERRORS = re.compile(r'(?i)unsupported parameters|missing required|value of \S+ must be|is of type|'
                             r'cannot be converted|mutually exclusive|parameters are required')
TYPES = dict(str=str, bool=bool, int=int, list=list, dict=dict, raw=object, path=str, float=(int, float))


def env(record=None):
    base = ansible_env(record) if record else dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'))
    # then where `ansible-galaxy collection install awx.awx` puts it
    paths = [os.path.join(ROOT, '.collections'), AWX_COLLECTIONS] + [
        p for p in os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep) if p] + [
        os.path.expanduser('~/.ansible/collections'), '/usr/share/ansible/collections']
    base['ANSIBLE_COLLECTIONS_PATH'] = os.pathsep.join(paths)
    return base


def awx_tasks():
    """(task name, module, arguments) of every awx.awx task of load.yml."""
    return [(task['name'], module, args) for play in load(AWX, 'load.yml') for task in play.get('tasks', [])
            for module, args in task.items() if module.startswith('awx.awx.')]


@pytest.fixture(scope='module')
def awx_docs():
    modules = sorted(set(module for _name, module, _args in awx_tasks()))
    proc = subprocess.run([os.path.join(BIN, 'ansible-doc'), '-j'] + modules, capture_output=True, text=True,
                          check=False, env=env(), stdin=subprocess.DEVNULL, timeout=300)
    try:
        docs = json.loads(proc.stdout or '{}')
    except ValueError:
        docs = {}
    missing = [module for module in modules if module not in docs]
    if missing:
        pytest.skip('%s (ansible-doc finds no %s)' % (UNAVAILABLE, ', '.join(missing)))
    return dict((module, docs[module]['doc']) for module in modules)


def test_load_yml_uses_awx_modules_and_options_as_their_argument_specs_declare(awx_docs):
    assert set(awx_docs) == set(['awx.awx.project', 'awx.awx.inventory', 'awx.awx.inventory_source',
                                 'awx.awx.job_template'])
    problems = []
    for name, module, args in awx_tasks():
        options = awx_docs[module]['options']
        names = dict((alias, option) for option, spec in options.items() for alias in [option] + spec.get('aliases', []))
        problems += ['%s: %s has no option %s' % (name, module, key) for key in sorted(set(args) - set(names))]
        given = set(names[key] for key in args if key in names)
        problems += ['%s: %s needs %s' % (name, module, option) for option, spec in sorted(options.items())
                     if spec.get('required') and option not in given]
        for key, value in args.items():
            spec = options.get(names.get(key))
            if spec is None or isinstance(value, str) and '{{' in value:
                continue   # a template: its rendered value is checked by the module itself (the next test)
            kind = TYPES.get(spec.get('type', 'str'), object)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                problems.append('%s: %s %s=%r is not of type %s' % (name, module, key, value, spec.get('type')))
            if spec.get('choices') and value not in spec['choices']:
                problems.append('%s: %s %s=%r is not one of %s' % (name, module, key, value, spec['choices']))
    assert not problems, '\n'.join(problems)


def test_load_yml_runs_with_the_awx_modules_up_to_the_controller(awx_docs, tmp_path):
    # load.yml as it is, each task allowed to fail (the controller is not there) so that every task and loop item runs
    plays = load(AWX, 'load.yml')
    for play in plays:
        play['vars_files'] = [os.path.join(AWX, path) for path in play.get('vars_files', [])]
        for task in play['tasks']:
            if any(module.startswith('awx.awx.') for module in task):
                task['ignore_errors'] = True
    playbook = tmp_path / 'load.yml'
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    extra = dict(kvmops_awx_scm_url='https://git.example.com/ops/kvm.git', kvmops_awx_hypervisors=['kvm1', 'kvm2'],
                 kvmops_awx_execution_environment='kvmops.kvm EE', kvmops_awx_inventory_credential='libvirt ssh',
                 kvmops_awx_credentials=['kvm hosts'], ansible_python_interpreter=PYTHON)
    record = tmp_path / 'record.jsonl'
    run_env = dict(env(str(record)), CONTROLLER_HOST=CONTROLLER, CONTROLLER_OAUTH_TOKEN='not-a-token',
                   CONTROLLER_VERIFY_SSL='false')
    proc = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
                           str(playbook), '-e', json.dumps(extra)], capture_output=True, text=True, check=False,
                          env=run_env, stdin=subprocess.DEVNULL, timeout=600, cwd=str(tmp_path))
    output = proc.stdout[-4000:] + proc.stderr[-2000:]
    assert proc.returncode == 0, output   # every failure was ignored: no template or loop broke the play
    results = [json.loads(line) for line in record.read_text().splitlines() if line.strip()]
    by_task = dict((r['_task'], r) for r in results)
    runs = []
    for name, module, _args in awx_tasks():
        assert name in by_task, 'load.yml task %r did not run\n%s' % (name, output)
        result = by_task[name]
        for item in result.get('results', [result]):
            msg = str(item.get('msg', ''))
            assert not ARGUMENT_ERRORS.search(msg), '%s (%s) refused its arguments: %s' % (name, module, msg)
            assert (item.get('failed') or item.get('_status') == 'failed') and UNREACHABLE.search(msg), '%s (%s): %s' % (name, module, item)
            runs.append(module)
    # one project, one inventory, its two sources, every job template of job_templates.yml
    assert sorted(runs) == sorted(['awx.awx.project', 'awx.awx.inventory'] + ['awx.awx.inventory_source'] * 2
                                  + ['awx.awx.job_template'] * len(templates())), runs
