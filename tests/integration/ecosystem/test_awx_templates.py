"""The AWX job templates as code (awx/): every file is valid YAML, every template's playbook exists and takes extra
vars only (no vars_prompt), every survey is a valid AWX survey spec whose variables the playbook reads, and the
inventory sources are what the kvmops.kvm.libvirt plugin and ansible-inventory accept. Static: no AWX runs here
(awx.awx's own argument specs are checked when that collection is installed)."""

import json
import os
import re
import subprocess

import jinja2
import jinja2.meta
import pytest
import yaml

from harness import PYTHON, ROOT

BIN = os.path.dirname(PYTHON)
AWX = os.path.join(ROOT, 'awx')
# the playbooks another change of this session writes: a template may name them before they land, and is checked
# in full as soon as they exist
PENDING = set(['playbooks/site.yml', 'playbooks/guests.yml'])
SURVEY_TYPES = set(['text', 'textarea', 'password', 'integer', 'float', 'multiplechoice', 'multiselect'])
SURVEY_KEYS = set(['question_name', 'question_description', 'variable', 'type', 'required', 'default', 'choices',
                   'min', 'max', 'new_question'])
CONDITIONALS = set(['when', 'that', 'failed_when', 'changed_when', 'until'])


class AnyName(dict):
    """Every filter and test name is known: Ansible's own come from plugins this parser need not load."""

    def __contains__(self, name):
        return True

    def get(self, name, default=None):
        return dict.get(self, name, len)


ENV = jinja2.Environment(extensions=['jinja2.ext.do', 'jinja2.ext.loopcontrols'])
ENV.filters, ENV.tests = AnyName(ENV.filters), AnyName(ENV.tests)


def load(*path):
    with open(os.path.join(*path)) as stream:
        return yaml.safe_load(stream)


def templates():
    return load(AWX, 'job_templates.yml')['kvmops_awx_job_templates']


def template_names():
    return [t['name'] for t in templates()]


def template(name):
    return [t for t in templates() if t['name'] == name][0]


def names_in(text, expression=False):
    """The variables a Jinja template (or a bare conditional expression) reads."""
    if expression:
        text = '{{ (%s) }}' % text
    elif '{{' not in text and '{%' not in text:
        return set()
    return jinja2.meta.find_undeclared_variables(ENV.parse(text))


class Reads(object):
    """Every variable a playbook reads: its templates and conditionals, the task files and playbooks it includes,
    and the roles it runs (their tasks, handlers, vars, templates and the options their argument specs declare)."""

    def __init__(self):
        self.names = set()
        self.seen = set()
        self.prompts = []

    def file(self, path):
        if path in self.seen or not os.path.exists(path):
            return
        self.seen.add(path)
        data = load(path)
        self.walk(data, os.path.dirname(path))
        if isinstance(data, list):
            for play in data:
                if isinstance(play, dict) and 'vars_prompt' in play:
                    self.prompts.append(path)

    def walk(self, node, here, key=None):
        if isinstance(node, dict):
            for name in ('include_tasks', 'import_tasks', 'ansible.builtin.include_tasks',
                         'ansible.builtin.import_tasks', 'import_playbook', 'ansible.builtin.import_playbook'):
                target = node.get(name)
                if isinstance(target, dict):
                    target = target.get('file')
                if isinstance(target, str) and '{{' not in target:
                    self.file(os.path.join(here, target))
            for name in ('include_role', 'import_role', 'ansible.builtin.include_role',
                         'ansible.builtin.import_role'):
                if isinstance(node.get(name), dict):
                    self.role(node[name].get('name', ''))
            for role in node.get('roles', []) if isinstance(node.get('roles'), list) else []:
                self.role(role if isinstance(role, str) else role.get('role', role.get('name', '')))
            for item_key, value in node.items():
                self.walk(value, here, item_key)
        elif isinstance(node, list):
            for value in node:
                self.walk(value, here, key)
        elif isinstance(node, str):
            self.names |= names_in(node, expression=key in CONDITIONALS and '{{' not in node)

    def role(self, name):
        path = os.path.join(ROOT, 'roles', name.split('.')[-1])
        if path in self.seen or not os.path.isdir(path):
            return
        self.seen.add(path)
        for part in ('tasks', 'handlers', 'vars', 'defaults'):
            for directory, _subdirs, files in os.walk(os.path.join(path, part)):
                for file_name in sorted(files):
                    if file_name.endswith(('.yml', '.yaml')):
                        self.file(os.path.join(directory, file_name))
        for directory, _subdirs, files in os.walk(os.path.join(path, 'templates')):
            for file_name in files:
                with open(os.path.join(directory, file_name)) as stream:
                    self.names |= names_in(stream.read())
        specs = os.path.join(path, 'meta', 'argument_specs.yml')
        if os.path.exists(specs):
            for spec in (load(specs).get('argument_specs') or {}).values():
                self.names |= set((spec.get('options') or {}).keys())


