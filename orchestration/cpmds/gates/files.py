"""Gate 1 checks that need no suite: where the file is, what it is called, how big it is.

They run before the file is read (a file over the size limit, or a workbook that would inflate
beyond its limits, is never opened for its contents) and on the string frame just after it is read
(row and cell sizes, measured in Polars rather than cell by cell).
"""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Sequence
from pathlib import Path, PurePath

import polars as pl

from cpmds.contract import Contract, Dataset, load_contract
from cpmds.gates.findings import ROW, Finding, rejection_finding
from cpmds.gates.registry import Registry, load_rules
from cpmds.ingest import Delivery, Rejection, parse_delivery, parse_landing_path
from cpmds.ingest.delivery import LandingRoots


def check_file_before_reading(
    path: Path,
    root: Path,
    contract: Contract | None = None,
    registry: Registry | None = None,
) -> list[Finding]:
    """Findings about ``path`` (absolute, or relative to the landing zone ``root``) that need no
    reading of its contents: the path (inside ``root``, symlinks resolved), the name, the size and
    an XLSX's declared uncompressed sizes. An empty list means: go on and read it.

    ``OSError`` from the file system propagates: it is the pipeline's problem, not the partner's.
    """
    return check_delivery_before_reading(path, root, contract, registry)[1]


def check_delivery_before_reading(
    path: Path,
    root: Path,
    contract: Contract | None = None,
    registry: Registry | None = None,
    name: PurePath | None = None,
    *,
    roots: LandingRoots | None = None,
) -> tuple[Delivery | None, list[Finding]]:
    """:func:`check_file_before_reading`, with the delivery its path names (None if refused).

    ``name``, when given, is the landing-zone path (``<partner>/<org>/<file name>``) to judge the
    file by instead of where it lies (``cpmds validate --as``): the bytes are still read at
    ``path``. ``roots``: ``landing_roots(root)``, when the caller checks many files.
    """
    contract = contract or load_contract()
    registry = registry or load_rules()
    if name is None:
        parsed = parse_delivery(path, root, contract, roots=roots)
    else:
        parsed = parse_landing_path(name, contract)
    if isinstance(parsed, Rejection):
        named = path if name is None else name
        if parsed.reason == "bad_file_name" and _only_extension_unsupported(named, contract):
            parsed = Rejection.because("unsupported_extension")
        return None, [rejection_finding(parsed, registry)]

    absolute = path if path.is_absolute() else root / path
    limits = contract.formats.limits
    status = absolute.stat()
    if not stat.S_ISREG(status.st_mode):
        # Reading a pipe would wait for ever, and a directory is no delivery.
        return parsed, [Finding.of(registry.file_rule("not_a_file"))]
    findings = []
    if status.st_size > limits.file_bytes:
        findings.append(Finding.of(registry.file_rule("file_too_large")))
    if parsed.extension == "xlsx":
        findings += _check_workbook_expansion(absolute, status.st_size, contract, registry)
    return parsed, findings


def check_strings(
    frame: pl.DataFrame,
    dataset: Dataset,
    contract: Contract | None = None,
    registry: Registry | None = None,
) -> list[Finding]:
    """Row and cell size findings on ``read_delivery``'s string frame, in bytes of UTF-8.

    Only the contract's columns (and the deletion column) count: unknown columns are dropped
    unread.
    """
    contract = contract or load_contract()
    registry = registry or load_rules()
    limits = contract.formats.limits
    names = [
        name
        for name in (*dataset.column_names, contract.formats.deletion_column)
        if name in frame.columns
    ]
    if frame.height == 0 or not names:
        return []
    cells = [pl.col(name).str.len_bytes().fill_null(0) for name in names]
    largest_cell, largest_row = frame.select(
        pl.max_horizontal(cells).max().alias("cell"), pl.sum_horizontal(cells).max().alias("row")
    ).row(0)
    if largest_cell <= limits.cell_bytes and largest_row <= limits.row_bytes:
        return []  # the usual case, in one pass: no need to say where
    sizes = frame.select(
        pl.col(ROW), *(pl.col(name).str.len_bytes().fill_null(0).alias(name) for name in names)
    ).with_columns(pl.sum_horizontal(names).alias("__row_bytes"))
    large_rows = sizes.filter(pl.col("__row_bytes") > limits.row_bytes)[ROW].to_list()
    large_cells = (
        sizes.drop("__row_bytes")
        .unpivot(index=ROW, variable_name="column", value_name="bytes")
        .filter(pl.col("bytes") > limits.cell_bytes)
        .sort(ROW, "column")
    )
    row_rule, cell_rule = registry.file_rule("row_too_large"), registry.file_rule("cell_too_large")
    return [Finding.of(row_rule, row=row) for row in large_rows] + [
        Finding.of(cell_rule, column=column, row=row)
        for row, column in large_cells.select(ROW, "column").iter_rows()
    ]


def check_strings_of_files(
    frames: Sequence[pl.DataFrame],
    dataset: Dataset,
    contract: Contract | None = None,
    registry: Registry | None = None,
) -> list[list[Finding]]:
    """:func:`check_strings` for each of several string frames of ``dataset``, in order.

    The usual case (no row or cell over its limit in any frame) takes one pass over all the
    frames together; only when some size is over does each frame get its own look.
    """
    contract = contract or load_contract()
    registry = registry or load_rules()
    if len(frames) < 2 or len({tuple(frame.schema.items()) for frame in frames}) != 1:
        return [check_strings(frame, dataset, contract, registry) for frame in frames]
    limits = contract.formats.limits
    together = pl.concat(frames, how="vertical", rechunk=False)
    names = [
        name
        for name in (*dataset.column_names, contract.formats.deletion_column)
        if name in together.columns
    ]
    if together.height == 0 or not names:
        return [[] for _ in frames]
    cells = [pl.col(name).str.len_bytes().fill_null(0) for name in names]
    largest_cell, largest_row = together.select(
        pl.max_horizontal(cells).max().alias("cell"), pl.sum_horizontal(cells).max().alias("row")
    ).row(0)
    if largest_cell <= limits.cell_bytes and largest_row <= limits.row_bytes:
        return [[] for _ in frames]
    return [check_strings(frame, dataset, contract, registry) for frame in frames]


def _only_extension_unsupported(path: PurePath, contract: Contract) -> bool:
    """Whether the name would follow the grammar with a supported extension."""
    name = PurePath(path).name
    stem, dot, extension = name.rpartition(".")
    if not dot or extension in contract.formats.file_name.extensions:
        return False
    supported = f"{stem}.{contract.formats.file_name.extensions[0]}"
    return contract.formats.file_name.regex.fullmatch(supported) is not None


def _check_workbook_expansion(
    path: Path, size: int, contract: Contract, registry: Registry
) -> list[Finding]:
    """Refuse a workbook whose zip directory declares contents beyond the limits. Only the
    central directory is read: nothing is inflated."""
    limits = contract.formats.limits
    try:
        with zipfile.ZipFile(path) as workbook:
            declared = sum(member.file_size for member in workbook.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        return [Finding.of(registry.file_rule("unreadable_xlsx"))]
    too_large = declared > limits.xlsx_expanded_bytes
    too_expanded = declared > limits.xlsx_expansion_ratio * max(size, 1)
    if too_large or too_expanded:
        return [Finding.of(registry.file_rule("xlsx_too_expanded"))]
    return []
