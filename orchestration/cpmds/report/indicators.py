"""Section 5: each indicator's run charts, CPC by CPC against Scotland, grouped as the catalogue's
sections group them, each with its definition and commentary.

Scotland's series is drawn in each CPC's panel only where the two are on one scale (a rate, a
percentage, a median); a count for Scotland dwarfs any CPC's, so there it has its own panel only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from cpmds.report.charts import Panel, run_chart_figure
from cpmds.report.published import Area
from cpmds.report.render import Charts
from cpmds.report.runchart import run_chart

COMPARABLE_UNITS = ("rate_per_1000", "percent", "median_days")
UNIT_AXIS = {
    "count": "count",
    "distinct_children": "children",
    "rate_per_1000": "rate per 1,000",
    "percent": "%",
    "median_days": "median days",
}


def indicator_sections(
    catalogue: list[dict[str, Any]],
    groups: list[dict[str, Any]],
    months: list[dt.date],
    rows: pl.DataFrame,
    areas: dict[tuple[str, str], Area],
    charts: Charts | None = None,
) -> list[dict[str, Any]]:
    """The catalogue's sections, each with its indicators' definitions and charts (drawn here,
    or with ``charts`` asked for there, each ``svg`` a :class:`~cpmds.report.render.Pending`
    until ``charts.draw()``)."""
    by_id = {indicator["indicator_id"]: indicator for indicator in catalogue}
    series = _series(rows, months)
    labels = [f"{month:%b %y}" for month in months]
    sections = []
    for group in groups:
        indicators = []
        for indicator_id in group["members"]:
            indicator = by_id.get(indicator_id)
            if indicator is None:
                continue
            panels = _panels(indicator, series.get(indicator_id, {}), areas)
            indicators.append(
                {
                    **indicator,
                    "anchor": indicator_id.lower(),
                    "panels": len(panels),
                    "signals": sum(len(p.chart.signals) for p in panels),
                    "svg": _chart(charts, panels, labels, UNIT_AXIS[indicator["unit"]])
                    if panels
                    else None,
                    "without_values": _without_values(series.get(indicator_id, {}), areas),
                }
            )
        sections.append({**group, "indicators": indicators})
    return sections


def _chart(charts: Charts | None, panels: list[Panel], labels: list[str], unit: str):
    if charts is None:
        return run_chart_figure(panels, labels, unit)
    return charts.ask("run_chart", panels, labels, unit)


def _series(rows: pl.DataFrame, months: list[dt.date]) -> dict[str, dict[tuple, list]]:
    """indicator -> (area type, area code) -> one value or None per month."""
    position = {month: index for index, month in enumerate(months)}
    series: dict[str, dict[tuple, list]] = {}
    if rows.is_empty():
        return series
    for indicator, area_type, area_code, start, value, suppressed in rows.iter_rows():
        values = series.setdefault(indicator, {}).setdefault(
            (area_type, area_code), [None] * len(months)
        )
        values[position[start]] = None if suppressed else value
    return series


def _panels(
    indicator: dict[str, Any], series: dict[tuple, list], areas: dict[tuple[str, str], Area]
) -> list[Panel]:
    scotland_key = next((key for key in series if key[0] == "scotland"), None)
    scotland = series.get(scotland_key) if scotland_key else None
    panels = []
    if scotland is not None and any(v is not None for v in scotland):
        panels.append(Panel("Scotland", scotland, run_chart(scotland)))
    comparable = indicator["unit"] in COMPARABLE_UNITS and scotland is not None
    for key, area in areas.items():
        values = series.get(key)
        if key[0] != "cpc" or values is None or all(v is None for v in values):
            continue
        panels.append(Panel(area.name, values, run_chart(values), scotland if comparable else None))
    return panels


def _without_values(series: dict[tuple, list], areas: dict[tuple[str, str], Area]) -> list[str]:
    """CPCs with no published value in the 24 months (no files cover them, or all suppressed)."""
    return [
        area.name
        for key, area in areas.items()
        if key[0] == "cpc" and all(v is None for v in series.get(key, [None]))
    ]
