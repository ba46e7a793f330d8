"""The AWX job templates as code (awx/): every file is valid YAML, every template's playbook exists and takes extra
vars only (no vars_prompt), every survey is a valid AWX survey spec whose variables the playbook reads, and the
inventory sources are what the kvmops.kvm.libvirt plugin and ansible-inventory accept, and a launch's extra vars
are what AWX makes of the survey. Static: no AWX runs here (test_awx_load_modules.py checks load.yml against the
awx.awx collection's modules, test_awx_runner.py runs the playbooks as AWX does, on the lab)."""

import json
import os
import re
import subprocess

import pytest

from awx_jobs import AWX, SurveyError, choices_of, launch_extra_vars, load, reads, template, template_names, templates
from harness import PYTHON, ROOT

BIN = os.path.dirname(PYTHON)
SURVEY_TYPES = set(['text', 'textarea', 'password', 'integer', 'float', 'multiplechoice', 'multiselect'])
SURVEY_KEYS = set(['question_name', 'question_description', 'variable', 'type', 'required', 'default', 'choices',
                   'min', 'max', 'new_question'])


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


def test_the_five_job_templates():
    by_playbook = dict((t['playbook'], t) for t in templates())
    assert sorted(by_playbook) == ['playbooks/drift.yml', 'playbooks/evacuate.yml', 'playbooks/guests.yml',
                                   'playbooks/migrate.yml', 'playbooks/site.yml']
    assert len(set(template_names())) == 5
    assert by_playbook['playbooks/drift.yml']['job_type'] == 'check'   # a drift check reports; a run job repairs
    for item in templates():
        assert set(item) <= set(['name', 'description', 'playbook', 'survey', 'ask_limit_on_launch',
                                 'ask_job_type_on_launch', 'ask_variables_on_launch', 'forks', 'job_type']), item['name']
        assert item.get('job_type', 'run') in ('run', 'check')
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
    assert os.path.exists(path), '%s: %s does not exist' % (name, item['playbook'])
    found = reads(item['playbook'])
    assert not found.prompts, 'vars_prompt in %s: AWX gives extra vars only' % found.prompts
    for play in load(path):
        if 'hosts' in play:
            assert play.get('gather_facts', True) in (True, False)   # a play, not a stray document
    unread = [q['variable'] for q in item['survey'] if q['variable'] not in found.names]
    assert not unread, '%s asks %s, which %s never reads' % (name, unread, item['playbook'])


def _an_answer(question, hypervisors):
    if question['type'] in ('multiplechoice', 'multiselect'):
        first = choices_of(question, hypervisors)[0]
        return [first] if question['type'] == 'multiselect' else first
    if question['type'] == 'integer':
        return question['min']
    return 'x' * max(1, question.get('min', 0))


@pytest.mark.parametrize('name', template_names())
def test_a_launch_gives_the_survey_s_variables_as_awx_does(name):
    """The survey emulation test_awx_runner.py launches the jobs with: every question answered gives exactly the
    survey's variables; unanswered, only the defaults of required questions; AWX's refusals are refusals."""
    hypervisors = ['kvm1', 'kvm2']
    survey = template(name)['survey']
    answers = dict((q['variable'], _an_answer(q, hypervisors)) for q in survey)
    assert launch_extra_vars(name, answers, hypervisors) == answers
    required = dict((q['variable'], answers[q['variable']]) for q in survey if q['required'] and 'default' not in q)
    defaults = dict((q['variable'], q['default']) for q in survey if 'default' in q)
    assert launch_extra_vars(name, required, hypervisors) == dict(required, **defaults)
    with pytest.raises(SurveyError):
        launch_extra_vars(name, dict(answers, not_a_question=1), hypervisors)
    for question in survey:
        if question['required'] and 'default' not in question:
            with pytest.raises(SurveyError):
                launch_extra_vars(name, dict((k, v) for k, v in answers.items() if k != question['variable']),
                                  hypervisors)
        if question['type'] == 'multiplechoice':
            with pytest.raises(SurveyError):   # a choice of no line, and a boolean where AWX sends "true"
                launch_extra_vars(name, dict(answers, **{question['variable']: True}), hypervisors)
        if question['type'] == 'integer':
            with pytest.raises(SurveyError):
                launch_extra_vars(name, dict(answers, **{question['variable']: question['max'] + 1}), hypervisors)


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


def _env():
    return dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
                ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.collections'))
