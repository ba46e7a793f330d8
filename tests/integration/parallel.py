"""`make test-integration`: the integration suite as two pytest processes side by side (the machine has 2 cores).

  lab      the tests that use the local lab: its own tests, kvm_host inside a Debian guest, netfs and logical
           pools inside Debian guests, the demo. One lab and its Debian guests serve all of them.
  machine  everything else, on this machine's own libvirtd: kvm_domain (tiny guests, two Debian guests),
           kvm_network, dir pools and volumes, kvm_host facts of this machine. A new test file lands here.

Each stream has a lab instance and a test slot of its own (KVMLAB_INSTANCE, KVMOPS_TEST_SLOT: names, bridges and
subnets), so neither removes what the other made; every suite purges only its own prefix (kvmtestd<slot>-,
kvmtestn-, kvmtest-, kvl<instance>-). Run alone, a stream is an ordinary pytest run with its own clean-up.

Output stays readable: each stream writes to tests/output/integration-<stream>.log, printed whole when the
stream ends; then each stream's time and the slowest tests of both (from their JUnit XML). Ctrl-C (or SIGTERM)
is passed on to both pytests as an interrupt, so their fixtures still clean up.

  python tests/integration/parallel.py                 # both streams
  python tests/integration/parallel.py --serial        # one after the other (for timing comparisons)
  python tests/integration/parallel.py --only lab      # one stream
  python tests/integration/parallel.py -- -x -k nat    # extra pytest arguments for both
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from xml.etree import ElementTree

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'lab'))
from kvmlab import config  # noqa: E402  pylint: disable=wrong-import-position
OUTPUT = os.path.join(ROOT, 'tests', 'output')
PYTHON = os.path.join(ROOT, '.venv', 'bin', 'python')

# the lab stream, in this order: kvm_host's guest test boots the lab and its first Debian guest; the lab's tests
# reuse them; storage adds the NFS server guest; the inventory reads the hosts and the guest's agent; kvm_bridge
# makes a bridge in a host; migrations between the hosts (unmarked, so they run first), then the AWX job playbooks
# under ansible-runner (a migration there and back, host setup and a guest deployment); the demo runs on the hosts;
# the roles' molecule scenarios (all four, through Mitogen: 12-16 min, docs/molecule.md) install packages (from the
# lab's package mirror) into the Debian guest and the NFS guest and take their bonds, bridges, pools and exports
# away again; kvm_bridge's bond test rewires the Debian guest's network, so it comes after every other guest user;
# the lab's `down` test runs last
LAB_PATHS = ['host/test_kvm_host_guest.py', 'lab', 'storage/test_netfs_lab.py', 'storage/test_logical_lab.py',
             'inventory/test_inventory_libvirt_lab.py', 'bridge/test_kvm_bridge_libvirt_lab.py', 'migrate',
             'ecosystem/test_awx_runner.py', 'test_demo.py', 'roles/test_molecule.py',
             'bridge/test_kvm_bridge_guest.py', 'bridge/test_kvm_bridge_guest_nm.py', 'fleet']
SLOWEST = 25
HEARTBEAT = 300


def streams(base_instance, base_slot):
    """name -> (pytest arguments, environment overrides)."""
    other_instance, other_slot = (base_instance + 1) % 10, (base_slot + 1) % 10
    lab = [os.path.join(HERE, path) for path in LAB_PATHS]
    machine = [HERE] + ['--ignore=%s' % path for path in lab]
    return {
        'lab': (lab, dict(KVMLAB_INSTANCE=str(base_instance), KVMOPS_TEST_SLOT=str(other_slot))),
        'machine': (machine, dict(KVMLAB_INSTANCE=str(other_instance), KVMOPS_TEST_SLOT=str(base_slot))),
    }


class Stream(object):
    def __init__(self, name, paths, env, extra):
        self.name = name
        self.log = os.path.join(OUTPUT, 'integration-%s.log' % name)
        self.junit = os.path.join(OUTPUT, 'integration-%s.xml' % name)
        self.command = [PYTHON, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '--durations=%d' % SLOWEST,
                        '--junitxml=%s' % self.junit, '-o', 'junit_family=xunit2'] + paths + list(extra)
        self.env = dict(os.environ, **env)
        self.overrides = env
        self.proc = None
        self.began = self.took = None

    def start(self):
        for path in (self.log, self.junit):
            if os.path.exists(path):
                os.unlink(path)
        print('integration: stream %s started (%s): %s' % (
            self.name, ' '.join('%s=%s' % item for item in sorted(self.overrides.items())),
            ' '.join(a.replace(ROOT + '/', '') for a in self.command[2:])), flush=True)
        self.began = time.monotonic()
        with open(self.log, 'w') as log:
            # a session of its own: a Ctrl-C in the terminal reaches the pytests once, through interrupt()
            self.proc = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)

    def poll(self):
        if self.took is None and self.proc.poll() is not None:
            self.took = time.monotonic() - self.began
        return self.took is not None

    def interrupt(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)

    def report(self):
        print('\n' + '=' * 30 + ' integration stream %s: log %s ' % (self.name, os.path.relpath(self.log, ROOT))
              + '=' * 30, flush=True)
        with open(self.log, errors='replace') as log:
            sys.stdout.write(log.read())
        print('integration: stream %s %s in %.0f s' % (
            self.name, 'passed' if self.proc.returncode == 0 else 'FAILED (exit %d)' % self.proc.returncode,
            self.took), flush=True)

    def durations(self):
        """(seconds, stream, test id) of every test case in the stream's JUnit XML (setup + call + teardown)."""
        if not os.path.exists(self.junit):
            return []
        cases = []
        for case in ElementTree.parse(self.junit).iter('testcase'):
            test = '%s::%s' % (case.get('classname', '').replace('.', '/') + '.py', case.get('name'))
            cases.append((float(case.get('time') or 0), self.name, test))
        return cases