def reads(playbook):
    found = Reads()
    found.file(os.path.join(ROOT, playbook))
    return found


def test_every_file_is_valid_yaml_and_load_yml_uses_the_awx_collection():
    files = [os.path.join(d, f) for d, _s, fs in os.walk(AWX) for f in fs]
    assert set(os.path.relpath(f, AWX) for f in files) >= set([
        'load.yml', 'job_templates.yml', 'inventory/hypervisors.yml', 'inventory/guests.libvirt.yml'])
    for path in files:
        if path.endswith(('.yml', '.yaml')):
            assert load(path) is not None, path
    plays = load(AWX, 'load.yml')
    modules = set()
    for play in plays:
        assert 'vars_prompt' not in play
        assert 'job_templates.yml' in play.get('vars_files', [])
        for task in play['tasks']:
            modules |= set(k for k in task if '.' in k)
    assert modules == set(['ansible.builtin.assert', 'awx.awx.project', 'awx.awx.inventory',
                           'awx.awx.inventory_source', 'awx.awx.job_template'])


def test_the_four_job_templates():
    by_playbook = dict((t['playbook'], t) for t in templates())
    assert sorted(by_playbook) == ['playbooks/evacuate.yml', 'playbooks/guests.yml', 'playbooks/migrate.yml',
                                   'playbooks/site.yml']
    assert len(set(template_names())) == 4
    for item in templates():
        assert set(item) <= set(['name', 'description', 'playbook', 'survey', 'ask_limit_on_launch',
                                 'ask_job_type_on_launch', 'ask_variables_on_launch', 'forks']), item['name']
        assert item['description'] and isinstance(item['survey'], list)


@pytest.mark.parametrize('name', template_names())
def test_survey_is_a_valid_awx_survey_spec(name):
    variables = []
    for question in template(name)['survey']:
        assert set(question) <= SURVEY_KEYS, (name, set(question) - SURVEY_KEYS)
        assert question['type'] in SURVEY_TYPES and question['question_name'], question
        assert re.match(r'^[a-z_][a-z0-9_]*$', question['variable']), question
        assert isinstance(question['required'], bool)
        # AWX sends a default as an extra var, over the inventory's value: an optional question sends only answers
        assert question['required'] or 'default' not in question, question
        variables.append(question['variable'])
        if question['type'] in ('multiplechoice', 'multiselect'):
            choices = question['choices']
            assert isinstance(choices, str) and choices.strip(), question   # one choice per line, as AWX stores them
            if 'default' in question and '{{' not in choices:
                assert set(str(question['default']).split('\n')) <= set(choices.split('\n')), question
        if question['type'] == 'integer':
            assert isinstance(question.get('min'), int) and isinstance(question.get('max'), int)
            if 'default' in question:
                assert question['min'] <= question['default'] <= question['max'], question
    assert len(variables) == len(set(variables)), name


