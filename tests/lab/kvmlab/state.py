"""The lab's on-disk record of everything it made, written *before* each thing is made so that
`down` can undo a half-finished or crashed `up`."""
import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from . import config
from .shell import log


class State:
    def __init__(self, run_dir: Path = config.RUN_DIR):
        self.run_dir = run_dir
        self.path = run_dir / "state.json"
        self.data: dict[str, Any] = {"resources": [], "components": {}}
        if self.path.exists():
            self.data = json.loads(self.path.read_text())

    @property
    def resources(self) -> list[dict]:
        return self.data["resources"]

    def add(self, kind: str, **fields: Any) -> dict:
        resource = {"kind": kind, **fields}
        if resource not in self.resources:
            self.resources.append(resource)
            self.save()
        return resource

    def discard(self, resource: dict) -> None:
        if resource in self.resources:
            self.resources.remove(resource)
            self.save()

    def component(self, key: str) -> Any:
        return self.data["components"].get(key)

    def set_component(self, key: str, value: Any) -> None:
        self.data["components"][key] = value
        self.save()

    def drop_component(self, key: str) -> None:
        if self.data["components"].pop(key, None) is not None:
            self.save()

    def save(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w") as handle:
            json.dump(self.data, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)


@contextmanager
def locked() -> Iterator[None]:
    """One lab operation at a time on this machine (the lock file lives outside RUN_DIR, which `down` removes)."""
    config.CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(config.LOCK_FILE, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("waiting for another up/down of this lab to finish (%s)", config.LOCK_FILE)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def cache_locked(what: str) -> Iterator[None]:
    """One builder of a shared cached artifact (the Debian image, the keys) at a time: labs of different
    instances (parallel test streams, a demo beside a test run) share the cache but not the lab lock."""
    config.CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(config.CACHE_DIR / f"{what}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("waiting for another session to finish building the cached %s", what)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
