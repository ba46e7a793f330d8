"""The migration watch: the timeout policy acts on the control domain, post-copy waits for QEMU's first
iteration, a lost destination aborts the job; and the copy_incremental top image's volume XML."""

import threading

import pytest

libvirt = pytest.importorskip('libvirt')

from ansible_collections.kvmops.kvm.plugins.module_utils._migrate import job as _job  # noqa: E402
from ansible_collections.kvmops.kvm.plugins.module_utils._migrate import storage  # noqa: E402


class FakeDomain(object):
    """A migrating guest: jobStats advance with `iteration`; abortJob ends the blocking migrate call."""

    def __init__(self, iteration_after=0):
        self.calls = []
        self.polls = 0
        self.iteration_after = iteration_after
        self.ended = threading.Event()
        self.outcome = None

    def jobStats(self, _flags):
        self.polls += 1
        iteration = 1 if self.polls > self.iteration_after else 0
        return dict(type=libvirt.VIR_DOMAIN_JOB_UNBOUNDED, memory_iteration=iteration,
                    memory_processed=iteration * 1024, data_processed=iteration * 1024)

    def abortJob(self):
        self.calls.append('abort')
        self.outcome = 'aborted'
        self.ended.set()

    def migrateStartPostCopy(self, _flags):
        self.calls.append('postcopy')
        self.outcome = 'completed'
        self.ended.set()

    def suspend(self):
        self.calls.append('suspend')

    def state(self):
        return [libvirt.VIR_DOMAIN_RUNNING, 0]

    def connect(self):
        raise AttributeError('no connection in the unit test')

    def start(self):
        self.ended.wait(10)
        if self.outcome == 'aborted':
            raise libvirt.libvirtError("operation aborted: job 'migration out' canceled by client")
        return 'destination'


def run(dom, **kwargs):
    warnings = []
    watch = _job.MigrationJob(dom, dom.start, lambda line: None, warnings.append, **kwargs)
    watch._watch_iterations = lambda outcome: None   # no event loop here: the statistics say the same
    return watch.run(), warnings


@pytest.fixture(autouse=True)
def fast(monkeypatch):
    monkeypatch.setattr(_job, 'POLL_SECONDS', 0.01)


def test_abort_at_the_timeout_goes_to_the_control_domain():
    dom = FakeDomain()
    outcome, warnings = run(dom, timeout=0.05)
    assert outcome.timed_out and outcome.timeout_action == 'abort' and not outcome.completed
    assert dom.calls == ['abort'] and 'canceled by client' in outcome.error
    assert warnings and warnings[0].endswith('aborted')


def test_postcopy_waits_for_the_first_iteration():
    dom = FakeDomain(iteration_after=20)   # QEMU still being set up for the first polls
    outcome, _warnings = run(dom, timeout=0.01, timeout_action='postcopy')
    assert outcome.completed and outcome.timeout_action == 'postcopy' and dom.calls == ['postcopy']
    assert dom.polls > 20


def test_a_lost_destination_aborts_the_job():
    dom = FakeDomain()

    class Conn(object):
        def setKeepAlive(self, interval, count):
            assert (interval, count) == (5, 3)

        def registerCloseCallback(self, callback, opaque):
            threading.Timer(0.05, callback, (self, 0, opaque)).start()

        def unregisterCloseCallback(self):
            pass
    outcome, warnings = run(dom, watched=[('destination', Conn())])
    assert outcome.lost == 'destination' and not outcome.timed_out and dom.calls == ['abort']
    assert 'the connection to the destination was lost' in warnings[0]


def test_top_image_volume_keeps_the_backing_chain():
    xml = storage.top_image_volume('web1.qcow2', 1024, 'qcow2', '/images/base.qcow2', 'qcow2')
    assert xml == ('<volume><name>web1.qcow2</name><capacity unit="bytes">1024</capacity><target><format '
                   'type="qcow2"/></target><backingStore><path>/images/base.qcow2</path><format type="qcow2"/>'
                   '</backingStore></volume>')
