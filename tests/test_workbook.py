"""The accessible published workbook, ``<home>/exports/cpmds_published_<run_id>.xlsx``: written by a
published run, opened by openpyxl and by a real spreadsheet program (LibreOffice), laid out as the
GSS guidance asks (cover, contents, notes, one table per sheet, no merged cells, no blank rows or
cells), one sheet per catalogue section, and every number as the publication schema has it:
``[c]`` wherever it suppressed a cell, never a count from 1 to 4.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import openpyxl
import pytest
from published_demo import published_demo
from pypdf import PdfReader

from cpmds.catalogue import load_catalogue
from cpmds.publish.atomic import published_path
from cpmds.publish.outputs import PUBLICATION_FILE
from cpmds.publish.workbook import (
    AREA_TYPE_LABELS,
    LATEST_MONTHS,
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    SUPPRESSED,
    measures,
    rounded,
)

CATALOGUE = load_catalogue()
COUNT_MEASURES = {"Number", "Children", "Out of (base)", "Number of intervals"}
SYMBOLS = {SUPPRESSED, NOT_APPLICABLE, NOT_AVAILABLE}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return published_demo(tmp_path_factory.getbasetemp() / "published-demo")


@pytest.fixture(scope="module")
def workbook_path(demo) -> Path:
    (path,) = (demo.home / "exports").glob("cpmds_published_*.xlsx")
    return path


@pytest.fixture(scope="module")
def workbook(workbook_path):
    return openpyxl.load_workbook(workbook_path)


@pytest.fixture(scope="module")
def publication(demo) -> list[dict]:
    shareable = published_path(demo.home).with_name(PUBLICATION_FILE)
    with duckdb.connect(str(shareable), read_only=True) as connection:
        cursor = connection.execute(
            "select v.*, i.name, i.unit_text, i.numerator_unit, i.total_row "
            "from publication.indicator_values v join marts.dim_indicator i using (indicator_id)"
        )
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def table_of(sheet) -> tuple[list[str], list[tuple]]:
    """A table sheet's column headings and data rows (the rows under the heading row)."""
    rows = list(sheet.iter_rows(values_only=True))
    (heading,) = [index for index, row in enumerate(rows) if row[0] == "Indicator"]
    return list(rows[heading]), rows[heading + 1 :]


def breakdown_label(row: dict) -> str:
    if row["breakdown"] == "total":
        return "All"
    breakdown = CATALOGUE.breakdown_by_name[row["breakdown"]]
    value = next(v for v in breakdown.values if v.code == row["breakdown_value"])
    return f"{breakdown.label}: {value.label}"


def test_a_published_run_writes_the_workbook_beside_the_csv_export(
    demo, workbook_path, publication
):
    run_id = publication[0]["run_id"]
    assert workbook_path.name == f"cpmds_published_{run_id}.xlsx"
    assert (demo.home / "exports" / f"publication_indicator_values_{run_id}.csv").is_file()
    assert not list((demo.home / "exports").glob(".*"))  # no partial file left behind


def test_cover_contents_notes_and_one_sheet_per_section(workbook):
    sections = CATALOGUE.sections
    tables = [f"Table_{number}" for number in range(1, len(sections) + 1)]
    assert workbook.sheetnames == ["Cover", "Contents", "Notes", *tables]
    assert "Child protection minimum dataset" in workbook["Cover"]["A1"].value
    _, contents = table_of_contents(workbook["Contents"])
    for name, section in zip(tables, sections, strict=True):
        title = workbook[name]["A1"].value
        assert section.title in title
        assert (name, title) in contents
        _, rows = table_of(workbook[name])
        assert {row[0] for row in rows} == set(section.members), name  # every indicator listed


def table_of_contents(sheet) -> tuple[list, list[tuple]]:
    rows = list(sheet.iter_rows(values_only=True))
    (heading,) = [index for index, row in enumerate(rows) if row[0] == "Sheet name"]
    return list(rows[heading]), [tuple(row[:2]) for row in rows[heading + 1 :]]


