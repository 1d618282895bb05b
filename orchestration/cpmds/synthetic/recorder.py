"""Collects record versions as the simulation produces them, and hands them over as a History."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import polars as pl

from cpmds.contract import Dataset, load_contract
from cpmds.synthetic.history import History

POLARS_TYPES: dict[str, Any] = {
    "text": pl.Utf8,
    "date": pl.Date,
    "bool": pl.Boolean,
    "code": pl.Utf8,
    "codes": pl.List(pl.Utf8),
    "integer": pl.Int64,
}


def period_of(day: dt.date) -> int:
    return day.year * 100 + day.month


class Recorder:
    """Turns a record's life (its first state and dated changes) into one version per month.

    A monthly extract lists every record created or changed in its month, as it stood at the month's
    end; records that closed before ``keep_from`` never reach a file (not even as baseline) and are
    not kept, which spares the simulation's warm-up years most of their cost. Children are always
    kept: an open record from the warm-up still names its child in the baseline.
    """

    ALWAYS_KEPT = frozenset({"sw__children"})

    def __init__(self, keep_from: int) -> None:
        self.keep_from = keep_from
        self.contract = load_contract()
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def record(
        self,
        dataset_id: str,
        org: str,
        created: dt.date,
        state: dict[str, Any],
        changes: list[tuple[dt.date, dict[str, Any]]] = (),  # type: ignore[assignment]
    ) -> None:
        dataset = self.contract.dataset_by_id[dataset_id]
        versions: list[tuple[int, dict[str, Any]]] = [(period_of(created), dict(state))]
        current = dict(state)
        for when, change in sorted(changes, key=lambda item: item[0]):
            if when < created:
                raise ValueError(f"{dataset_id}: a change dated before the record was created")
            current.update(change)
            period = period_of(when)
            if period == versions[-1][0]:
                versions[-1] = (period, dict(current))
            else:
                versions.append((period, dict(current)))
        last_period, last_state = versions[-1]
        closed = not _open(dataset, last_state)
        if last_period < self.keep_from and closed and dataset_id not in self.ALWAYS_KEPT:
            return
        rows = self.rows[dataset_id]
        for period, values in versions:
            rows.append({**values, "_org": org, "_period": period})

    def history(self) -> History:
        return {
            dataset.id: self.history_frame(dataset.id, self.rows.get(dataset.id, []))
            for dataset in self.contract.datasets
        }

    def history_frame(self, dataset_id: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
        dataset = self.contract.dataset_by_id[dataset_id]
        schema = {column.name: POLARS_TYPES[column.type] for column in dataset.columns}
        schema |= {"_org": pl.Utf8, "_period": pl.Int32}
        return pl.DataFrame(rows, schema=schema)


def _open(dataset: Dataset, state: dict[str, Any]) -> bool:
    column = dataset.baseline_open_when_blank
    return column is not None and state.get(column) is None
