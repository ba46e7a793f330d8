# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: write each task result, diff included, as JSON lines to a file."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: kvmops_record
type: aggregate
short_description: Record raw task results (tests only)
description: Appends each task result, including the diff, as one JSON line to E(KVMOPS_RECORD).
requirements:
  - enabled in the test harness
'''

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'kvmops_record'
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, result, status):
        data = dict(result._result)
        data['_status'] = status
        data['_task'] = result._task.get_name()
        data['_host'] = result._host.get_name()
        data['_time'] = time.time()   # when the result arrived (bench/ times a playbook's phases)
        data['_action'] = result._task.action
        with open(os.environ['KVMOPS_RECORD'], 'a') as stream:
            stream.write(json.dumps(data, default=str) + '\n')

    def v2_runner_on_ok(self, result):
        self._record(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed')

    def v2_runner_on_unreachable(self, result):
        self._record(result, 'unreachable')

    def v2_runner_on_skipped(self, result):
        self._record(result, 'skipped')
