"""Backfill: re-read the landing zone's files for a range of periods, then rebuild (interface.md).

For when the files of some periods must be read again although they were loaded: partners re-sent
history, a rule or a code list was corrected, a file was quarantined under a rule since relaxed.
The files of those periods are set back to ``pending`` and their landing rows forgotten, in one
state-store transaction (``StateStore.reset_for_rebuild``: load-log ids, first arrivals and the
quality history stay); the same run then ingests them again with anything new, builds the warehouse
afresh and publishes it if every gate passes. So the result is what a fresh full run over the same
files gives.

The files are re-read from where they were delivered, so each must still be there with the bytes
that were logged: otherwise the backfill refuses before it changes anything (a file changed in
place is not a correction: partners send a corrected file with a later submission stamp).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from cpmds.land import _digest as digest_of
from cpmds.settings import Settings
from cpmds.state import FileRecord, StateStore
from cpmds.state.store import _REBUILT_STATUSES as REREAD_STATUSES

logger = logging.getLogger(__name__)

BACKFILL_JOB = "backfill"
BACKFILL_TAG = "cpmds/backfill"


class BackfillRefusedError(RuntimeError):
    """The landing zone no longer holds the files of those periods as they were delivered."""


@dataclass(frozen=True)
class Periods:
    """An inclusive range of months, YYYYMM."""

    first: int
    last: int

    def __post_init__(self) -> None:
        for period in (self.first, self.last):
            if not (100001 <= period <= 999912 and 1 <= period % 100 <= 12):
                raise ValueError(f"a period is YYYYMM, not {period}")
        if self.first > self.last:
            raise ValueError(f"the range runs backwards: {self.first} to {self.last}")

    def __contains__(self, period: object) -> bool:
        return isinstance(period, int) and self.first <= period <= self.last

    def __str__(self) -> str:
        return f"{self.first}-{self.last}"


def reread_stage(settings: Settings, periods: Periods) -> int:
    """Set every file of ``periods`` back to pending, with its landing rows forgotten, so this
    run re-reads it; returns how many files that is. Checks and resets under one handle on the
    store, so nothing can change the load log in between."""
    with StateStore.open(settings.home) as store:
        files = [
            record
            for record in store.files()
            if record.dataset is not None
            and record.period in periods
            and record.status in REREAD_STATUSES
        ]
        problems = _not_as_delivered(settings.raw, files)
        if problems:
            listed = "; ".join(problems[:5]) + ("; ..." if len(problems) > 5 else "")
            raise BackfillRefusedError(
                f"backfill {periods} refused, nothing changed: {len(problems)} file(s) of those "
                f"periods are not in the landing zone as delivered ({listed}). Put them back, or "
                "send corrections as new files with a later submission stamp."
            )
        count = store.reset_for_rebuild(periods.first, periods.last)
    logger.info("backfill %s: %d file(s) set to be read again", periods, count)
    return count


def _not_as_delivered(raw: Path, files: list[FileRecord]) -> list[str]:
    problems = []
    for record in files:
        try:
            found = digest_of(raw / record.path)
        except FileNotFoundError:
            problems.append(f"{record.path}: missing")
            continue
        except PermissionError:
            problems.append(f"{record.path}: not readable")
            continue
        if found is None:
            problems.append(f"{record.path}: not a regular file")
        elif found != (record.size, record.sha256):
            problems.append(f"{record.path}: changed since it was logged")
    return problems


def run_backfill(settings: Settings, periods: Periods, progress: bool = False):
    """`cpmds backfill`: the ``backfill`` job, in this process on the home's instance, as
    `cpmds run` runs ``load``; returns its :class:`~cpmds.pipeline.runner.RunOutcome`."""
    from cpmds.pipeline.runner import run_load

    return run_load(
        settings,
        progress,
        job_name=BACKFILL_JOB,
        run_config={"period_from": periods.first, "period_to": periods.last},
        tags={BACKFILL_TAG: str(periods)},
    )
