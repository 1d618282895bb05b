"""What the state store takes and gives back: plain, typed records, no DuckDB."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal, get_args

from cpmds.ingest.delivery import Delivery

FileStatus = Literal["pending", "loaded", "quarantined", "duplicate", "superseded", "rejected"]
FILE_STATUSES: tuple[str, ...] = get_args(FileStatus)
DecidedStatus = Literal["loaded", "quarantined"]
"""What the ingest step decides for a pending file; supersession and land decide the others."""
RunStatus = Literal["running", "finished", "failed", "interrupted"]
RUN_STATUSES: tuple[str, ...] = get_args(RunStatus)
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class NewFile:
    """A load-log row for a file seen for the first time (``land`` makes these).

    ``path`` is relative to the landing zone, posix, as delivered. The delivery fields are empty
    for a file whose name or place could not be parsed; ``size`` and ``sha256`` are empty for a
    file that was never read (a link out of the landing zone, say).
    """

    file_id: int
    path: str
    arrived: dt.datetime
    run_id: str
    status: FileStatus
    reason: str | None = None
    size: int | None = None
    sha256: str | None = None
    delivery: Delivery | None = None
    duplicate_of: int | None = None


@dataclass(frozen=True)
class FileDecision:
    """The ingest step's verdict on a pending file. ``rows`` counts the file's data rows;
    ``reason`` holds rule codes or fixed texts, never anything from the file."""

    file_id: int
    status: DecidedStatus
    reason: str | None = None
    rows: int | None = None
    error_rows: int | None = None
    warning_rows: int | None = None


@dataclass(frozen=True)
class FileRecord:
    """One ``quality.load_log`` row."""

    file_id: int
    path: str
    partner: str | None
    delivered_org: str | None
    org: str | None
    dataset: str | None
    period: int | None
    submission: dt.datetime | None
    size: int | None
    sha256: str | None
    arrived: dt.datetime
    status: FileStatus
    reason: str | None
    rows: int | None
    error_rows: int | None
    warning_rows: int | None
    run_id: str
    decided_run_id: str | None
    duplicate_of: int | None
    superseded_by: int | None

    def delivery(self) -> Delivery | None:
        """The :class:`Delivery` the file was parsed as, or None for a rejected name."""
        if self.dataset is None or self.submission is None or self.period is None:
            return None
        assert self.partner and self.delivered_org and self.org
        return Delivery(
            relative_path=self.path,
            partner=self.partner,
            delivered_org=self.delivered_org,
            org=self.org,
            dataset_id=self.dataset,
            period=self.period,
            submitted_at=self.submission,
            extension=PurePosixPath(self.path).suffix.removeprefix("."),
        )


@dataclass(frozen=True)
class RunRecord:
    """One ``quality.runs`` row; the file counts are filled when the run finishes."""

    run_id: str
    started: dt.datetime
    finished: dt.datetime | None
    status: RunStatus
    published: bool | None
    why_not: str | None
    files_new: int | None = None
    files_loaded: int | None = None
    files_quarantined: int | None = None
    files_duplicate: int | None = None
    files_superseded: int | None = None
    files_rejected: int | None = None
    files_pending: int | None = None
    rows_loaded: int | None = None


@dataclass(frozen=True)
class GateResult:
    """One ``quality.gate_results`` row. ``details`` is counts and rule codes, never values."""

    run_id: str
    gate: str
    suite: str
    partner: str | None
    dataset: str | None
    passed: bool
    files_checked: int = 0
    files_failed: int = 0
    rows_checked: int = 0
    rows_failed: int = 0
    rows_warned: int = 0
    details: dict[str, object] | None = field(default=None)


@dataclass(frozen=True)
class SupersessionChange:
    """A file whose standing changed: ``superseded`` by a later file, or ``loaded`` again."""

    file_id: int
    path: str
    before: FileStatus
    after: FileStatus
    superseded_by: int | None
