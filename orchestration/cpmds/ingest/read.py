"""Read one delivered file into a table of strings named as the contract names them (step 3).

Nothing is typed here: every cell stays text as delivered, so that ``normalise_frame`` alone decides
a value means. The frame has ``_row`` (the row number a person sees in Excel: the header is row 1),
then every contract column in contract order (a column the file lacks is all null), then the
deletion column. Rows with nothing in any cell are dropped: they are not records.
"""

from __future__ import annotations

import codecs
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
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
    (result,) = tabulate_deliveries([load_delivery(path, dataset, extension, contract)], contract)
    return result


@dataclass(frozen=True)
class LoadedFile:
    """A delivered file's contents, loaded but not yet tabulated (:func:`load_delivery`)."""

    dataset: Dataset
    encoding: str
    text: bytes | None = None
    """A CSV's bytes as UTF-8 without a BOM."""
    cells: pl.DataFrame | None = None
    """A workbook's cell grid."""


def load_delivery(
    path: Path,
    dataset: Dataset,
    extension: str | None = None,
    contract: Contract | None = None,
) -> LoadedFile | Rejection:
    """The part of :func:`read_delivery` that touches the file: its bytes, decoded (CSV), or its
    first worksheet's cells (XLSX). ``OSError`` propagates. :func:`tabulate_deliveries` does the
    rest, for many files at once."""
    contract = contract or load_contract()
    kind = (extension or path.suffix.removeprefix(".")).lower()
    if kind == "csv":
        decoded = _decode(path.read_bytes())
        if isinstance(decoded, Rejection):
            return decoded
        utf8, encoding = decoded
        first_line = utf8.split(b"\n", 1)[0]
        if not first_line.strip():
            return Rejection.because("no_header_row")
        return LoadedFile(dataset, encoding, text=utf8)
    if kind == "xlsx":
        sheet = _read_xlsx_cells(path)
        if isinstance(sheet, Rejection):
            return sheet
        cells, encoding = sheet
        return LoadedFile(dataset, encoding, cells=cells)
    return Rejection.because("unsupported_extension")


def tabulate_deliveries(
    loaded: Sequence[LoadedFile | Rejection], contract: Contract | None = None
) -> list[FileRead | Rejection]:
    """:func:`read_delivery`'s result for each of ``loaded`` (:func:`load_delivery`'s), in order.

    Each result is exactly what the file read alone gives. Polars' fixed cost per call outweighs
    a small file's rows, so CSV files of one dataset with the same first line are parsed in one
    call, and files of one dataset with the same header are tabulated in one query.
    """
    contract = contract or load_contract()
    results: list[FileRead | Rejection | None] = [
        item if isinstance(item, Rejection) else None for item in loaded
    ]
    files = {index: item for index, item in enumerate(loaded) if isinstance(item, LoadedFile)}
    grids: dict[int, pl.DataFrame] = {}
    texts: dict[int, bytes] = {}
    csv_groups: dict[tuple[str, bytes], list[int]] = defaultdict(list)
    for index, item in files.items():
        if item.cells is not None:
            grids[index] = item.cells
            continue
        assert item.text is not None
        texts[index] = item.text
        first_line = item.text.split(b"\n", 1)[0]
        if _batchable_csv(item.text, first_line):
            csv_groups[item.dataset.id, first_line].append(index)
        else:
            csv_groups[item.dataset.id, _ALONE + str(index).encode("ascii")].append(index)
    separator = str(contract.formats.csv["delimiter"])
    for indices in csv_groups.values():
        parsed = _parse_csv_texts([texts[index] for index in indices], separator)
        for index, cells in zip(indices, parsed, strict=True):
            if isinstance(cells, Rejection):
                results[index] = cells
            else:
                grids[index] = cells

    # Tabulate: files of one dataset with the same columns and header take one query.
    tabulate_groups: dict[tuple[str, tuple, tuple[str, ...]], list[int]] = defaultdict(list)
    for index, cells in grids.items():
        if cells.height == 0:
            results[index] = Rejection.because("no_header_row")
            continue
        header = tuple(text if text is not None else "" for text in cells.row(0))
        schema = tuple(cells.schema.items())
        tabulate_groups[files[index].dataset.id, schema, header].append(index)
    for (_, _, header), indices in tabulate_groups.items():
        tabulated = _tabulate_files(
            [grids[index] for index in indices],
            list(header),
            [files[index].encoding for index in indices],
            files[indices[0]].dataset,
            contract,
        )
        for index, result in zip(indices, tabulated, strict=True):
            results[index] = result
    done = [result for result in results if result is not None]
    assert len(done) == len(results), "every file has its result"
    return done


def header_key(text: str, ignored_characters: tuple[str, ...]) -> str:
    """How a header is compared: case-folded, without the contract's ignored characters."""
    return text.translate({ord(character): None for character in ignored_characters}).casefold()


_ALONE = b"\x00alone:"  # a group key no first line has (decoded text holds no NUL)
_END_OF_FILE = "\x1f\x1ecpmds end of file\x1e\x1f"
"""The line put after each file when several CSV files are parsed in one call: one cell, and
text that no file parsed that way holds (control characters no partner's system writes)."""
_END_OF_FILE_BYTES = _END_OF_FILE.encode("ascii")


def _batchable_csv(text: bytes, first_line: bytes) -> bool:
    """Whether a CSV file parses the same inside a run of files as alone: its first line is its
    header record (no quote in it), it cannot hold the end-of-file line, and it does not end
    with a bare carriage return (its last line then gains the line end the run needs)."""
    return b'"' not in first_line and not text.endswith(b"\r") and text.find(_END_OF_FILE_BYTES) < 0


