"""One writer at a time, or any number of readers, across processes and within one.

DuckDB locks its file against a second writing process, but connections in one process share the
database and would not notice each other; an ``flock`` on a file beside the store does both, and
is released by the kernel when a process dies, however it dies.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class StateStoreBusyError(RuntimeError):
    """Another cpmds process (or another handle in this one) has the state store open."""


class StoreLock:
    def __init__(self, path: Path, exclusive: bool) -> None:
        self.path = path
        self.exclusive = exclusive
        self._descriptor: int | None = None

    def acquire(self) -> None:
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        mode = fcntl.LOCK_EX if self.exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(descriptor, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            held = "another process or handle is writing to it (a run in progress?)"
            if self.exclusive:
                held = "another process or handle has it open (a run, or `cpmds status`?)"
            raise StateStoreBusyError(
                f"the state store {self.path.parent} is busy: {held}. "
                "Only one writer at a time; try again when it has finished."
            ) from None
        self._descriptor = descriptor

    def release(self) -> None:
        if self._descriptor is not None:
            fcntl.flock(self._descriptor, fcntl.LOCK_UN)
            os.close(self._descriptor)
            self._descriptor = None
