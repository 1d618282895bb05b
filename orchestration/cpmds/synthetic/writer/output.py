"""A delivery's bytes: CSV text in the sender's encoding, or an XLSX workbook."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import polars as pl
import xlsxwriter

from cpmds.synthetic.writer.styles import SenderStyle

Overrides = dict[str, dict[int, str]]  # column -> row index (0 = first data row) -> text written
# What an old binary Excel workbook saved under a .csv name starts with.
OLE2_SIGNATURE = bytes.fromhex("d0cf11e0a1b11ae1")
# Bytes Windows-1252 leaves undefined: with them the file is neither UTF-8 nor Windows-1252.
UNDEFINED_IN_WINDOWS_1252 = b"\x81\x8d\x8f\x90\x9d"


def with_overrides(cells: pl.DataFrame, overrides: Overrides) -> pl.DataFrame:
    """Text cells forced into a CSV rendering (defects the typed rows cannot hold)."""
    for name, by_row in sorted(overrides.items()):
        values = cells.get_column(name).to_list()
        for row, text in by_row.items():
            values[row] = text
        cells = cells.with_columns(pl.Series(name, values, dtype=pl.Utf8))
    return cells


def _quoted(field: str) -> str:
    """RFC 4180: a field with a comma, quote or line break goes in quotes, quotes doubled."""
    if any(character in field for character in ',"\r\n'):
        return '"' + field.replace('"', '""') + '"'
    return field


def csv_bytes(cells: pl.DataFrame, headers: list[str], style: SenderStyle) -> bytes:
    header = ",".join(_quoted(name) for name in headers) + style.line_ending
    body = cells.write_csv(
        include_header=False,
        line_terminator=style.line_ending,
        null_value=style.missing_token,
        quote_style="necessary",
    )
    return (header + body).encode(style.encoding)


def xlsx_bytes(
    cells: pl.DataFrame,
    headers: list[str],
    style: SenderStyle,
    chi_columns: tuple[str, ...],
    overrides: Overrides,
    created: dt.datetime,
) -> bytes:
    buffer = io.BytesIO()
    # in_memory keeps xlsxwriter's fixed zip timestamps; `created` fixes the document properties:
    # together they make the same delivery the same bytes on every run.
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.set_properties({"created": created})
    sheet = workbook.add_worksheet(style.sheet_name)
    date_cell = workbook.add_format({"num_format": style.excel_date_format})
    for index, header in enumerate(headers):
        sheet.write_string(0, index, header)
    for index, name in enumerate(cells.columns):
        series = cells.get_column(name)
        forced = overrides.get(name, {})
        is_date = series.dtype == pl.Date
        is_number = series.dtype.is_integer()
        as_number = style.chi_as_number and name in chi_columns
        for row, value in enumerate(series.to_list()):
            if row in forced:
                sheet.write_string(row + 1, index, forced[row])
            elif value is None:
                continue
            elif is_date:
                sheet.write_datetime(row + 1, index, value, date_cell)
            elif is_number:
                sheet.write_number(row + 1, index, value)
            elif as_number and value.isdigit():
                sheet.write_number(row + 1, index, int(value))
            else:
                sheet.write_string(row + 1, index, value)
    workbook.close()
    return buffer.getvalue()


def undecodable_bytes(rng: np.random.Generator, size: int = 2048) -> bytes:
    """A binary workbook saved as .csv: NULs, and bytes no encoding of the contract reads."""
    body = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
    return OLE2_SIGNATURE + b"\x00" * 8 + UNDEFINED_IN_WINDOWS_1252 + body
