"""The accessible published spreadsheet, ``<home>/exports/cpmds_published_<run_id>.xlsx``, built
with ``gptables`` to the Government Statistical Service's guidance on releasing statistics in
spreadsheets: a cover sheet, a contents sheet, a notes sheet and one table per sheet, each with a
title and a source, no merged cells and no blank rows or cells.

It reads only the shareable publication file (``cpmds_publication.duckdb``: the disclosure-
controlled ``publication.indicator_values`` and the dimensions), never the restricted warehouse, so
nothing unsuppressed can reach it. Section titles and breakdown labels come from the catalogue.

What goes in, to keep it a size a person can use (the CSV export and the publication file hold
every row):

- one sheet per section of the catalogue (``groups.yaml``, ``kind: section``), its indicators one
  after another;
- the total rows only; an indicator without a total row (MDS24) gives its breakdown rows instead;
- every statistical year and every quarter published, and the latest 24 months (the run charts'
  window);
- councils, CPCs and Scotland in rows (only the areas an indicator has any figure for), periods in
  columns; each indicator's numbers as rows of their own (the count, and for a rate the rate, for a
  percentage the numerator, the base and the percentage, for a median the number of intervals and
  the median);
- values rounded as published (rules.yaml ``published_decimals``, half away from zero).

Cells without a number carry the GSS shorthand, each explained on every sheet and in the notes:
``[c]`` suppressed by disclosure control, ``[z]`` not applicable (the indicator is not computed for
that kind of period, a percentage of nothing, a median of no intervals), ``[x]`` not available (a
sender's files do not cover the period, or no population is loaded for a rate).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
from pandas.errors import PandasDeprecationWarning

from cpmds.catalogue import Catalogue, Group, load_catalogue

LATEST_MONTHS = 24
SUPPRESSED = "[c]"
NOT_APPLICABLE = "[z]"
NOT_AVAILABLE = "[x]"
PERIOD_ORDER = {"year": 0, "quarter": 1, "month": 2}
AREA_TYPE_LABELS = {
    "council": "Council",
    "cpc": "Child protection committee",
    "scotland": "Country",
}
ROW_COLUMNS = ("Indicator", "Indicator name", "Breakdown", "Measure", "Area type", "Area code")
AREA_NAME = "Area name"
CELL_KEY = ("breakdown", "breakdown_value", "area_type", "area_code")  # a row of a table
SOURCE = (
    "Child protection minimum dataset: extracts from councils' social work and education "
    "services, Police Scotland, NHS boards, the Scottish Children's Reporter Administration, "
    "voluntary-sector family support providers and National Records of Scotland, processed by "
    "cpmds (run {run_id})"
)
SYMBOL_NOTES = {
    "suppressed": (
        f"{SUPPRESSED} suppressed to protect confidentiality: statistical disclosure control "
        "hides any count from 1 to 4 (a rate, percentage or median whose count, base or, for a "
        "percentage, complement is from 1 to 4), and then further cells from which a hidden one "
        "could be worked out by subtraction, or where the same count is published again. Zero is "
        "shown."
    ),
    "not_applicable": (
        f"{NOT_APPLICABLE} not applicable: the indicator is not computed for this kind of period "
        "(education indicators are for statistical years only), or there is nothing to compute "
        "it over (a percentage whose base is 0, a median of no intervals)."
    ),
    "not_available": (
        f"{NOT_AVAILABLE} not available: the files of a partner the indicator needs do not cover "
        "every month of the period for this area (not yet received, missing, or quarantined), or, "
        "for a rate, no population estimate is loaded."
    ),
}


@dataclass(frozen=True)
class Measure:
    """One number of an indicator's cell, shown as a row of its own."""

    label: str
    column: str
    decimals: int
    missing: str
    """The shorthand when the row exists, is not suppressed, and this number is empty."""


@dataclass(frozen=True)
class Published:
    values: pl.DataFrame
    indicators: pl.DataFrame
    areas: pl.DataFrame
    periods: pl.DataFrame
    run_id: str


