"""Gate 1, the file contract: every check on a file before its rows are typed.

In order: the checks that need no reading (path, name, size, an XLSX's declared size), the
reader's own refusals (no header row, undecodable, malformed), row and cell sizes on the string
frame, then the dataset's ``gate_file`` suite over the header frame of all the files read. The
suite runs once per dataset for a whole batch of files, like gate 2.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

import polars as pl

from cpmds.contract import Contract, Dataset, load_contract
from cpmds.gates.files import check_delivery_before_reading, check_strings_of_files
from cpmds.gates.findings import (
    FILE_FINDING_SCHEMA,
    FILE_ID,
    ROW,
    Finding,
    has_errors,
    rejection_finding,
)
from cpmds.gates.gx_runner import run_suite
from cpmds.gates.registry import Registry, load_rules
from cpmds.gates.suites import HEADER_COLUMN, HEADER_POSITION, HEADER_PRESENT, suite_path
from cpmds.ingest import Delivery, FileRead, Rejection
from cpmds.ingest.delivery import landing_roots
from cpmds.ingest.read import LoadedFile, load_delivery, tabulate_deliveries
from cpmds.settings import PROJECT_ROOT

HEADER_SCHEMA = {
    FILE_ID: pl.Int64,
    HEADER_POSITION: pl.Int64,
    HEADER_COLUMN: pl.Utf8,
    HEADER_PRESENT: pl.Boolean,
}


@dataclass(frozen=True)
class FileGate:
    """Gate 1's outcome for one file."""

    path: Path
    delivery: Delivery | None
    """None when the path or name was refused."""
    read: FileRead | None
    """The string frame, when the file was read (even if a later check failed it)."""
    findings: tuple[Finding, ...]
    error: str | None = None
    """Why the pipeline could not decide the file (it vanished, or could not be opened): not the
    partner's fault, so no rule; the exception's class and text without the path."""

    @property
    def passed(self) -> bool:
        return self.error is None and not has_errors(self.findings)


def gate_files(
    paths: Sequence[Path],
    root: Path,
    contract: Contract | None = None,
    registry: Registry | None = None,
    suites_root: Path = PROJECT_ROOT,
    names: Sequence[PurePath | None] | None = None,
) -> list[FileGate]:
    """Gate 1 over ``paths`` (absolute, or relative to the landing zone ``root``), in order.

    ``names``, when given, has for each path the landing-zone path to judge it by instead of
    where it lies (None: where it lies), as ``cpmds validate --as`` checks a file before it is
    renamed.

    Each file is read at most once and only after the checks that need no reading pass. The
    header suite runs once per dataset over every file of it that was read. A file the file
    system fails on gets ``error`` set and does not stop the others. The string frames of all
    files read stay in memory: give it a chunk of a backfill at a time.
    """
    contract = contract or load_contract()
    registry = registry or load_rules()
    deliveries: list[Delivery | None] = []
    loaded: dict[int, LoadedFile | Rejection] = {}
    findings: list[list[Finding]] = []
    errors: list[str | None] = []
    roots = landing_roots(root)
    for index, (path, name) in enumerate(zip(paths, names or [None] * len(paths), strict=True)):
        delivery, found, error = None, [], None
        try:
            delivery, found = check_delivery_before_reading(
                path, root, contract, registry, name, roots=roots
            )
            if delivery is not None and not has_errors(found):
                loaded[index] = _load(path, root, delivery, contract)
        except OSError as exception:
            reason = exception.strerror or "file system error"
            error = f"{type(exception).__name__}: {reason}"
        deliveries.append(delivery)
        findings.append(found)
        errors.append(error)

    # The files loaded are parsed and tabulated together: one Polars query per dataset and
    # header rather than one per file.
    reads: list[FileRead | None] = [None] * len(paths)
    outcomes = tabulate_deliveries(list(loaded.values()), contract)
    for index, outcome in zip(loaded, outcomes, strict=True):
        if isinstance(outcome, Rejection):
            findings[index].append(rejection_finding(outcome, registry))
        else:
            reads[index] = outcome

    by_dataset: dict[str, dict[int, FileRead]] = defaultdict(dict)
    for index, (delivery, read) in enumerate(zip(deliveries, reads, strict=True)):
        if delivery is not None and read is not None:
            by_dataset[delivery.dataset_id][index] = read
    for dataset_id, dataset_reads in by_dataset.items():
        dataset = contract.dataset_by_id[dataset_id]
        # Row and cell sizes: one pass over all of the dataset's frames in the usual case.
        sizes = check_strings_of_files(
            [read.frame for read in dataset_reads.values()], dataset, contract, registry
        )
        for index, found in zip(dataset_reads, sizes, strict=True):
            findings[index] += found
        headers = header_frame(dataset_reads, dataset, contract)
        found = run_gate_file(dataset, headers, registry, suites_root)
        for row in found.iter_rows(named=True):
            findings[row[FILE_ID]].append(
                Finding(
                    rule=row["rule"],
                    severity=row["severity"],
                    message=row["message"],
                    column=row["column"],
                    position=row["position"],
                )
            )
    return [
        FileGate(path, delivery, read, tuple(found), error)
        for path, delivery, read, found, error in zip(
            paths, deliveries, reads, findings, errors, strict=True
        )
    ]


