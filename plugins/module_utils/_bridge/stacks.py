# -*- coding: utf-8 -*-
# Copyright: kvmops.kvm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which network stack runs on the managed host, and running its tools (private to kvmops.kvm)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kvmops.kvm.plugins.module_utils._bridge import nmdbus
from ansible_collections.kvmops.kvm.plugins.module_utils._engine.errors import KvmError


def run(module, args):
    """(found, rc, stdout, stderr) of a tool; found is False when the tool is not installed."""
    path = module.ansible.get_bin_path(args[0])
    if not path:
        return False, None, '', ''
    rc, out, err = module.run_command([path] + list(args[1:]))
    return True, rc, out.strip(), err.strip()


def run_or_fail(module, args, kind, name):
    found, rc, out, err = run(module, args)
    if not found or rc != 0:
        raise KvmError(' '.join(args[:2]), kind, name, err or out or '%s is not installed' % args[0])
    return out


def nm_running(module):
    """Whether NetworkManager runs: asked of the system bus; of systemd where jeepney is missing."""
    answer = nmdbus.running()
    if answer is not None:
        return answer
    found, rc, out, _err = run(module, ['systemctl', 'is-active', 'NetworkManager'])
    return found and rc == 0 and out == 'active'


def networkd_running(module):
    found, rc, out, _err = run(module, ['systemctl', 'is-active', 'systemd-networkd'])
    return found and rc == 0 and out == 'active'