def read_published(publication_file: Path) -> Published:
    """The publication schema and the dimensions, from the shareable file (read-only)."""
    with duckdb.connect(str(publication_file), read_only=True) as connection:
        values = connection.sql(
            "select indicator_id, area_type, area_code, period_type, period_label, breakdown, "
            "breakdown_value, numerator, denominator, value, suppressed, run_id "
            "from publication.indicator_values"
        ).pl()
        indicators = connection.sql(
            "select indicator_id, name, unit, unit_text, numerator_unit, total_row, "
            "period_types, sort_order from marts.dim_indicator order by sort_order"
        ).pl()
        areas = connection.sql(
            "select area_type, area_code, area_name, sort_order from marts.dim_area"
        ).pl()
        periods = connection.sql(
            "select period_type, period_label, period_start from marts.dim_period"
        ).pl()
    run_ids = values["run_id"].drop_nulls().unique().to_list()
    return Published(values, indicators, areas, periods, run_ids[0] if run_ids else "unknown")


def period_columns(published: Published) -> list[tuple[str, str]]:
    """(period type, label) of the columns: every year and quarter published, then the latest
    :data:`LATEST_MONTHS` months, each kind in date order."""
    present = published.values.select("period_type", "period_label").unique()
    dated = present.join(published.periods, on=["period_type", "period_label"], how="left").sort(
        "period_start", "period_label"
    )
    months = dated.filter(pl.col("period_type") == "month").tail(LATEST_MONTHS)
    kept = pl.concat([dated.filter(pl.col("period_type") != "month"), months])
    ordered = sorted(
        kept.iter_rows(named=True),
        key=lambda row: (PERIOD_ORDER[row["period_type"]], row["period_start"] or dt.date.min),
    )
    return [(row["period_type"], row["period_label"]) for row in ordered]


def measures(indicator: dict, catalogue: Catalogue) -> list[Measure]:
    """The numbers an indicator's rows show, from its unit."""
    decimals = catalogue.rules.statistics.published_decimals
    counted = "Children" if indicator["numerator_unit"] == "distinct_children" else "Number"
    unit = indicator["unit"]
    if unit in ("count", "distinct_children"):
        return [Measure(counted, "numerator", 0, NOT_AVAILABLE)]
    if unit == "rate_per_1000":
        rate = indicator["unit_text"].split(";")[-1].strip()
        return [
            Measure(counted, "numerator", 0, NOT_AVAILABLE),
            Measure(rate[:1].upper() + rate[1:], "value", decimals["rate_per_1000"], NOT_AVAILABLE),
        ]
    if unit == "percent":
        return [
            Measure("Number", "numerator", 0, NOT_AVAILABLE),
            Measure("Out of (base)", "denominator", 0, NOT_AVAILABLE),
            Measure("Percentage", "value", decimals["percent"], NOT_APPLICABLE),
        ]
    if unit == "median_days":
        return [
            Measure("Number of intervals", "numerator", 0, NOT_AVAILABLE),
            Measure("Median (days)", "value", decimals["median_days"], NOT_APPLICABLE),
        ]
    raise ValueError(f"{indicator['indicator_id']}: no measures for unit {unit!r}")


def rounded(value: float, decimals: int) -> float | int:
    """Rounded half away from zero, as published (Python's round() rounds half to even)."""
    step = Decimal(1).scaleb(-decimals)
    number = Decimal(repr(value)).quantize(step, rounding=ROUND_HALF_UP)
    return int(number) if decimals == 0 else float(number)


