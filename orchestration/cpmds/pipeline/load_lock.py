"""One load at a time per home, from its first step to its last (pipeline.md, Operations).

The state store's own lock is held stage by stage, so two loads started together could take
turns between stages (one lands, the other ingests what it landed). Runs the Dagster daemon
launches queue behind one another (``dagster.yaml``); this lock also covers ``cpmds run`` and
``cpmds backfill``, which execute in their own process. A second load waits for the first to finish,
saying so and naming the holder; it never fails or interleaves. It is an ``flock`` on
``<home>/state/load.lock``, which the kernel releases when the holder dies, however it dies.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

LOAD_LOCK_FILE = "load.lock"


def load_lock_path(home: Path) -> Path:
    return home / "state" / LOAD_LOCK_FILE


@contextmanager
def holding_load_lock(
    home: Path, run_id: str, on_wait: Callable[[str], None] = lambda message: None
) -> Iterator[None]:
    """Hold the home's load lock for the block, waiting for it if another load holds it.

    ``on_wait`` is told once, before waiting, who holds the lock."""
    path = load_lock_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait(
                f"another load is running on {home} ({_holder(path)}): this one waits for it "
                "to finish, then loads whatever is still new"
            )
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        _write_holder(descriptor, run_id)
        try:
            yield
        finally:
            os.ftruncate(descriptor, 0)
    finally:
        os.close(descriptor)  # closing the descriptor releases the lock


def _write_holder(descriptor: int, run_id: str) -> None:
    holder = {
        "run_id": run_id,
        "pid": os.getpid(),
        "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, json.dumps(holder).encode("utf-8"), 0)


def _holder(path: Path) -> str:
    try:
        holder = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        holder = {}
    if not holder:
        return "holder unknown"
    return f"run {holder.get('run_id')}, process {holder.get('pid')}, since {holder.get('since')}"
