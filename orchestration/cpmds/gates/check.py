"""Gates 1 and 2 over a set of delivered files, each file decided: the one function that both the
pipeline's ingest (on each chunk of pending files) and ``cpmds validate`` (on a partner's files
before they are sent) run, so a partner's self-check gives the verdict and the rule codes the
pipeline would.

Nothing here writes: no state store, no key, no pseudonyms. Gate 1 runs over every file; the
files that pass it are typed and gate 2 runs once per dataset over all their rows; then each file
is loaded or quarantined whole (:func:`cpmds.gates.decide`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Literal

import polars as pl

from cpmds.contract import Contract, load_contract
from cpmds.gates.decide import decide
from cpmds.gates.findings import FILE_ID, ROW, ROW_FAILURE_SCHEMA, Finding
from cpmds.gates.gate_file import FileGate, gate_files
from cpmds.gates.gate_rows import gate_rows_batch_of, run_gate_rows
from cpmds.gates.registry import Registry, load_rules
from cpmds.ingest import FileRead
from cpmds.ingest.normalise import normalise_batch
from cpmds.pipeline.timing import stage_span
from cpmds.settings import PROJECT_ROOT

Status = Literal["loaded", "quarantined", "undecided"]


@dataclass(frozen=True)
class FileToCheck:
    file_id: int
    path: Path
    """Where the bytes are: absolute, or relative to the landing zone."""
    name: PurePath | None = None
    """The landing-zone path (``<partner>/<org>/<file name>``) to judge the file by, when it is
    not where it lies (``cpmds validate --as``); None: its path under the landing zone."""


@dataclass(frozen=True)
class Verdict:
    """What the gates decided about one file."""

    file_id: int
    gate: FileGate
    status: Status
    """``undecided``: the file system failed on it (not the partner's fault; ``gate.error``)."""
    reason: str | None
    """The rule codes that quarantined it (several, comma-separated, for gate 1)."""
    rows: int | None
    """Its data rows, once gate 1 passed; None before that."""
    error_rows: int = 0
    warning_rows: int = 0

    @property
    def passed_gate_file(self) -> bool:
        return self.gate.passed


@dataclass(frozen=True)
class CheckedFiles:
    verdicts: tuple[Verdict, ...]
    """One per file, in the order given."""
    failures: pl.DataFrame
    """Every finding of both gates on the decided files (:data:`ROW_FAILURE_SCHEMA`): gate 1's
    in file order, then gate 2's by dataset. A header finding is on row 1; a finding about the
    whole file has no row."""
    batches: dict[str, pl.DataFrame]
    """Dataset id -> the typed rows of its files that passed gate 1 (``_file``, ``_row``, ...)."""
    row_failures: dict[str, pl.DataFrame]
    """Dataset id -> gate 2's failures over its batch."""


def check_files(
    files: Sequence[FileToCheck],
    root: Path,
    contract: Contract | None = None,
    registry: Registry | None = None,
    suites_root: Path = PROJECT_ROOT,
) -> CheckedFiles:
    """Gates 1 and 2 over ``files`` (``root`` is the landing zone), each file decided."""
    contract = contract or load_contract()
    registry = registry or load_rules()
    with stage_span("gate 1", rows=len(files)):
        gates = gate_files(
            [file.path for file in files],
            root,
            contract,
            registry,
            suites_root,
            names=[file.name for file in files],
        )
    verdicts: dict[int, Verdict] = {}
    finding_frames: list[pl.DataFrame] = []
    passed: dict[str, list[tuple[int, dt.date, FileRead]]] = defaultdict(list)
    for file, gate in zip(files, gates, strict=True):
        if gate.error is not None:
            verdicts[file.file_id] = Verdict(file.file_id, gate, "undecided", None, None)
            continue
        if gate.findings:  # a file without findings adds no rows
            finding_frames.append(finding_rows(file.file_id, gate.findings))
        if not gate.passed:
            codes = sorted({finding.rule for finding in gate.findings if finding.is_error})
            rows = gate.read.frame.height if gate.read is not None else None
            verdicts[file.file_id] = Verdict(
                file.file_id, gate, "quarantined", ", ".join(codes), rows
            )
            continue
        assert gate.delivery is not None and gate.read is not None
        submitted = gate.delivery.submitted_at.date()
        passed[gate.delivery.dataset_id].append((file.file_id, submitted, gate.read))

    batches: dict[str, pl.DataFrame] = {}
    row_failures: dict[str, pl.DataFrame] = {}
    for dataset_id, reads in passed.items():
        with stage_span("gate 2", rows=sum(read.frame.height for _, _, read in reads)):
            dataset = contract.dataset_by_id[dataset_id]
            typed = normalise_batch(
                [(read.frame, submitted) for _, submitted, read in reads], dataset
            )
            batch, typing = gate_rows_batch_of(
                [file_id for file_id, _, _ in reads],
                [submitted for _, submitted, _ in reads],
                typed,
            )
            failures = run_gate_rows(dataset, batch, typing, contract, registry, suites_root)
            decided = decide(
                {
                    file_id: height
                    for (file_id, _, _), height in zip(reads, typed.heights, strict=True)
                },
                failures,
                registry=registry,
            )
            gate_by_id = {file.file_id: gate for file, gate in zip(files, gates, strict=True)}
            for verdict in decided.iter_rows(named=True):
                file_id = verdict[FILE_ID]
                verdicts[file_id] = Verdict(
                    file_id,
                    gate_by_id[file_id],
                    "quarantined" if verdict["quarantined"] else "loaded",
                    verdict["rule"],
                    verdict["rows"],
                    verdict["error_rows"],
                    verdict["warning_rows"],
                )
            batches[dataset_id] = batch
            row_failures[dataset_id] = failures

    found = [frame for frame in (*finding_frames, *row_failures.values()) if frame.height]
    return CheckedFiles(
        verdicts=tuple(verdicts[file.file_id] for file in files),
        failures=(
            pl.concat(found, how="vertical") if found else pl.DataFrame(schema=ROW_FAILURE_SCHEMA)
        ),
        batches=batches,
        row_failures=row_failures,
    )


def finding_rows(file_id: int, findings: Iterable[Finding]) -> pl.DataFrame:
    """Gate 1 findings as row failures: the header row (1) for a column's, else the whole file."""
    rows = [
        {
            FILE_ID: file_id,
            ROW: finding.row
            if finding.row is not None
            else (1 if finding.column or finding.position else None),
            "column": finding.column,
            "rule": finding.rule,
            "severity": finding.severity,
            "message": finding.message,
        }
        for finding in findings
    ]
    return pl.DataFrame(rows, schema=ROW_FAILURE_SCHEMA)