def _parse_csv_texts(texts: Sequence[bytes], separator: str) -> list[pl.DataFrame | Rejection]:
    """Each text's cell grid (or its rejection), as ``pl.read_csv`` gives it for the text alone.

    ``texts`` share their first line (so the number of columns), and have passed
    :func:`_batchable_csv` when there are several. They are parsed in one call, each followed by
    the end-of-file line; when that fails (a malformed file in the run), the run is split in
    halves and each tried again, down to single files; when a file's quote runs on past its end
    (an end-of-file line swallowed), each is parsed alone.
    """
    if len(texts) == 1:
        return [_parse_csv(texts[0], separator)]
    marker = _END_OF_FILE_BYTES + b"\n"
    buffer = b"".join(text + (marker if text.endswith(b"\n") else b"\n" + marker) for text in texts)
    try:
        cells = _read_csv(buffer, separator)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError):
        half = len(texts) // 2
        return [
            *_parse_csv_texts(texts[:half], separator),
            *_parse_csv_texts(texts[half:], separator),
        ]
    ends = (cells[cells.columns[0]] == _END_OF_FILE).fill_null(False).arg_true().to_numpy()
    if len(ends) != len(texts):
        return [_parse_csv(text, separator) for text in texts]
    starts = np.concatenate(([0], ends[:-1] + 1))
    return [
        cells.slice(int(start), int(end - start)) for start, end in zip(starts, ends, strict=True)
    ]


def _parse_csv(text: bytes, separator: str) -> pl.DataFrame | Rejection:
    try:
        return _read_csv(text, separator)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError):
        # Polars' messages quote the offending text, which may be an identifier: never pass them on.
        return Rejection.because("malformed_csv")


def _read_csv(text: bytes, separator: str) -> pl.DataFrame:
    return pl.read_csv(
        io.BytesIO(text),
        has_header=False,
        infer_schema=False,
        separator=separator,
        quote_char='"',
    )


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


_FILE = "__file"
_LINE = "__line"


def _tabulate_files(
    grids: Sequence[pl.DataFrame],
    header: list[str],
    encodings: Sequence[str],
    dataset: Dataset,
    contract: Contract,
) -> list[FileRead | Rejection]:
    """:func:`_tabulate` for several cell grids of one dataset with the same columns and the same
    header row (none of them empty), in one query; each result is what :func:`_tabulate` gives."""
    if len(grids) == 1:
        return [_tabulate(grids[0], encodings[0], dataset, contract)]
    if not any(text.strip() for text in header):
        return [Rejection.because("no_header_row") for _ in grids]

    ignored = contract.formats.header_ignored_characters
    deletion = contract.formats.deletion_column
    wanted = (*dataset.column_names, deletion)
    name_by_key = {header_key(name, ignored): name for name in wanted}
    columns = grids[0].columns
    heights = np.fromiter((grid.height for grid in grids), dtype=np.int64, count=len(grids))
    stacked = pl.concat(grids, how="vertical", rechunk=False)
    starts = np.repeat(np.cumsum(heights) - heights, heights)
    stacked = stacked.with_columns(
        pl.Series(_FILE, np.repeat(np.arange(len(grids), dtype=np.int64), heights)),
        pl.Series(_LINE, np.arange(stacked.height, dtype=np.int64) - starts),
    )

    source_of: dict[str, str] = {}
    problems: list[tuple[ColumnProblem, str | None]] = []
    """Each problem, with the source column whose body decides it (an unnamed column counts as
    unknown only in a file with something in it), else None: it holds for every file."""
    for position, (source, text) in enumerate(zip(columns, header, strict=True), start=1):
        name = name_by_key.get(header_key(text, ignored))
        if name is None:
            problem = ColumnProblem("unknown_column", "warning", text, position)
            problems.append((problem, None if text.strip() else source))
        elif name in source_of:
            problems.append((ColumnProblem("duplicate_column", "error", name, position), None))
        else:
            source_of[name] = source
    problems += [
        (ColumnProblem("missing_required_column", "error", name, None), None)
        for name in dataset.required_columns
        if name not in source_of
    ]
    body = stacked.lazy().filter(pl.col(_LINE) > 0)
    deciding = sorted({source for _, source in problems if source is not None})
    filled: dict[str, np.ndarray] = {}
    if deciding:
        found = (
            body.group_by(_FILE)
            .agg(
                (pl.col(source).str.strip_chars().str.len_chars() > 0).any() for source in deciding
            )
            .collect()
        )
        for source in deciding:
            mask = np.zeros(len(grids), dtype=bool)
            mask[found[_FILE].to_numpy()] = found[source].fill_null(False).to_numpy()
            filled[source] = mask

    stripped = pl.col(columns).str.strip_chars()
    is_blank = pl.concat_str(stripped, ignore_nulls=True).fill_null("") == ""
    frame = (
        body.filter(~is_blank)
        .select(
            pl.col(_FILE),
            (pl.col(_LINE) + 1).cast(pl.Int64).alias(ROW_COLUMN),  # the header is line 0, row 1
            *(
                pl.col(source_of[name]).alias(name)
                if name in source_of
                else pl.lit(None, pl.Utf8).alias(name)
                for name in wanted
            ),
        )
        .collect()
    )
    kept = np.bincount(frame[_FILE].to_numpy(), minlength=len(grids))
    frame = frame.drop(_FILE)
    offsets = np.cumsum(kept) - kept
    results: list[FileRead | Rejection] = []
    for index, encoding in enumerate(encodings):
        results.append(
            FileRead(
                frame=frame.slice(int(offsets[index]), int(kept[index])),
                encoding=encoding,
                column_problems=tuple(
                    problem
                    for problem, source in problems
                    if source is None or filled[source][index]
                ),
                blank_rows_dropped=int(heights[index] - 1 - kept[index]),
            )
        )
    return results
