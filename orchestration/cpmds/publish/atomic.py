"""Publishing a run's warehouse as the file analysts open, atomically (pipeline.md, step 8).

The run built ``<home>/warehouse/build/<run id>/cpmds.duckdb`` in a folder of its own. Publishing
checkpoints and closes it, moves it into a folder of its own under ``<home>/warehouse/versions/``
(keeping the file's name, which DuckDB names the catalog after), and then swaps the symlink
``<home>/warehouse/cpmds.duckdb`` to point at it in one ``rename``.

Why a symlink rather than renaming the file itself over the old one: DuckDB opens a database path
several times while connecting (once for the header, again for the blocks), so a connection that
straddles a rename of the file reads one file's header and the other's blocks and fails. DuckDB's
Python client resolves a symlink once, before it opens anything, and every version file is
immutable once published, so a new connection always reads one whole version. An open connection
keeps reading the version it opened; a run killed before the swap leaves the published warehouse
exactly as it was (same bytes); the version published before is kept for `restore_previous`.

One publisher at a time: an exclusive ``flock`` on ``<home>/warehouse/.publish.lock``, which the
operating system releases when its holder dies, so a crashed run never blocks the next.

A run whose warehouse holds the same content as the published one (the same indicator values and
publication, ``run_id`` aside) publishes nothing: the published file stays byte-identical.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import duckdb

from cpmds.state.digest import update_with_rows
from cpmds.state.lock import StoreLock
from cpmds.state.store import StateStoreBusyError

PUBLISHED_FILE = "cpmds.duckdb"
VERSIONS = "versions"
WITHDRAWN = "withdrawn"
LOCK_FILE = ".publish.lock"
STAMP = "%Y%m%dT%H%M%S%fZ"
SUPERSEDED_GRACE_SECONDS = 60
# The tables whose content decides whether a build is new, each with the column left out (the
# run id)...
CONTENT_TABLES: tuple[tuple[str, str | None], ...] = (("marts.indicator_values", "run_id"),)
# ... and those a warehouse may lack (published before they existed): it then differs from a build
# that has them.
OPTIONAL_CONTENT_TABLES: tuple[tuple[str, str | None], ...] = (
    ("quality.consistency", None),
    ("quality.pseudonym_key", None),
    # the files loaded: a correction that moves no figure still changes the record-level tables
    # analysts read, so it is published (a re-run over the same files leaves the log as it was)
    ("quality.load_log", None),
)


def _content_query(table: str, left_out: str | None) -> str:
    columns = f"* exclude ({left_out})" if left_out else "*"
    return f"select {columns} from {table} order by all"


# What content_digest hashes, in order.
CONTENT_QUERIES = tuple(_content_query(*table) for table in CONTENT_TABLES)
OPTIONAL_CONTENT_QUERIES = tuple(_content_query(*table) for table in OPTIONAL_CONTENT_TABLES)


class PublishBusyError(RuntimeError):
    """Another process is publishing to the same home."""


class NothingToRestoreError(RuntimeError):
    """There is no earlier published version to go back to."""


@dataclass(frozen=True)
class Published:
    path: Path
    changed: bool
    digest: str | None  # the content digest, where it had to be worked out


def published_path(home: Path) -> Path:
    return home / "warehouse" / PUBLISHED_FILE


def versions_folder(home: Path) -> Path:
    return home / "warehouse" / VERSIONS


def content_digest(
    path: Path,
    queries: tuple[str, ...] = CONTENT_QUERIES,
    optional: tuple[str, ...] = OPTIONAL_CONTENT_QUERIES,
) -> str:
    """SHA-256 of the warehouse's published content, in a fixed order (``run_id`` aside)."""
    digest = hashlib.sha256()
    with duckdb.connect(str(path), read_only=True) as connection:
        for query in (*queries, *optional):
            try:
                update_with_rows(digest, connection, query)
            except duckdb.CatalogException as missing:
                if query not in optional:
                    raise
                digest.update(f"missing: {missing}".encode())
    return digest.hexdigest()