def _load(path: Path, root: Path, delivery: Delivery, contract: Contract) -> LoadedFile | Rejection:
    """Load a file that passed the checks before reading (its reading finishes in
    :func:`tabulate_deliveries`; row and cell sizes are checked afterwards, over all the files
    read)."""
    dataset = contract.dataset_by_id[delivery.dataset_id]
    absolute = path if path.is_absolute() else root / path
    return load_delivery(absolute, dataset, delivery.extension, contract)


def header_frame(
    reads: Mapping[int, FileRead], dataset: Dataset, contract: Contract | None = None
) -> pl.DataFrame:
    """The header frame (:data:`HEADER_SCHEMA`) of files read as ``dataset``, keyed by file id.

    One row per file and contract column (``present`` false for a required column the header
    lacks), plus one per extra occurrence of a column and one per unknown header (its
    ``contract_column`` null: the header text is data and stays out). Only the reader knows
    where each header matched, so the rows come from its column problems.
    """
    contract = contract or load_contract()
    names = (*dataset.column_names, contract.formats.deletion_column)
    rows: list[tuple[int, int | None, str | None, bool]] = []
    for file_id, read in reads.items():
        missing = set(read.missing_required_columns)
        rows += [(file_id, None, name, name not in missing) for name in names]
        for problem in read.column_problems:
            if problem.problem == "duplicate_column":
                rows.append((file_id, problem.position, problem.column, True))
            elif problem.problem == "unknown_column":
                rows.append((file_id, problem.position, None, True))
    return pl.DataFrame(rows, schema=HEADER_SCHEMA, orient="row")


def run_gate_file(
    dataset: Dataset,
    headers: pl.DataFrame,
    registry: Registry | None = None,
    root: Path = PROJECT_ROOT,
) -> pl.DataFrame:
    """The header findings (:data:`FILE_FINDING_SCHEMA`) of the dataset's ``gate_file`` suite
    over ``headers`` (:func:`header_frame`), one per file, rule and column occurrence."""
    registry = registry or load_rules()
    if headers.height == 0:
        return pl.DataFrame(schema=FILE_FINDING_SCHEMA)
    found = run_suite(
        suite_path("gate_file", dataset.id, root),
        headers.to_pandas(),
        [FILE_ID, HEADER_POSITION],
    )
    named = {
        (file_id, position): name
        for file_id, position, name in headers.select(
            FILE_ID, HEADER_POSITION, HEADER_COLUMN
        ).iter_rows()
        if position is not None
    }
    rows = set()
    for failure in found:
        rule = registry.by_code[failure.rule]
        for file_id, position in zip(
            failure.index[FILE_ID], failure.index[HEADER_POSITION], strict=True
        ):
            place = None if _is_missing(position) else int(position)
            if rule.kind == "duplicate_column" and place is None:
                continue  # the first occurrence is the column; the others are the problem
            column = rule.column if place is None else named.get((int(file_id), place))
            rows.add((int(file_id), column, place, rule.code, rule.severity, rule.message))
    frame = pl.DataFrame(
        sorted(rows, key=lambda row: (row[0], row[3], row[2] or 0, row[1] or "")),
        schema={name: dtype for name, dtype in FILE_FINDING_SCHEMA.items() if name != ROW},
        orient="row",
    )
    return frame.select(
        FILE_ID, pl.lit(None, pl.Int64).alias(ROW), *[n for n in frame.columns if n != FILE_ID]
    )


def _is_missing(value: object) -> bool:
    return value is None or value != value  # NaN is how pandas gives back a missing integer