def run(selected, serial):
    os.makedirs(OUTPUT, exist_ok=True)
    # start libvirtd once here (the suites' fixture does it too, but two at once could race), then the streams
    subprocess.run([os.path.join(ROOT, 'scripts', 'daemons.sh')], check=True)
    # the first `ip netns add` on a machine makes /run/netns a shared mount point; two streams doing it at once
    # could stack two mounts and hide one stream's namespaces under the other's: make it here, once
    subprocess.run(['ip', 'netns', 'add', 'kvmops-netns-init'], check=False, capture_output=True)
    subprocess.run(['ip', 'netns', 'del', 'kvmops-netns-init'], check=False, capture_output=True)
    began = time.monotonic()
    interrupted = []

    def on_signal(signum, _frame):
        interrupted.append(signum)
        print('integration: %s, interrupting the streams (they clean up first)' % signal.Signals(signum).name,
              flush=True)
        for stream in selected:
            stream.interrupt()
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    # the guest images both streams boot, built (or found cached) in the background while the quick tests run;
    # a stream that needs one first waits on the cache's lock (kvmlab.state.cache_locked)
    prepare_log = os.path.join(OUTPUT, 'integration-prepare.log')
    with open(prepare_log, 'w') as log:
        prepare = subprocess.Popen([PYTHON, os.path.join(ROOT, 'tests', 'lab', 'kvmlab'), 'build', '--debian'],
                                   cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    pending = list(selected)
    running = []
    last_beat = time.monotonic()
    while pending or running:
        if pending and not interrupted and (not serial or not running):
            stream = pending.pop(0)
            stream.start()
            running.append(stream)
            continue
        if interrupted:
            pending = []
        time.sleep(1)
        for stream in list(running):
            if stream.poll():
                running.remove(stream)
                stream.report()
        if running and time.monotonic() - last_beat >= HEARTBEAT:
            last_beat = time.monotonic()
            print('integration: %.0f s, still running: %s' % (
                time.monotonic() - began, ', '.join(s.name for s in running)), flush=True)

    if prepare.poll() is None:
        prepare.send_signal(signal.SIGINT)
    if prepare.wait() != 0:
        print('integration: building the guest images failed (exit %d), see %s:' % (
            prepare.returncode, os.path.relpath(prepare_log, ROOT)))
        with open(prepare_log, errors='replace') as log:
            sys.stdout.write(log.read())
    total = time.monotonic() - began
    print('\n' + '=' * 30 + ' integration: %d slowest tests of all streams (setup + call + teardown) ' % SLOWEST
          + '=' * 30)
    cases = sorted((case for stream in selected for case in stream.durations()), reverse=True)
    for seconds, name, test in cases[:SLOWEST]:
        print('%8.1fs  %-8s %s' % (seconds, name, test))
    started = [s for s in selected if s.proc]
    for stream in started:
        verdict = 'passed' if stream.proc.returncode == 0 else 'FAILED'
        print('integration: stream %-8s %5.0f s  %s' % (stream.name, stream.took or 0, verdict))
    print('integration: %s in %.0f s wall time' % ('serial' if serial else 'parallel', total), flush=True)
    failed = [s for s in started if s.proc.returncode != 0] or interrupted or len(started) < len(selected)
    return 1 if failed else 0


def free_instance():
    """The first lab instance N whose bridge and its neighbour's (N+1) are not up: another checkout's lab on this
    machine (a developer's session, an earlier run still tearing down) is left alone rather than collided with."""
    for instance in range(0, 9):
        names = [config.bridge_name(n) for n in (instance, instance + 1)]
        if not any(os.path.exists('/sys/class/net/%s' % name) for name in names):
            return instance
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--serial', action='store_true', help='run the streams one after the other')
    parser.add_argument('--only', choices=['lab', 'machine'], action='append', help='run only this stream')
    parser.add_argument('pytest_args', nargs='*', help='after --: extra pytest arguments for every stream')
    args = parser.parse_args(argv)
    base_instance = int(os.environ.get('KVMLAB_INSTANCE') or free_instance())
    base_slot = int(os.environ.get('KVMOPS_TEST_SLOT', '0'))
    selected = [Stream(name, paths, env, args.pytest_args)
                for name, (paths, env) in streams(base_instance, base_slot).items()
                if not args.only or name in args.only]
    return run(selected, args.serial)


if __name__ == '__main__':
    sys.exit(main())
