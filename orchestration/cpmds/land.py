"""Land: every new file under the landing zone gets its load-log row (pipeline.md, step 1).

A file is new when its path is not in the load log, so re-running over the same landing zone
records nothing. A new file is ``rejected`` when it resolves outside the landing zone or is no
regular file (such a file is never read), ``quarantined`` when its place or name is not the
contract's (gate 1's name checks, decided here), a
``duplicate`` when its bytes were already delivered for the same (partner, org, dataset, period),
else ``pending``: for the ingest step to read and gate. Paths and names are data: they are passed
to the file system as paths and to the store as values, never to a shell or into SQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import stat
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cpmds.contract import Contract
from cpmds.gates import load_rules
from cpmds.ingest.delivery import Delivery, LandingRoots, landing_roots, parse_delivery
from cpmds.ingest.rejection import REJECTION_MESSAGES
from cpmds.state import NewFile, StateStore

logger = logging.getLogger(__name__)

TOP_LEVEL_IGNORED = frozenset({"README.md"})
TEMPORARY_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".filepart", ".crdownload", "~")
TEMPORARY_DIRECTORIES = frozenset({"tmp", "temp"})
LAND_REJECTIONS: dict[str, str] = {
    "not_a_regular_file": (
        "the path is not a regular file (a link to a directory or to nothing, a device, a pipe)"
    ),
}
"""Rejection reasons of land's own, beside the ingest package's :data:`REJECTION_MESSAGES`."""
_CHUNK = 1 << 20


@dataclass(frozen=True)
class PendingFile:
    """A file for the ingest step: where to read it, what it is, and its load-log id."""

    file_id: int
    path: Path
    delivery: Delivery
    size: int | None
    sha256: str | None


@dataclass(frozen=True)
class LandResult:
    pending: dict[str, tuple[PendingFile, ...]]
    """Dataset id -> its pending files by path: this run's new ones, and any an earlier run left
    pending because it died before deciding them."""
    new_files: int
    rejected: int
    quarantined: int
    duplicates: int
    unreadable: tuple[str, ...]
    """Relative paths that could not be read this time (vanished, no permission): not recorded,
    so the next run tries them again."""

    @property
    def pending_files(self) -> int:
        return sum(len(files) for files in self.pending.values())


def reason_message(reason: str) -> str:
    """The fixed text for a rejection reason recorded by land."""
    return LAND_REJECTIONS.get(reason) or REJECTION_MESSAGES[reason]


def discover(raw: Path) -> list[Path]:
    """Every candidate file under ``raw``, sorted by relative path; links are listed, not followed.

    Skipped: ``README.md`` at the top, anything whose name starts with ``.``, temporary files and
    directories (a partner's upload in progress). A symbolic link (to a file or a directory) is
    listed as it is, for :func:`land` to check where it leads; directories are walked without
    following links, so nothing outside ``raw`` is ever listed through one.
    """
    if not raw.is_dir():
        raise FileNotFoundError(f"the landing zone {raw} is not a directory")
    root = Path(os.path.normpath(raw.absolute()))
    found: list[Path] = []
    for directory, subdirectories, names in os.walk(root, followlinks=False):
        here = Path(directory)
        links = [name for name in subdirectories if (here / name).is_symlink()]
        subdirectories[:] = [
            name
            for name in subdirectories
            if name not in links and not _ignored(name, directory=True)
        ]
        for name in [*names, *links]:
            if _ignored(name, directory=False) or (here == root and name in TOP_LEVEL_IGNORED):
                continue
            found.append(here / name)
    return sorted(found, key=lambda path: path.relative_to(root).as_posix())


def _ignored(name: str, *, directory: bool) -> bool:
    if name.startswith("."):
        return True
    if directory:
        return name.lower() in TEMPORARY_DIRECTORIES
    return name.lower().endswith(TEMPORARY_SUFFIXES)


def land(
    raw: Path,
    store: StateStore,
    run_id: str,
    now: dt.datetime,
    paths: Iterable[Path] | None = None,
) -> LandResult:
    """Record every new file under ``raw`` in the load log; return the pending files.

    ``paths`` (absolute, or relative to ``raw``) replaces discovery, e.g. for a sensor that was
    told what arrived; a path that resolves outside ``raw`` is recorded as rejected, never read.
    """
    contract = store.contract
    root = Path(os.path.normpath(raw.absolute()))
    candidates = discover(raw) if paths is None else [_absolute(Path(p), root) for p in paths]
    known = store.known_paths()
    originals = store.delivered_originals()
    recorded: list[NewFile] = []
    unreadable: list[str] = []
    roots = landing_roots(raw)  # once, not per file
    for path in candidates:
        relative = _relative_text(path, root)
        if relative in known:
            continue
        known.add(relative)
        entry = _examine(path, raw, roots, relative, run_id, now, store, originals, contract)
        if entry is None:
            unreadable.append(relative)
        else:
            recorded.append(entry)
    store.record_files(recorded)
    rejected = sum(entry.status == "rejected" for entry in recorded)
    quarantined = sum(entry.status == "quarantined" for entry in recorded)
    duplicates = sum(entry.status == "duplicate" for entry in recorded)
    if unreadable:
        logger.warning(
            "%d file(s) could not be read; they are tried again next run.", len(unreadable)
        )
    return LandResult(
        pending=_pending(store, root),
        new_files=len(recorded),
        rejected=rejected,
        quarantined=quarantined,
        duplicates=duplicates,
        unreadable=tuple(unreadable),
    )


def _examine(
    path: Path,
    raw: Path,
    roots: LandingRoots,
    relative: str,
    run_id: str,
    now: dt.datetime,
    store: StateStore,
    originals: dict[tuple[str, str, str, int, str], int],
    contract: Contract,
) -> NewFile | None:
    """The load-log row for one new path, or None when it cannot be read just now."""

    def entry(status, reason=None, size=None, sha256=None, delivery=None, twin=None) -> NewFile:
        return NewFile(
            file_id=store.new_file_id(),
            path=relative,
            arrived=now,
            run_id=run_id,
            status=status,
            reason=reason,
            size=size,
            sha256=sha256,
            delivery=delivery,
            duplicate_of=twin,
        )

    try:
        target = roots.resolve(path)
    except (OSError, RuntimeError):
        # A link loop, or a link into a directory we may not enter: nothing readable is there.
        return entry("rejected", "outside_root")
    if not target.is_relative_to(roots.resolved):
        return entry("rejected", "outside_root")
    try:
        digest = _digest(target)
    except FileNotFoundError:
        # A broken link stays broken; a plain file that vanished may be back under its name.
        return entry("rejected", "not_a_regular_file") if path.is_symlink() else None
    except PermissionError:
        return None
    if digest is None:
        return entry("rejected", "not_a_regular_file")
    size, sha256 = digest
    parsed = parse_delivery(path, raw, contract, roots=roots, resolved=target)
    if not isinstance(parsed, Delivery):
        # A name against the contract fails gate 1's first check: quarantined where it lies.
        return entry("quarantined", load_rules().file_rule(parsed.reason).code, size, sha256)
    fingerprint = (parsed.partner, parsed.org, parsed.dataset_id, parsed.period, sha256)
    twin = originals.get(fingerprint)
    if twin is not None:
        return entry("duplicate", None, size, sha256, parsed, twin)
    pending = entry("pending", None, size, sha256, parsed)
    originals[fingerprint] = pending.file_id
    return pending


def _digest(target: Path) -> tuple[int, str] | None:
    """Size and SHA-256 of a regular file, streamed; None for anything else.

    Opened without following a final link and without blocking (a pipe put in place of a file
    after the check must not hang the run), then checked on the open descriptor.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(target, flags)
    except IsADirectoryError:
        return None
    except OSError as error:
        if isinstance(error, FileNotFoundError | PermissionError):
            raise
        return None
    with os.fdopen(descriptor, "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            return None
        sha = hashlib.sha256()
        size = 0
        while chunk := handle.read(_CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return size, sha.hexdigest()


def _pending(store: StateStore, root: Path) -> dict[str, tuple[PendingFile, ...]]:
    grouped: dict[str, list[PendingFile]] = defaultdict(list)
    for record in store.pending_files():
        delivery = record.delivery()
        if delivery is None:
            continue
        grouped[delivery.dataset_id].append(
            PendingFile(
                file_id=record.file_id,
                path=root / record.path,
                delivery=delivery,
                size=record.size,
                sha256=record.sha256,
            )
        )
    return {dataset_id: tuple(files) for dataset_id, files in sorted(grouped.items())}


def _absolute(path: Path, root: Path) -> Path:
    return path if path.is_absolute() else root / path


def _relative_text(path: Path, root: Path) -> str:
    """The path as delivered, relative to the landing zone (``..`` kept when it climbs out).

    A name that is not UTF-8 keeps its odd bytes as ``\\xNN`` escapes: stable from run to run, and
    storable as text (the raw bytes would be refused by the store and stop the run).
    """
    relative = Path(os.path.relpath(os.path.normpath(path), root)).as_posix()
    return os.fsencode(relative).decode("utf-8", errors="backslashreplace")
