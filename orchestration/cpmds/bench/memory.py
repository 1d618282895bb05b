"""Peak memory of this process and everything it started (dbt runs as a child), sampled.

A thread reads the resident set size of the process tree from ``/proc`` every few tens of
milliseconds; a stage's peak is the largest sample taken while it ran. Linux only, as the
machines this runs on are.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
PROC = Path("/proc")


def tree_rss_bytes(root: int) -> int:
    """Resident bytes of ``root`` and its descendants."""
    children: dict[int, list[int]] = {}
    resident: dict[int, int] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            pages = int((entry / "statm").read_text().split()[1])
        except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError, ValueError):
            continue  # the process ended while we looked
        # the command name in parentheses may contain spaces: split after its closing one
        fields = stat[stat.rindex(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        resident[int(entry.name)] = pages * PAGE_BYTES
    total, frontier = 0, [root]
    while frontier:
        pid = frontier.pop()
        total += resident.get(pid, 0)
        frontier.extend(children.get(pid, ()))
    return total


class MemorySampler:
    """Samples (time.monotonic(), bytes) of this process tree until stopped."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        root = os.getpid()
        while not self._stop.is_set():
            self.samples.append((time.monotonic(), tree_rss_bytes(root)))
            self._stop.wait(self.interval)

    def peak(self, started: float | None = None, finished: float | None = None) -> int:
        """The largest sample between ``started`` and ``finished`` (all of them by default)."""
        within = [
            size
            for moment, size in self.samples
            if (started is None or moment >= started) and (finished is None or moment <= finished)
        ]
        return max(within, default=0)
