"""Section 2: for each sender (partner, org) and dataset, a grid of the expected periods with what
happened to each (pipeline.md, "The quality report"; extracts.md, due dates and coverage).

A sender's expected periods start at the period of its first file and run to the latest period
any file in the load log is for (the landing zone's horizon; later months are not shown). Each
cell is one status, in this order of precedence:

- ``corrected``: a current file is loaded and an earlier one for the period was superseded;
- ``late`` / ``received``: a current file is loaded; late when the period's first file was
  submitted after the due date (the submission stamp in its name is the partner's own record of
  when it sent the file; the time the pipeline first saw it is shown beside it);
- ``quarantined``: files came, none is loaded; ``undecided``: a file the pipeline could not decide;
- ``missing``: nothing came and the due date had passed when the run started; ``pending``: not yet
  due. Voluntary returns are never missing (``none``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from cpmds.catalogue import Catalogue
from cpmds.contract import Contract, Dataset

STATUSES = {
    "received": ("R", "received by the due date"),
    "late": ("L", "received after the due date"),
    "corrected": ("C", "received, then corrected: an earlier file was superseded"),
    "quarantined": ("Q", "files came but none could be loaded (quarantined)"),
    "undecided": ("U", "a file the pipeline could not decide (retried by the next run)"),
    "missing": ("M", "nothing received and the due date has passed"),
    "pending": ("P", "nothing received yet; not yet due"),
    "none": ("-", "voluntary return: nothing sent (never expected)"),
}
NOT_LOADED = ("quarantined", "undecided", "missing")


@dataclass(frozen=True)
class Cell:
    status: str
    title: str

    @property
    def letter(self) -> str:
        return STATUSES[self.status][0]


@dataclass
class SenderRow:
    partner: str
    org: str
    dataset: str
    cells: list[Cell | None]  # None: not an expected period of this sender
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Grid:
    months: list[dt.date]
    rows: list[SenderRow]
    late: list[dict[str, object]]
    not_computed: list[dict[str, object]]

    @property
    def late_by_sender(self) -> list[dict[str, object]]:
        """Late files summed up per sender and dataset: how many, the worst, the latest."""
        summary: dict[tuple, dict[str, object]] = {}
        for file in self.late:
            key = (file["partner"], file["org"], file["dataset"])
            entry = summary.setdefault(
                key,
                {
                    "partner": key[0],
                    "org": key[1],
                    "dataset": key[2],
                    "files": 0,
                    "most_days": 0,
                    "latest": "",
                },
            )
            entry["files"] += 1
            entry["most_days"] = max(entry["most_days"], file["days_late"])
            entry["latest"] = max(entry["latest"], file["period"])
        return list(summary.values())

    @property
    def totals(self) -> dict[str, int]:
        totals: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for row in self.rows:
            for status, count in row.counts.items():
                totals[status] += count
        return totals


def due_date(dataset: Dataset, period_end: dt.date, monthly_days: int) -> dt.date:
    if dataset.cadence == "monthly" or dataset.due is None:
        return period_end + dt.timedelta(days=monthly_days)
    due = dt.date(period_end.year, dataset.due.month, dataset.due.day)
    return due if due > period_end else due.replace(year=due.year + 1)


def submission_grid(
    log: pl.DataFrame, contract: Contract, catalogue: Catalogue, as_of: dt.datetime
) -> Grid:
    parsed = log.filter(pl.col("dataset").is_not_null() & (pl.col("status") != "duplicate"))
    if parsed.is_empty():
        return Grid(months=[], rows=[], late=[], not_computed=[])
    first, last = parsed["period"].min(), parsed["period"].max()
    months = _months(first, last)
    position = {_yyyymm(month): index for index, month in enumerate(months)}
    datasets = contract.dataset_by_id
    readers = _readers(catalogue, contract)
    rows, late, not_computed = [], [], []
    for (partner, org, dataset_id), files in sorted(
        parsed.group_by("partner", "org", "dataset"), key=lambda group: group[0]
    ):
        dataset = datasets[dataset_id]
        row = SenderRow(partner, org, dataset_id, cells=[None] * len(months))
        start = files["period"].min()
        # Each period's files, in their order in the log, as plain rows: a grid has thousands of
        # cells, and a data frame per cell costs more than the cell's work.
        by_period: dict[int, list[dict]] = {}
        for record in files.iter_rows(named=True):
            by_period.setdefault(record["period"], []).append(record)
        for period in _expected(dataset, start, last):
            period_files = by_period.get(period, [])
            end = _month_end(_month(period))
            due = due_date(dataset, end, contract.formats.monthly_due_days)
            cell, late_file = _cell(dataset, period_files, due, as_of)
            row.cells[position[period]] = cell
            row.counts[cell.status] = row.counts.get(cell.status, 0) + 1
            if late_file is not None:
                late.append({"partner": partner, "org": org, "dataset": dataset_id, **late_file})
            if cell.status in NOT_LOADED and readers.get(dataset_id):
                not_computed.append(
                    {
                        "partner": partner,
                        "org": org,
                        "dataset": dataset_id,
                        "period": _label(period),
                        "status": cell.status,
                        "indicators": readers[dataset_id],
                    }
                )
        rows.append(row)
    return Grid(months=months, rows=rows, late=late, not_computed=not_computed)


def _cell(
    dataset: Dataset, files: list[dict], due: dt.date, as_of: dt.datetime
) -> tuple[Cell, dict[str, object] | None]:
    """A sender's cell for one period, from its files there (load-log rows, in log order)."""
    if not files:
        if dataset.coverage == "voluntary":
            return Cell("none", f"nothing sent (voluntary); due {due:%d %b %Y}"), None
        status = "missing" if as_of.date() > due else "pending"
        return Cell(status, f"nothing received; due {due:%d %b %Y}"), None
    statuses = {record["status"] for record in files}
    first = min(files, key=lambda record: record["submission"])  # the first in the log on a tie
    submitted: dt.datetime = first["submission"]
    seen: dt.datetime = min(record["arrived"] for record in files)
    when = f"first submitted {submitted:%d %b %Y}, first seen {seen:%d %b %Y}; due {due:%d %b %Y}"
    if "loaded" in statuses:
        is_late = submitted.date() > due
        status = "corrected" if "superseded" in statuses else "late" if is_late else "received"
        late = (
            {
                "period": _label(first["period"]),
                "due": due,
                "submitted": submitted.date(),
                "seen": seen.date(),
                "days_late": (submitted.date() - due).days,
            }
            if is_late
            else None
        )
        return Cell(status, when), late
    if "pending" in statuses:
        return Cell("undecided", when), None
    return Cell("quarantined", when), None


def _readers(catalogue: Catalogue, contract: Contract) -> dict[str, list[str]]:
    """Dataset -> the indicators that need it for coverage (cannot be computed without it)."""
    readers: dict[str, list[str]] = {}
    for indicator in catalogue.indicators:
        for dataset in catalogue.expected_inputs(indicator.id, contract):
            readers.setdefault(dataset, []).append(indicator.id)
    return readers


def _expected(dataset: Dataset, start: int, last: int) -> list[int]:
    periods = [_yyyymm(month) for month in _months(start, last)]
    if dataset.cadence == "annual":
        return [period for period in periods if period % 100 == dataset.period_month]
    return periods


def _months(first: int, last: int) -> list[dt.date]:
    months, month = [], _month(first)
    while _yyyymm(month) <= last:
        months.append(month)
        month = _month_end(month) + dt.timedelta(days=1)
    return months


def _month(period: int) -> dt.date:
    return dt.date(period // 100, period % 100, 1)


def _month_end(month: dt.date) -> dt.date:
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def _yyyymm(month: dt.date) -> int:
    return month.year * 100 + month.month


def _label(period: int) -> str:
    return f"{period // 100}-{period % 100:02d}"
