"""Run collection modules through Ansible itself and check the idempotence contract."""

import json
import os
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_PYTHON = os.path.join(ROOT, '.venv', 'bin', 'python')
PYTHON = VENV_PYTHON if os.path.exists(VENV_PYTHON) else 'python3'


class AnsibleFailed(AssertionError):
    pass


def ansible_env(record_file):
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
        # KVMOPS_EXTRA_COLLECTIONS: another collections directory (bench/peer_bench.py puts the peer there)
        ANSIBLE_COLLECTIONS_PATH=os.pathsep.join(
            p for p in (os.path.join(ROOT, '.collections'), os.environ.get('KVMOPS_EXTRA_COLLECTIONS')) if p),
        ANSIBLE_CALLBACK_PLUGINS=os.path.join(ROOT, 'tests', 'integration', 'plugins', 'callback'),
        ANSIBLE_CALLBACKS_ENABLED='kvmops_record',
        ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
        ANSIBLE_STDOUT_CALLBACK='ansible.builtin.minimal',
        ANSIBLE_DEPRECATION_WARNINGS='0',
        KVMOPS_RECORD=record_file,
        KVMOPS_PYTHON=PYTHON,
    )
    return env


def run_module(module, args, check=False, diff=True, inventory=None, host='localhost', extra=()):
    """Run one module task through `ansible` (ad hoc); return its full result, diff included."""
    with tempfile.NamedTemporaryFile(suffix='.jsonl') as record:
        command = [os.path.join(os.path.dirname(PYTHON), 'ansible') if PYTHON != 'python3' else 'ansible',
                   host, '-m', module if '.' in module else 'kvmops.kvm.' + module, '-a', json.dumps(args)]
        if inventory:
            command += ['-i', inventory]
        else:
            command += ['-e', 'ansible_python_interpreter=%s' % PYTHON]
        if check:
            command.append('--check')
        if diff:
            command.append('--diff')
        command += list(extra)
        # a stdin of its own: Ansible refuses a non-blocking stdin, and an ssh a test killed can leave a shared one so
        proc = subprocess.run(command, env=ansible_env(record.name), capture_output=True, text=True, timeout=900,
                              check=False, stdin=subprocess.DEVNULL)
        with open(record.name) as stream:
            lines = [json.loads(line) for line in stream if line.strip()]
    if not lines:
        raise AnsibleFailed('ansible produced no result (rc=%s)\nstdout:\n%s\nstderr:\n%s'
                            % (proc.returncode, proc.stdout, proc.stderr))
    result = lines[-1]
    result['_stderr'] = proc.stderr
    return result


def start_module(module, args):
    """One module task through `ansible` (ad hoc) in the background: (process, record file) for finish_module."""
    record = tempfile.NamedTemporaryFile(prefix='kvmops-rec-', suffix='.jsonl', delete=False)
    record.close()
    command = [os.path.join(os.path.dirname(PYTHON), 'ansible'), 'localhost', '-m', 'kvmops.kvm.' + module,
               '-a', json.dumps(args), '-e', 'ansible_python_interpreter=%s' % PYTHON]
    proc = subprocess.Popen(command, env=ansible_env(record.name), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    return proc, record.name


def finish_module(proc, record, timeout=600):
    """The result of a start_module run (its process waited for), or {'_status': 'none', ...} when it gave none."""
    out, err = proc.communicate(timeout=timeout)
    with open(record) as stream:
        lines = [json.loads(line) for line in stream if line.strip()]
    os.unlink(record)
    return lines[-1] if lines else {'_status': 'none', 'msg': 'no result (rc %s): %s %s' % (proc.returncode, out, err)}


def ok(module, args, **kwargs):
    result = run_module(module, args, **kwargs)
    if result['_status'] != 'ok':
        raise AnsibleFailed('%s failed: %s' % (module, result.get('msg') or result))
    return result


def fails(module, args, **kwargs):
    result = run_module(module, args, **kwargs)
    assert result['_status'] == 'failed', 'expected %s to fail, got %s' % (module, result)
    return result


def contract(module, args, expect_change=True, **kwargs):
    """check -> apply -> check -> apply: the first two report the change, the last two report none.

    Returns (check result, first apply result, last apply result)."""
    predicted = ok(module, args, check=True, **kwargs)
    applied = ok(module, args, **kwargs)
    assert predicted['changed'] is expect_change, 'check mode: %r' % predicted
    assert applied['changed'] is expect_change, 'apply: %r' % applied
    assert predicted['actions'] == applied['actions'], 'check mode predicted %r, the run did %r' % (
        predicted['actions'], applied['actions'])
    assert predicted.get('diff') == applied.get('diff')
    again = ok(module, args, check=True, **kwargs)
    assert again['changed'] is False and again['actions'] == [], 'second check mode run: %r' % again
    last = ok(module, args, **kwargs)
    assert last['changed'] is False and last['actions'] == [], 'second run: %r' % last
    return predicted, applied, last


def purge(conn, prefix):
    """Remove every guest, network and storage pool whose name starts with `prefix` (a suite's own)."""
    import libvirt
    for dom in conn.listAllDomains():
        if dom.name().startswith(prefix):
            if dom.isActive():
                dom.destroy()
            if dom.isPersistent():
                dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                                  | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
    for objects in (conn.listAllNetworks(), conn.listAllStoragePools()):
        for obj in objects:
            if obj.name().startswith(prefix):
                if obj.isActive():
                    obj.destroy()
                if obj.isPersistent():
                    obj.undefine()
