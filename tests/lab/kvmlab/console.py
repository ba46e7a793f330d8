"""Running commands in a guest over its serial console (libvirt stream + openConsole), for guests
without ssh such as the tiny busybox guest."""
import re
import threading
import time
import uuid

import libvirt

from .shell import LabError

_loop_lock = threading.Lock()
_loop_started = False


def ensure_event_loop() -> None:
    """libvirt's default event loop, run in a daemon thread. Must run before the connection that
    carries a console stream is opened."""
    global _loop_started
    with _loop_lock:
        if _loop_started:
            return
        libvirt.virEventRegisterDefaultImpl()

        def loop() -> None:
            while True:
                libvirt.virEventRunDefaultImpl()

        threading.Thread(target=loop, name="libvirt-event-loop", daemon=True).start()
        _loop_started = True


class SerialConsole:
    """with SerialConsole(uri, name) as console: rc, output = console.run('ip -o addr')"""

    def __init__(self, uri: str, domain_name: str):
        ensure_event_loop()
        self._conn = libvirt.open(uri)
        self._domain = self._conn.lookupByName(domain_name)
        self._stream = self._conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
        self._domain.openConsole(None, self._stream, libvirt.VIR_DOMAIN_CONSOLE_FORCE)
        self._buffer = bytearray()
        self._changed = threading.Condition()
        self._closed = False
        self._stream.eventAddCallback(
            libvirt.VIR_STREAM_EVENT_READABLE | libvirt.VIR_STREAM_EVENT_ERROR | libvirt.VIR_STREAM_EVENT_HANGUP,
            self._on_event, None)

    def __enter__(self) -> "SerialConsole":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _on_event(self, stream: libvirt.virStream, events: int, _opaque) -> None:
        with self._changed:
            if events & libvirt.VIR_STREAM_EVENT_READABLE:
                try:
                    data = stream.recv(65536)
                except libvirt.libvirtError:
                    data = b""
                if data == -2:  # EAGAIN
                    return
                if data:
                    self._buffer += data
                else:
                    self._closed = True
            if events & (libvirt.VIR_STREAM_EVENT_ERROR | libvirt.VIR_STREAM_EVENT_HANGUP):
                self._closed = True
            self._changed.notify_all()

    def send(self, text: str) -> None:
        data = text.encode()
        while data:
            sent = self._stream.send(data)
            if sent == -2:
                time.sleep(0.01)
                continue
            data = data[sent:]

    def expect(self, pattern: str, timeout: float = 30, start: int = 0) -> re.Match:
        """Wait until the console output (from offset `start`) matches pattern."""
        regex = re.compile(pattern.encode(), re.S)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                match = regex.search(self._buffer, start)
                if match:
                    return match
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    tail = bytes(self._buffer[-500:]).decode(errors="replace")
                    raise LabError(f"console: no {pattern!r} within {timeout}s; last output: {tail!r}")
                self._changed.wait(min(remaining, 0.5))

    def run(self, command: str, timeout: float = 30) -> tuple[int, str]:
        """Run a shell command in the guest; returns (exit code, output). The markers are split in
        the command so the echoed command line never matches them."""
        token = uuid.uuid4().hex[:8]
        with self._changed:
            start = len(self._buffer)
        self.send(f'echo KVL-BEGIN""-{token}; {command}; echo KVL-END""-{token}-$?\n')
        match = self.expect(rf"KVL-BEGIN-{token}\r?\n(.*?)KVL-END-{token}-(\d+)", timeout, start)
        output = match.group(1).decode(errors="replace").replace("\r\n", "\n")
        return int(match.group(2)), output

    def close(self) -> None:
        try:
            self._stream.eventRemoveCallback()
            self._stream.abort()
        except libvirt.libvirtError:
            pass
        self._conn.close()
