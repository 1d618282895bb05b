"""The run and its files, from the state store's quality history (sections 1, 3 and 7).

Everything here is about files and rules, never about children: paths, statuses, rule codes and
fixed messages, and counts of rows and files.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import polars as pl

from cpmds.gates import load_rules
from cpmds.publish.outputs import neutralise
from cpmds.report.sources import NoRunError, Sources

EXAMPLES_PER_RULE = 3
FILE_STATUS_ORDER = ("loaded", "quarantined", "duplicate", "superseded", "rejected", "pending")


@dataclass(frozen=True)
class RunFacts:
    run: dict[str, Any]
    previous: dict[str, Any] | None
    runs_total: int
    position: int  # how many runs came before this one

    @property
    def is_latest(self) -> bool:
        return self.position + 1 == self.runs_total


def run_facts(sources: Sources, run_id: str | None) -> RunFacts:
    runs = sources.frame("select * from state.quality.runs order by started, run_id")
    if runs.is_empty():
        raise NoRunError("the state store has no run yet")
    ids = runs["run_id"].to_list()
    chosen = ids[-1] if run_id is None else run_id
    if chosen not in ids:
        raise NoRunError(f"no run {chosen!r} in the state store")
    position = ids.index(chosen)
    rows = runs.to_dicts()
    return RunFacts(
        run=rows[position],
        previous=rows[position - 1] if position > 0 else None,
        runs_total=len(rows),
        position=position,
    )


def load_log(sources: Sources) -> pl.DataFrame:
    return sources.frame("select * from state.quality.load_log order by path")


def gate_results(sources: Sources, run_id: str) -> list[dict[str, Any]]:
    """Gates 1 and 2 by partner and dataset for the run, with the rule codes that fired."""
    rows = sources.frame(
        "select gate, partner, dataset, passed, files_checked, files_failed, rows_checked, "
        "rows_failed, rows_warned, details from state.quality.gate_results where run_id = ? "
        "order by partner, dataset, gate",
        [run_id],
    )
    results = []
    for row in rows.to_dicts():
        details = _json(row.pop("details"))
        row["rules"] = ", ".join(
            f"{code} ({count:,})" for code, count in sorted(details.get("rules", {}).items())
        )
        results.append(row)
    return results


def failing_rules(sources: Sources, run_id: str) -> list[dict[str, Any]]:
    """Each rule that failed in the run: its severity, message, how many rows and files, and a
    few example references (file, row, column)."""
    rules = load_rules().by_code
    failures = row_failures(sources, run_id)
    if failures.is_empty():
        return []
    summary = (
        failures.group_by("rule", "severity", "dataset")
        .agg(
            pl.len().alias("findings"),
            pl.col("path").n_unique().alias("files"),
            pl.struct("path", "row", "column")
            .sort_by("path", "row", "column", nulls_last=False)
            .head(EXAMPLES_PER_RULE)
            .alias("examples"),
            pl.col("message").first(),
        )
        # The dataset last: a rule failing as often in two datasets comes out in one order.
        .sort(["severity", "findings", "rule", "dataset"], descending=[False, True, False, False])
    )
    found = []
    for row in summary.to_dicts():
        rule = rules.get(row["rule"])
        row["message"] = rule.message if rule is not None else row["message"]
        row["examples"] = [
            {
                "path": example["path"] or "",
                "row": example["row"],
                "column": example["column"] or "(the whole file)",
            }
            for example in row["examples"]
        ]
        found.append(row)
    return found


def row_failures(sources: Sources, run_id: str) -> pl.DataFrame:
    return sources.frame(
        "select coalesce(failures.path, log.path) as path, failures.dataset, failures.row, "
        'failures."column", failures.rule, failures.severity, failures.message '
        "from state.quality.row_failures as failures "
        "left join state.quality.load_log as log using (file_id) "
        "where failures.run_id = ? order by path, failures.row nulls first, failures.rule",
        [run_id],
    )


def row_failures_csv(failures: pl.DataFrame) -> str:
    """Every row failure of the run as CSV (text cells neutralised against formula injection)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(failures.columns)
    for row in failures.iter_rows():
        writer.writerow(
            "" if value is None else neutralise(value) if isinstance(value, str) else str(value)
            for value in row
        )
    return buffer.getvalue()


def quarantined_files(log: pl.DataFrame, run_id: str) -> list[dict[str, Any]]:
    """Files quarantined or rejected by the run, with their reasons spelled out."""
    rules = load_rules().by_code
    decided = log.filter(
        pl.col("status").is_in(["quarantined", "rejected"])
        & ((pl.col("decided_run_id") == run_id) | (pl.col("run_id") == run_id))
    )
    files = []
    for row in decided.sort("path").to_dicts():
        codes = [code.strip() for code in (row["reason"] or "").split(",") if code.strip()]
        files.append(
            {
                "path": row["path"],
                "status": row["status"],
                "dataset": row["dataset"] or "(name not recognised)",
                "reasons": [
                    f"{code}: {rules[code].message}" if code in rules else code for code in codes
                ]
                or ["no reason recorded"],
            }
        )
    return files


def file_changes(log: pl.DataFrame, run_id: str) -> dict[str, Any]:
    """What the run changed among the files: new by status, superseded, and the corrections that
    superseded them."""
    new = log.filter(pl.col("run_id") == run_id)
    by_status = dict(new.group_by("status").len().rows())
    superseded = log.filter(
        (pl.col("status") == "superseded") & (pl.col("decided_run_id") == run_id)
    )
    by_id = dict(zip(log["file_id"].to_list(), log["path"].to_list(), strict=True))
    return {
        "new_files": new.height,
        "new_by_status": [(s, by_status[s]) for s in FILE_STATUS_ORDER if by_status.get(s)],
        "new_by_dataset": new.group_by("dataset").len().sort("dataset", nulls_last=True).rows(),
        "superseded": [
            {"path": row["path"], "by": by_id.get(row["superseded_by"], "")}
            for row in superseded.sort("path").to_dicts()
        ],
    }


def _json(text: str | None) -> dict[str, Any]:
    import json

    return json.loads(text) if text else {}