@pytest.mark.parametrize('name', template_names())
def test_playbook_exists_takes_extra_vars_only_and_reads_every_survey_variable(name):
    item = template(name)
    path = os.path.join(ROOT, item['playbook'])
    if not os.path.exists(path):
        assert item['playbook'] in PENDING, '%s: %s does not exist' % (name, item['playbook'])
        pytest.skip('%s is not in this checkout yet' % item['playbook'])
    found = reads(item['playbook'])
    assert not found.prompts, 'vars_prompt in %s: AWX gives extra vars only' % found.prompts
    for play in load(path):
        if 'hosts' in play:
            assert play.get('gather_facts', True) in (True, False)   # a play, not a stray document
    unread = [q['variable'] for q in item['survey'] if q['variable'] not in found.names]
    assert not unread, '%s asks %s, which %s never reads' % (name, unread, item['playbook'])


def test_the_reads_parser_sees_what_migrate_and_evacuate_read():
    # guards the parser above: these are read in hosts:, vars, asserts, task arguments and throttle:
    assert set(['migrate_guest', 'migrate_source', 'migrate_target', 'migrate_options']) <= reads(
        'playbooks/migrate.yml').names
    evacuate = reads('playbooks/evacuate.yml').names
    assert set(['evacuate_host', 'evacuate_targets', 'evacuate_parallel', 'evacuate_reserved_memory',
                'evacuate_fail_on_leftover']) <= evacuate
    assert 'not_a_variable_of_theirs' not in evacuate


def test_the_guest_inventory_source_is_a_valid_libvirt_plugin_file():
    path = os.path.join(AWX, 'inventory', 'guests.libvirt.yml')
    source = load(path)
    assert source['plugin'] == 'kvmops.kvm.libvirt'
    doc = subprocess.run([os.path.join(BIN, 'ansible-doc'), '-j', '-t', 'inventory', 'kvmops.kvm.libvirt'],
                         capture_output=True, text=True, check=True, env=_env(), stdin=subprocess.DEVNULL, timeout=120)
    options = json.loads(doc.stdout)['kvmops.kvm.libvirt']['doc']['options']
    assert set(source) <= set(options), set(source) - set(options)
    for key in ('address_sources', 'ansible_host'):
        choices = options[key].get('choices')
        values = source[key] if isinstance(source[key], list) else [source[key]]
        assert not choices or set(values) <= set(choices), (key, values, choices)
    assert all(uri['uri'].startswith('qemu+') for uri in source['uris'])


def test_the_hypervisor_source_gives_the_kvm_hosts_group():
    proc = subprocess.run([os.path.join(BIN, 'ansible-inventory'), '-i', os.path.join(AWX, 'inventory',
                           'hypervisors.yml'), '--list'], capture_output=True, text=True, check=True, env=_env(),
                          stdin=subprocess.DEVNULL, timeout=120)
    listed = json.loads(proc.stdout)
    assert sorted(listed['kvm_hosts']['hosts']) == ['kvm1', 'kvm2']


def test_load_yml_parameters_are_the_awx_collection_s(tmp_path):
    docs = {}
    for module in ('project', 'inventory', 'inventory_source', 'job_template'):
        proc = subprocess.run([os.path.join(BIN, 'ansible-doc'), '-j', 'awx.awx.' + module], capture_output=True,
                              text=True, check=False, env=_env(), stdin=subprocess.DEVNULL, timeout=120)
        if proc.returncode != 0 or 'awx.awx.' + module not in json.loads(proc.stdout or '{}'):
            pytest.skip('awx.awx is not installed here (ansible-galaxy collection install awx.awx)')
        docs['awx.awx.' + module] = set(json.loads(proc.stdout)['awx.awx.' + module]['doc']['options'])
    for task in load(AWX, 'load.yml')[0]['tasks']:
        for module, args in task.items():
            if module in docs:
                assert set(args) <= docs[module], (module, set(args) - docs[module])


def _env():
    return dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
                ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'))
