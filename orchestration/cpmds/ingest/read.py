"""Read one delivered file into a table of strings named as the contract names them (step 3).

Nothing is typed here: every cell stays text as delivered, so that ``normalise_frame`` alone decides
a value means. The frame has ``_row`` (the row number a person sees in Excel: the header is row 1),
then every contract column in contract order (a column the file lacks is all null), then the
deletion column. Rows with nothing in any cell are dropped: they are not records.
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from cpmds.contract import Contract, Dataset, load_contract
from cpmds.ingest.rejection import Rejection

ROW_COLUMN = "_row"
HEADER_ROW = 1

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class ColumnProblem:
    """A header finding. ``column`` is the contract name, except for ``unknown_column``, where it is
    the header text as delivered (data from the file: the caller decides whether to show it)."""

    problem: Literal["unknown_column", "missing_required_column", "duplicate_column"]
    severity: Severity
    column: str
    position: int | None
    """The file's column number (1 is the first), or None for a column the file lacks."""


@dataclass(frozen=True)
class FileRead:
    frame: pl.DataFrame
    encoding: str
    """``utf-8-sig``, ``utf-8`` or ``windows-1252`` for CSV; ``xlsx`` for a workbook."""
    column_problems: tuple[ColumnProblem, ...]
    blank_rows_dropped: int

    @property
    def missing_required_columns(self) -> tuple[str, ...]:
        return self._columns_with("missing_required_column")

    @property
    def duplicate_columns(self) -> tuple[str, ...]:
        return self._columns_with("duplicate_column")

    @property
    def unknown_columns(self) -> tuple[str, ...]:
        return self._columns_with("unknown_column")

    @property
    def header_ok(self) -> bool:
        """False when the file must be quarantined for its header alone."""
        return not any(problem.severity == "error" for problem in self.column_problems)

    def _columns_with(self, problem: str) -> tuple[str, ...]:
        return tuple(p.column for p in self.column_problems if p.problem == problem)


def read_delivery(
    path: Path,
    dataset: Dataset,
    extension: str | None = None,
    contract: Contract | None = None,
) -> FileRead | Rejection:
    """Read ``path`` as ``dataset``; ``extension`` (``csv``/``xlsx``) defaults to the file's suffix.

    Problems with the file as a whole come back as a :class:`Rejection`; header problems are listed
    in :attr:`FileRead.column_problems` for the caller to quarantine on. ``OSError`` propagates: a
    file that cannot be opened is the pipeline's problem, not the partner's.
    """
    contract = contract or load_contract()
    kind = (extension or path.suffix.removeprefix(".")).lower()
    if kind == "csv":
        sheet = _read_csv_cells(path, contract)
    elif kind == "xlsx":
        sheet = _read_xlsx_cells(path)
    else:
        return Rejection.because("unsupported_extension")
    if isinstance(sheet, Rejection):
        return sheet
    cells, encoding = sheet
    return _tabulate(cells, encoding, dataset, contract)


def header_key(text: str, ignored_characters: tuple[str, ...]) -> str:
    """How a header is compared: case-folded, without the contract's ignored characters."""
    return text.translate({ord(character): None for character in ignored_characters}).casefold()


def _read_csv_cells(path: Path, contract: Contract) -> tuple[pl.DataFrame, str] | Rejection:
    decoded = _decode(path.read_bytes())
    if isinstance(decoded, Rejection):
        return decoded
    utf8, encoding = decoded
    first_line = utf8.split(b"\n", 1)[0]
    if not first_line.strip():
        return Rejection.because("no_header_row")
    try:
        cells = pl.read_csv(
            io.BytesIO(utf8),
            has_header=False,
            infer_schema=False,
            separator=str(contract.formats.csv["delimiter"]),
            quote_char='"',
        )
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError):
        # Polars' messages quote the offending text, which may be an identifier: never pass them on.
        return Rejection.because("malformed_csv")
    return cells, encoding


def _decode(raw: bytes) -> tuple[bytes, str] | Rejection:
    """The file as UTF-8 bytes without a BOM, and the encoding it arrived in.

    Decoding in Python first (a C loop, not per cell) lets us tell undecodable files apart and hand
    Polars plain UTF-8; Windows-1252 has no invalid bytes apart from five unassigned ones, so a NUL
    byte is what marks a binary file posing as text.
    """
    if b"\x00" in raw:
        return Rejection.because("undecodable")
    if raw.startswith(codecs.BOM_UTF8):
        body = raw[len(codecs.BOM_UTF8) :]
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return Rejection.because("undecodable")
        return body, "utf-8-sig"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return raw, "utf-8"
    try:
        return raw.decode("windows-1252").encode("utf-8"), "windows-1252"
    except UnicodeDecodeError:
        return Rejection.because("undecodable")


def _read_xlsx_cells(path: Path) -> tuple[pl.DataFrame, str] | Rejection:
    try:
        cells = pl.read_excel(
            path,
            engine="calamine",
            sheet_id=1,
            has_header=False,
            drop_empty_rows=False,
            drop_empty_cols=False,
            raise_if_empty=False,
            # Every cell as text: integers without ".0", dates as ISO text. skip_rows=0 keeps blank
            # leading rows, so frame row n is sheet row n + 1 whatever the used range is.
            read_options={"dtypes": "string", "skip_rows": 0},
        )
    except Exception:  # fastexcel raises its own error classes for every kind of bad workbook
        return Rejection.because("unreadable_xlsx")
    return cells, "xlsx"


def _tabulate(
    cells: pl.DataFrame, encoding: str, dataset: Dataset, contract: Contract
) -> FileRead | Rejection:
    """Turn the cell grid (header in its first row) into the dataset's string frame."""
    if cells.height == 0:
        return Rejection.because("no_header_row")
    header = [text if text is not None else "" for text in cells.row(0)]
    if not any(text.strip() for text in header):
        return Rejection.because("no_header_row")

    ignored = contract.formats.header_ignored_characters
    deletion = contract.formats.deletion_column
    wanted = (*dataset.column_names, deletion)
    name_by_key = {header_key(name, ignored): name for name in wanted}
    body = cells.slice(1)

    source_of: dict[str, str] = {}
    problems: list[ColumnProblem] = []
    for position, (source, text) in enumerate(zip(cells.columns, header, strict=True), start=1):
        name = name_by_key.get(header_key(text, ignored))
        if name is None:
            if text.strip() or body[source].str.strip_chars().str.len_chars().max():
                problems.append(ColumnProblem("unknown_column", "warning", text, position))
        elif name in source_of:
            problems.append(ColumnProblem("duplicate_column", "error", name, position))
        else:
            source_of[name] = source
    problems += [
        ColumnProblem("missing_required_column", "error", name, None)
        for name in dataset.required_columns
        if name not in source_of
    ]

    # Blank when every cell is null or whitespace: one expression over all columns.
    stripped = pl.col(cells.columns).str.strip_chars()
    is_blank = pl.concat_str(stripped, ignore_nulls=True).fill_null("") == ""
    frame = (
        body.lazy()  # one query, one collect: Polars' fixed cost per query outweighs small files
        .with_row_index(ROW_COLUMN, offset=HEADER_ROW + 1)
        .filter(~is_blank)
        .select(
            pl.col(ROW_COLUMN).cast(pl.Int64),
            *(
                pl.col(source_of[name]).alias(name)
                if name in source_of
                else pl.lit(None, pl.Utf8).alias(name)
                for name in wanted
            ),
        )
        .collect()
    )
    return FileRead(
        frame=frame,
        encoding=encoding,
        column_problems=tuple(problems),
        blank_rows_dropped=body.height - frame.height,
    )