@contextmanager
def publish_lock(folder: Path) -> Iterator[None]:
    """Hold the lock of the warehouse ``folder``: one publisher at a time."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = StoreLock(folder / LOCK_FILE, exclusive=True)
    try:
        lock.acquire()
    except StateStoreBusyError:
        raise PublishBusyError(
            f"another run is publishing to {folder}; try again when it has finished"
        ) from None
    try:
        yield
    finally:
        lock.release()


def publish_build(build: Path, home: Path) -> Published:
    """Put ``build`` in place as the published warehouse, unless it holds nothing new."""
    target = published_path(home)
    with publish_lock(target.parent):
        digest = None
        if target.exists():
            same = same_content(build, target)
            if same is None:  # not comparable in SQL: the digests decide, as they always did
                digest = content_digest(build)
                same = content_digest(target) == digest
            if same:
                return Published(path=target, changed=False, digest=digest)
        with duckdb.connect(str(build)) as connection:
            connection.execute("CHECKPOINT")
        swap_in(build, target, label=build.parent.name)
        return Published(path=target, changed=True, digest=digest)


# Types whose SQL equality is equality of the values Python reads (and so of their repr, which
# content_digest hashes); a float is compared as its text, so 0.0 and -0.0 differ there too.
_COMPARABLE = re.compile(
    r"(VARCHAR|BOOLEAN|DATE|TIMESTAMP|(U?(BIG|SMALL|TINY|HUGE)?INT(EGER)?)|DECIMAL\(\d+,\d+\))"
    r"(\[\])?|DOUBLE|FLOAT"
)


def same_content(build: Path, published: Path) -> bool | None:
    """Whether ``build`` holds what ``published`` holds, by the digest's definition (the same
    rows of each content table, ``run_id`` aside), worked out in DuckDB: the same columns and
    types, the same row counts, and no row of one missing from the other. ``None`` where SQL
    cannot tell as the digest would (a table missing, a column of another type): then
    :func:`content_digest` decides. A run that changed a figure is told in milliseconds (its
    row count) or one pass in DuckDB, not a pass over every row of both files in Python."""
    try:
        return _same_content(build, published)
    except duckdb.Error:  # whatever SQL cannot read, the digests decide (and report)
        return None


def _same_content(build: Path, published: Path) -> bool | None:
    with duckdb.connect() as connection:
        for name, path in (("build", build), ("published", published.resolve())):
            escaped = str(path).replace("'", "''")
            connection.execute(f"attach '{escaped}' as {name} (read_only)")
        for table, left_out in (*CONTENT_TABLES, *OPTIONAL_CONTENT_TABLES):
            columns = _columns(connection, "build", table, left_out)
            if not columns or columns != _columns(connection, "published", table, left_out):
                return None
            if not all(_COMPARABLE.fullmatch(kind) for _, kind in columns):
                return None
            (build_rows,), (published_rows,) = (
                connection.execute(f"select count(*) from {side}.{table}").fetchall()
                for side in ("build", "published")
            )
            if build_rows != published_rows:
                return False
            quoted = [(name.replace('"', '""'), kind) for name, kind in columns]
            shown = ", ".join(
                f'"{name}"::varchar' if kind in ("DOUBLE", "FLOAT") else f'"{name}"'
                for name, kind in quoted
            )
            (missing,) = connection.execute(
                f"select exists (select {shown} from build.{table} "
                f"except all select {shown} from published.{table})"
            ).fetchone() or (True,)
            if missing:  # equal counts: a row of the build not published is a change
                return False
    return True


def _columns(
    connection: duckdb.DuckDBPyConnection, database: str, table: str, left_out: str | None
) -> list[tuple[str, str]]:
    schema, name = table.split(".")
    rows = connection.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [database, schema, name],
    ).fetchall()
    return [(column, kind) for column, kind in rows if column != left_out]


def swap_in(built: Path, target: Path, label: str) -> Path:
    """Move the closed database ``built`` into a versions folder of its own and point ``target``
    at it.

    The version keeps ``target``'s file name (``versions/<UTC stamp>-<label>/cpmds.duckdb``):
    DuckDB names a database's catalog after the file it opened, the link's target, so analysts'
    qualified names (``cpmds.marts...``) stay the same from one publication to the next. The
    caller holds the publish lock. Keeps the version ``target`` pointed at before (for
    `restore_previous` and for a reader that resolved the link just before the swap)."""
    versions = target.parent / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    _keep_legacy_file(target, versions)
    folder = versions / f"{datetime.now(UTC).strftime(STAMP)}-{label}"
    folder.mkdir()
    version = folder / target.name
    _flush(built)
    built.replace(version)
    _flush(folder)
    _flush(versions)
    point_link(target, version)
    _prune(target)
    return version


def restore_previous(home: Path) -> Path:
    """Point the published warehouse (and its shareable file) back at the version before.

    The current version is withdrawn (moved to ``versions/withdrawn/``), not deleted, so what went
    wrong can still be looked at by the named analysts."""
    from cpmds.publish.outputs import PUBLICATION_FILE

    target = published_path(home)
    with publish_lock(target.parent):
        current = _current(target)
        earlier = kept_versions(target, before=current)
        if current is None or not earlier:
            raise NothingToRestoreError(
                f"no earlier published warehouse is kept under {versions_folder(home)}"
            )
        restored = earlier[-1]
        point_link(target, restored)
        _withdraw(current)
        shareable = target.with_name(PUBLICATION_FILE)
        run = version_run(restored)
        match = [v for v in kept_versions(shareable) if version_run(v) == run]
        shared_now = _current(shareable)
        if match and shared_now is not None:
            point_link(shareable, match[-1])
            _withdraw(shared_now)
        return restored


def _current(target: Path) -> Path | None:
    return target.resolve() if target.is_symlink() else None


def kept_versions(target: Path, before: Path | None = None) -> list[Path]:
    """``target``'s kept versions, oldest first (their folders' names start with a UTC stamp)."""
    versions = target.parent / VERSIONS
    found = sorted(versions.glob(f"*/{target.name}"), key=lambda p: p.parent.name)
    found = [p for p in found if p.parent.name != WITHDRAWN]
    if before is not None:
        found = [p for p in found if p.parent.name < before.parent.name]
    return found


def _published_at(version: Path) -> datetime:
    return datetime.strptime(version.parent.name.split("-", 1)[0], STAMP).replace(tzinfo=UTC)


def version_run(version: Path) -> str:
    """The run (or ``legacy``) that published a kept version."""
    return version.parent.name.split("-", 1)[1]


def point_link(target: Path, version: Path) -> None:
    """Swap the link ``target`` to ``version`` in one rename of a new link over the old."""
    swap = target.with_name(f".{target.name}.swap")
    swap.unlink(missing_ok=True)
    swap.symlink_to(version.relative_to(target.parent))
    swap.replace(target)
    _flush(target.parent)


def _keep_legacy_file(target: Path, versions: Path) -> None:
    """A home published before versions existed has a plain file: keep it as the first version
    (a hard link, so the file analysts have open is untouched) before the link replaces it."""
    if target.is_file() and not target.is_symlink():
        stamp = datetime.fromtimestamp(target.stat().st_mtime, UTC).strftime(STAMP)
        legacy = versions / f"{stamp}-legacy" / target.name
        if not legacy.exists():
            legacy.parent.mkdir(exist_ok=True)
            os.link(target, legacy)


def _prune(target: Path) -> None:
    """Keep the version published now and the one before it; delete older ones once they have
    been superseded for a while (a reader may have resolved the link just before a swap)."""
    current = _current(target)
    earlier = kept_versions(target, before=current)
    now = datetime.now(UTC)
    for old, successor in pairwise(earlier):
        if (now - _published_at(successor)).total_seconds() > SUPERSEDED_GRACE_SECONDS:
            _delete(old)
    for old in (target.parent / VERSIONS / WITHDRAWN).glob(f"*/{target.name}"):
        _delete(old)


def _delete(version: Path) -> None:
    """Remove a version, and its folder once nothing else of that run is in it."""
    version.unlink(missing_ok=True)
    if not any(version.parent.iterdir()):
        version.parent.rmdir()


def _withdraw(version: Path) -> None:
    folder = version.parent.parent / WITHDRAWN / version.parent.name
    folder.mkdir(parents=True, exist_ok=True)
    version.replace(folder / version.name)
    if not any(version.parent.iterdir()):
        version.parent.rmdir()


def _flush(path: Path) -> None:
    """fsync a file or a folder, so a rename that follows is durable."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