def section_table(
    section: Group, published: Published, columns: list[tuple[str, str]], catalogue: Catalogue
) -> pd.DataFrame:
    """One sheet's table: a row per indicator, breakdown row, measure and area; a column per
    period."""
    areas = {
        (row["area_type"], row["area_code"]): row for row in published.areas.iter_rows(named=True)
    }
    indicators = {row["indicator_id"]: row for row in published.indicators.iter_rows(named=True)}
    shown = pl.DataFrame(
        columns, schema={"period_type": pl.String, "period_label": pl.String}, orient="row"
    )
    rows: list[list[object]] = []
    for indicator_id in section.members:
        indicator = indicators[indicator_id]
        values = published.values.filter(pl.col("indicator_id") == indicator_id)
        if indicator["total_row"]:
            values = values.filter(pl.col("breakdown") == "total")
        # (breakdown, value, area type, area code) -> (period type, label) -> publication row:
        # a key for every row (in the order they first come), the rows of the periods shown.
        cells: dict[tuple, dict[tuple[str, str], dict]] = defaultdict(dict)
        for key in values.select(CELL_KEY).unique(maintain_order=True).iter_rows():
            cells[key] = {}
        in_columns = values.join(
            shown, on=["period_type", "period_label"], how="semi", nulls_equal=True
        )
        for row in in_columns.iter_rows(named=True):
            key = (row["breakdown"], row["breakdown_value"], row["area_type"], row["area_code"])
            cells[key][(row["period_type"], row["period_label"])] = row
        if not cells:
            # No figure anywhere: Scotland's row still says why, so every indicator is listed.
            scotland = next(key for key in areas if key[0] == "scotland")
            cells.update({(*row, *scotland): {} for row in _expected_rows(indicator_id, catalogue)})
        by_breakdown: dict[tuple[str, str], list[tuple]] = defaultdict(list)
        for key in sorted(
            cells,
            key=lambda key: (_breakdown_order(catalogue, *key[:2]), areas[key[2:]]["sort_order"]),
        ):
            by_breakdown[key[:2]].append(key)
        for (breakdown, code), keys in by_breakdown.items():
            label = _breakdown_label(catalogue, breakdown, code)
            for measure in measures(indicator, catalogue):
                for key in keys:
                    area = areas[key[2:]]
                    rows.append(
                        [
                            indicator_id,
                            indicator["name"],
                            label,
                            measure.label,
                            AREA_TYPE_LABELS[area["area_type"]],
                            area["area_code"],
                            area["area_name"],
                            *(_cell(cells[key].get(p), measure, p, indicator) for p in columns),
                        ]
                    )
    headings = [*ROW_COLUMNS, AREA_NAME, *(label for _, label in columns)]
    return pd.DataFrame(rows, columns=headings, dtype=object)


def _cell(row: dict | None, measure: Measure, period: tuple[str, str], indicator: dict) -> object:
    if row is None:
        computed = period[0] in (indicator["period_types"] or [])
        return NOT_AVAILABLE if computed else NOT_APPLICABLE
    if row["suppressed"]:
        return SUPPRESSED
    number = row[measure.column]
    if number is None:
        return measure.missing
    return rounded(number, measure.decimals)


def _expected_rows(indicator_id: str, catalogue: Catalogue) -> list[tuple[str, str]]:
    """(breakdown, value) of the rows shown for an indicator: its total, or with no total row
    every value of its breakdowns."""
    indicator = catalogue.indicator_by_id[indicator_id]
    if indicator.total_row:
        return [("total", "total")]
    return [
        (name, code)
        for name in indicator.breakdown_names
        for code in catalogue.breakdown_codes(indicator_id, name)
    ]


def _breakdown_order(catalogue: Catalogue, breakdown: str, code: str) -> int:
    if breakdown == "total":
        return -1
    return catalogue.breakdown_by_name[breakdown].codes.index(code)


def _breakdown_label(catalogue: Catalogue, breakdown: str, code: str) -> str:
    if breakdown == "total":
        return "All"
    found = catalogue.breakdown_by_name[breakdown]
    label = next(value.label for value in found.values if value.code == code)
    return f"{found.label}: {label}"


def notes_table(published: Published, catalogue: Catalogue) -> pd.DataFrame:
    """The notes sheet's rows: the three symbols, then every indicator's catalogue entry."""
    references = list(SYMBOL_NOTES)
    texts = list(SYMBOL_NOTES.values())
    for indicator in catalogue.indicators:
        references.append(indicator.id)
        texts.append(_indicator_note(indicator.id, catalogue))
    return pd.DataFrame({"Note reference": references, "Note text": texts})


