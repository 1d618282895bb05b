"""Publishing a run's warehouse as the file analysts open, atomically (pipeline.md, step 8).

The run built ``<home>/warehouse/build/<run id>/cpmds.duckdb`` in a folder of its own. Publishing
checkpoints and closes it, flushes it to disk and renames it over ``<home>/warehouse/cpmds.duckdb``
in one ``rename``: an analyst's open read-only connection keeps reading the file it opened (the
old one) and the next connection opens the new one; nobody ever sees a half-written file, and a
run killed before the rename leaves the published file exactly as it was (same bytes).

One publisher at a time: an exclusive ``flock`` on ``<home>/warehouse/.publish.lock``, which the
operating system releases when its holder dies, so a crashed run never blocks the next.

A run whose warehouse holds the same content as the published one (the same indicator values and
publication, ``run_id`` aside) publishes nothing: the published file stays byte-identical.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cpmds.state.lock import StoreLock
from cpmds.state.store import StateStoreBusyError

PUBLISHED_FILE = "cpmds.duckdb"
LOCK_FILE = ".publish.lock"
# The tables whose content decides whether a build is new: ordered, run id left out.
CONTENT_QUERIES = ("select * exclude (run_id) from marts.indicator_values order by all",)


class PublishBusyError(RuntimeError):
    """Another process is publishing to the same home."""


@dataclass(frozen=True)
class Published:
    path: Path
    changed: bool
    digest: str


def published_path(home: Path) -> Path:
    return home / "warehouse" / PUBLISHED_FILE


def content_digest(path: Path, queries: tuple[str, ...] = CONTENT_QUERIES) -> str:
    """SHA-256 of the warehouse's published content, in a fixed order (``run_id`` aside)."""
    digest = hashlib.sha256()
    with duckdb.connect(str(path), read_only=True) as connection:
        for query in queries:
            cursor = connection.execute(query)
            while batch := cursor.fetchmany(10_000):
                for row in batch:
                    digest.update(repr(row).encode("utf-8"))
                    digest.update(b"\n")
    return digest.hexdigest()


def publish_build(build: Path, home: Path) -> Published:
    """Put ``build`` in place as the published warehouse, unless it holds nothing new."""
    target = published_path(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = StoreLock(target.parent / LOCK_FILE, exclusive=True)
    try:
        lock.acquire()
    except StateStoreBusyError:
        raise PublishBusyError(
            f"another run is publishing to {target.parent}; try again when it has finished"
        ) from None
    try:
        digest = content_digest(build)
        if target.exists() and content_digest(target) == digest:
            return Published(path=target, changed=False, digest=digest)
        with duckdb.connect(str(build)) as connection:
            connection.execute("CHECKPOINT")
        _flush(build)
        build.replace(target)
        _flush(target.parent)
        return Published(path=target, changed=True, digest=digest)
    finally:
        lock.release()


def _flush(path: Path) -> None:
    """fsync a file or a folder, so a rename that follows is durable."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
