"""What the AWX tests share: the job templates of awx/, a launch's extra vars as AWX makes them from a survey
(answers validated, defaults filled in, unanswered optional questions left out), and the variables a playbook
reads (its templates and conditionals, the files it includes and the roles it runs)."""

import os

import jinja2
import jinja2.meta
import yaml

from harness import ROOT

AWX = os.path.join(ROOT, 'awx')
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


def by_playbook(playbook):
    return [t for t in templates() if t['playbook'] == playbook][0]


class SurveyError(ValueError):
    pass


def choices_of(question, hypervisors):
    """A question's choices as awx/load.yml sends them (its `{{ kvmops_awx_hypervisors }}` rendered), one a line."""
    choices = question['choices']
    if '{{' in choices:
        choices = jinja2.Environment().from_string(choices).render(kvmops_awx_hypervisors=hypervisors)
    return choices.split('\n')


def check_answer(question, value, hypervisors):
    """AWX's validation of one survey answer (awx/main/models/mixins.py, _survey_element_validation)."""
    kind, var = question['type'], question['variable']
    if kind in ('text', 'textarea', 'password'):
        if not isinstance(value, str):
            raise SurveyError('%s: %r is not a string' % (var, value))
        if question.get('required') and value == '':
            raise SurveyError('%s: a required answer is empty' % var)
        if not question.get('min', 0) <= len(value) <= question.get('max', len(value)):
            raise SurveyError('%s: %d characters, not within %s..%s'
                              % (var, len(value), question.get('min', 0), question.get('max')))
    elif kind == 'integer':
        if isinstance(value, bool) or not isinstance(value, int):
            raise SurveyError('%s: %r is not an integer' % (var, value))
        if not question.get('min', value) <= value <= question.get('max', value):
            raise SurveyError('%s: %s is not within %s..%s' % (var, value, question.get('min'), question.get('max')))
    elif kind == 'float':
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SurveyError('%s: %r is not a number' % (var, value))
    elif kind == 'multiplechoice':
        if value not in choices_of(question, hypervisors):
            raise SurveyError('%s: %r is not one of %s' % (var, value, choices_of(question, hypervisors)))
    elif kind == 'multiselect':
        if not isinstance(value, list) or not set(value) <= set(choices_of(question, hypervisors)):
            raise SurveyError('%s: %r is not a list of %s' % (var, value, choices_of(question, hypervisors)))
    else:
        raise SurveyError('%s: unknown survey type %s' % (var, kind))


def launch_extra_vars(name, answers, hypervisors):
    """The extra vars AWX gives the playbook when job template `name` is launched with these survey answers: every
    answer checked as AWX checks it, the default of every unanswered question that has one, nothing for an
    unanswered optional question without one; a required question left unanswered, or an answer to no question, is
    refused as AWX refuses the launch. Multiple choice answers are strings ("true", not true), as AWX sends them."""
    survey = template(name)['survey']
    unknown = set(answers) - set(q['variable'] for q in survey)
    if unknown:
        raise SurveyError('%s: %s answer no question of the survey' % (name, sorted(unknown)))
    extra_vars = {}
    for question in survey:
        var = question['variable']
        if var in answers:
            value = answers[var]
        elif 'default' in question:
            value = question['default']
            if question['type'] == 'multiselect' and isinstance(value, str):
                value = value.split('\n')
        elif question['required']:
            raise SurveyError('%s: %s is required and has no default' % (name, var))
        else:
            continue
        check_answer(question, value, hypervisors)
        extra_vars[var] = value
    return extra_vars


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
