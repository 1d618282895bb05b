"""Published values for sections 4 to 6, read from the shareable publication file only.

A suppressed cell comes back as ``None`` with ``suppressed`` set, a cell with no row as ``None``
without it; nothing here ever fills a gap or works a number out from others.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from cpmds.report.sources import Sources

RUN_CHART_MONTHS = 24
CROSS_CHECK_MONTHS = 12


@dataclass(frozen=True)
class Area:
    area_type: str
    area_code: str
    name: str


@dataclass(frozen=True)
class Published:
    """Who published what the report shows."""

    run_id: str | None
    rows: int

    @property
    def exists(self) -> bool:
        return self.run_id is not None


def publication(sources: Sources) -> Published:
    if not sources.has_publication:
        return Published(run_id=None, rows=0)
    ((run_id, rows),) = sources.connection.execute(
        "select any_value(run_id), count(*) from published.publication.indicator_values"
    ).fetchall()
    return Published(run_id=run_id, rows=rows)


def catalogue(sources: Sources) -> list[dict[str, Any]]:
    """``marts.dim_indicator`` as the publication file carries it, in catalogue order."""
    return sources.frame(
        "select * from published.marts.dim_indicator order by sort_order"
    ).to_dicts()


def areas(sources: Sources) -> dict[tuple[str, str], Area]:
    rows = sources.frame(
        "select area_type, area_code, area_name from published.marts.dim_area order by sort_order"
    )
    return {(t, c): Area(t, c, n) for t, c, n in rows.iter_rows()}


def monthly_series(sources: Sources) -> tuple[list[dt.date], pl.DataFrame]:
    """The total rows of every indicator for each CPC and Scotland over the last 24 published
    months: (the months, rows of indicator_id, area_type, area_code, period_start, value,
    suppressed)."""
    latest = sources.scalar(
        "select max(period_start) from published.publication.indicator_values "
        "where period_type = 'month'"
    )
    if latest is None:
        return [], pl.DataFrame()
    months = _months_back(latest, RUN_CHART_MONTHS)
    rows = sources.frame(
        "select indicator_id, area_type, area_code, period_start, value, suppressed "
        "from published.publication.indicator_values "
        "where period_type = 'month' and breakdown = 'total' "
        "and area_type in ('cpc', 'scotland') and period_start >= ?",
        [months[0]],
    )
    return months, rows


def latest_year(sources: Sources) -> str | None:
    return sources.scalar(
        "select period_label from published.publication.indicator_values "
        "where period_type = 'year' order by period_start desc limit 1"
    )


def year_cells(sources: Sources, year: str, cells: list[tuple[str, str, str, str]]) -> pl.DataFrame:
    """For each (indicator, breakdown, breakdown value, column): that published count for every
    CPC and Scotland in the statistical year (``count`` null when suppressed or missing)."""
    frames = []
    for indicator, breakdown, value, column in cells:
        frames.append(
            sources.frame(
                f"select indicator_id, area_type, area_code, {column} as count, value, suppressed "
                "from published.publication.indicator_values "
                "where period_type = 'year' and period_label = ? and indicator_id = ? "
                "and breakdown = ? and breakdown_value = ? and area_type in ('cpc', 'scotland')",
                [year, indicator, breakdown, value],
            )
        )
    return pl.concat(frames) if frames else pl.DataFrame()


def consistency(sources: Sources) -> pl.DataFrame:
    """``quality.consistency`` from the publication file (empty if it has none yet)."""
    if not sources.has_publication:
        return pl.DataFrame()
    present = sources.scalar(
        "select count(*) from duckdb_tables() where database_name = 'published' "
        "and schema_name = 'quality' and table_name = 'consistency'"
    )
    if not present:
        return pl.DataFrame()
    return sources.frame("select * from published.quality.consistency order by all")


def council_month_table(
    rows: pl.DataFrame, check: str, measures: tuple[str, ...], names: dict[str, str]
) -> dict[str, Any]:
    """A council x month table of one check over the last months: each cell the measures' values
    (``None`` for a suppressed or missing one; ``suppressed`` tells them apart)."""
    chosen = rows.filter(pl.col("check") == check) if not rows.is_empty() else rows
    if chosen.is_empty():
        return {"months": [], "rows": []}
    months = sorted(chosen["period_start"].unique().to_list())[-CROSS_CHECK_MONTHS:]
    cells = {
        (r["area_code"], r["period_start"], r["measure"]): r
        for r in chosen.filter(pl.col("period_start").is_in(months)).to_dicts()
    }
    table = []
    for council in sorted({code for code, _, _ in cells}, key=lambda c: names.get(c, c)):
        table.append(
            {
                "name": names.get(council, council),
                "cells": [
                    [_shown(cells.get((council, month, measure))) for measure in measures]
                    for month in months
                ],
            }
        )
    return {"months": months, "rows": table}


def _shown(row: dict[str, Any] | None) -> dict[str, Any]:
    if row is None:
        return {"value": None, "suppressed": False}
    return {"value": row["numerator"], "suppressed": bool(row["suppressed"])}


def _months_back(latest: dt.date, count: int) -> list[dt.date]:
    months = [latest]
    while len(months) < count:
        previous = months[-1] - dt.timedelta(days=1)
        months.append(previous.replace(day=1))
    return months[::-1]