def test_the_notes_define_every_indicator_and_every_symbol(workbook):
    notes = " ".join(
        str(cell) for row in workbook["Notes"].iter_rows(values_only=True) for cell in row if cell
    )
    for indicator in CATALOGUE.indicators:
        assert f"{indicator.id} {indicator.name}" in notes
        assert " ".join(indicator.definition.replace("`", "").split()) in notes
    for symbol in SYMBOLS:
        assert f"{symbol} " in notes
    for name in workbook.sheetnames[3:]:
        legend = [row[0] for row in workbook[name].iter_rows(values_only=True) if row[0]]
        assert all(any(line.startswith(symbol) for line in legend) for symbol in SYMBOLS)
        assert any(line.startswith("Source: ") for line in legend), name


def test_no_merged_cells_no_blank_rows_and_no_empty_cells(workbook):
    for sheet in workbook.worksheets:
        assert not sheet.merged_cells.ranges, sheet.title
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            assert any(cell not in (None, "") for cell in row), (sheet.title, number)
    for name in workbook.sheetnames[3:]:
        headings, rows = table_of(workbook[name])
        assert rows
        for row in rows:
            assert all(cell not in (None, "") for cell in row[: len(headings)]), (name, row)


def test_periods_are_the_years_the_quarters_and_the_latest_months(workbook, publication):
    headings, _ = table_of(workbook["Table_1"])
    periods = headings[7:]
    published = {
        (row["period_start"], row["period_label"], row["period_type"]) for row in publication
    }
    by_type = {
        kind: [label for _, label, of_kind in sorted(published) if of_kind == kind]
        for kind in ("year", "quarter", "month")
    }
    assert by_type["month"] and by_type["quarter"] and by_type["year"]
    assert periods == by_type["year"] + by_type["quarter"] + by_type["month"][-LATEST_MONTHS:]


def test_every_cell_is_the_publications_and_c_where_it_suppressed(workbook, publication):
    cells = {}
    periods: set[str] = set()
    for name in workbook.sheetnames[3:]:
        headings, rows = table_of(workbook[name])
        periods |= set(headings[7:])
        for row in rows:
            indicator, _, breakdown, measure, area_type, area_code, _ = row[:7]
            for period, cell in zip(headings[7:], row[7:], strict=True):
                cells[(indicator, breakdown, measure, area_type, area_code, period)] = cell
    checked = suppressed = 0
    for row in publication:
        if row["total_row"] and row["breakdown"] != "total":
            continue  # breakdown rows are in the CSV export, not the workbook
        for measure in measures(row, CATALOGUE):
            key = (
                row["indicator_id"],
                breakdown_label(row),
                measure.label,
                AREA_TYPE_LABELS[row["area_type"]],
                row["area_code"],
                row["period_label"],
            )
            if key[-1] not in periods:
                continue  # an older month, outside the workbook's window
            cell = cells[key]
            if row["suppressed"]:
                assert cell == SUPPRESSED, key
                suppressed += 1
            elif row[measure.column] is None:
                assert cell in (NOT_APPLICABLE, NOT_AVAILABLE), key
            else:
                assert cell == rounded(row[measure.column], measure.decimals), key
            checked += 1
    assert suppressed > 50 and checked > 1000  # the comparison is not vacuous
    assert sum(cell == SUPPRESSED for cell in cells.values()) == suppressed


def test_no_count_from_1_to_4_is_shown(workbook):
    shown = 0
    for name in workbook.sheetnames[3:]:
        _, rows = table_of(workbook[name])
        for row in rows:
            if row[3] not in COUNT_MEASURES:
                continue
            numbers = [cell for cell in row[7:] if not isinstance(cell, str)]
            assert not [n for n in numbers if 1 <= n <= 4], (name, row[:7])
            shown += len(numbers)
    assert shown > 500


def test_rounding_is_half_away_from_zero():
    assert rounded(0.25, 1) == 0.3 and rounded(-0.25, 1) == -0.3
    assert rounded(2.5, 0) == 3 and rounded(3.5, 0) == 4 and rounded(-2.5, 0) == -3
    assert rounded(12.35, 1) == 12.4 and isinstance(rounded(7.0, 0), int)


def test_libreoffice_opens_it(workbook_path, tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: `make test` installs Debian's package")
    profile = tmp_path / "profile"  # its own profile: another soffice running here cannot clash
    result = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(workbook_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    pdf = tmp_path / workbook_path.with_suffix(".pdf").name
    assert result.returncode == 0 and pdf.is_file(), result.stdout + result.stderr
    reader = PdfReader(pdf)
    assert len(reader.pages) > 3
    assert "Child protection minimum dataset" in reader.pages[0].extract_text()