def _indicator_note(indicator_id: str, catalogue: Catalogue) -> str:
    indicator = catalogue.indicator_by_id[indicator_id]
    parts = [
        f"{indicator.id} {indicator.name} ({indicator.unit_text}).",
        f"Definition: {_plain(indicator.definition)}",
        f"Counted: {_plain(indicator.numerator)}",
    ]
    if indicator.denominator.text:
        parts.append(f"Out of: {_plain(indicator.denominator.text)}")
    if indicator.commentary:
        parts.append(f"How to read it: {_plain(indicator.commentary)}")
    return " ".join(parts)


def _plain(text: str) -> str:
    """Catalogue prose (Markdown) as plain spreadsheet text."""
    return " ".join(text.replace("`", "").split())


def write_workbook(publication_file: Path, target: Path) -> Path:
    """Write the spreadsheet of the shareable file ``publication_file`` to ``target``, through a
    hidden sibling and one rename (a reader never sees half a workbook)."""
    import gptables as gpt

    catalogue = load_catalogue()
    published = read_published(publication_file)
    columns = period_columns(published)
    source = SOURCE.format(run_id=published.run_id)
    legend = [
        f"{SUPPRESSED} suppressed to protect confidentiality$$suppressed$$",
        f"{NOT_APPLICABLE} not applicable$$not_applicable$$",
        f"{NOT_AVAILABLE} not available$$not_available$$",
    ]
    sheets = {}
    for number, section in enumerate(catalogue.sections, start=1):
        table = section_table(section, published, columns, catalogue)
        # One line per indicator: gptables puts a line's note markers at its end.
        indicators = [
            f"{member}: {catalogue.indicator_by_id[member].name}$${member}$$"
            for member in section.members
        ]
        sheets[f"Table_{number}"] = gpt.GPTable(
            table=table,
            table_name=f"table_{number}_{section.id}",
            title=f"Table {number}: {section.title}, by area and period",
            subtitles=[
                _plain(section.description),
                *indicators,
                "Columns: statistical years (1 August to 31 July), then calendar quarters, then "
                f"the latest {LATEST_MONTHS} months. Rows: each indicator's numbers for every "
                "council, child protection committee and Scotland with a figure.",
            ],
            instructions="This worksheet contains one table. Some cells refer to notes, which "
            "can be found on the Notes worksheet.",
            legend=legend,
            source=f"Source: {source}",
            index_columns={1: 0},
        )
    cover = gpt.Cover(
        title="Child protection minimum dataset: published indicators",
        intro=[
            "The minimum dataset's indicators for each council, child protection committee and "
            "Scotland, as published by the run named below, with disclosure control applied.",
            "One table per worksheet, one worksheet per section of the indicator catalogue; the "
            "Contents worksheet lists them and the Notes worksheet defines every indicator.",
        ],
        about=[
            f"Source: {source}.",
            "Counts are whole numbers; rates (per 1,000 children aged 0 to 17 unless stated) and "
            "percentages are rounded to one decimal place and medians to whole days, half away "
            "from zero.",
            "Shorthand: [c] suppressed to protect confidentiality, [z] not applicable, "
            "[x] not available; the Notes worksheet explains each.",
            "Every period and breakdown is in the CSV export and the publication file published "
            "with this workbook.",
        ],
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    hidden = target.with_name(f".{target.stem}.partial{target.suffix}")
    with warnings.catch_warnings():
        # gptables 2.0 uses pandas idioms pandas 3 deprecates: its noise, not ours to act on.
        warnings.filterwarnings("ignore", category=PandasDeprecationWarning, module="gptables")
        gpt.write_workbook(
            filename=str(hidden),
            sheets=sheets,
            cover=cover,
            notes_table=notes_table(published, catalogue),
            # Text is text: nothing from the data becomes a formula or a link.
            workbook_options={"strings_to_formulas": False, "strings_to_urls": False},
        )
    hidden.replace(target)
    return target
