"""Land and ingest as plain functions over the state store: what the Dagster assets call.

Ingest takes a dataset's pending files in chunks: gate 1 over the chunk's files, one Polars pass to
type them, gate 2 once over all their rows, then each file is decided (loaded or quarantined
whole), its good rows pseudonymised and written all together or not at all. A file the pipeline
itself fails on stays pending: it is undecided, which fails the gate, and the next run retries it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Sequence

import polars as pl

from cpmds.contract import Dataset, load_contract
from cpmds.gates import load_rules
from cpmds.gates.check import CheckedFiles, FileToCheck, check_files
from cpmds.gates.findings import FILE_ID, ROW
from cpmds.land import land
from cpmds.pipeline.home import prepare_home
from cpmds.pipeline.summaries import GateSummary, IngestSummary, LandSummary
from cpmds.pipeline.timing import stage_span
from cpmds.pseudonymise import ProtectedFrame, Pseudonymiser
from cpmds.settings import Settings
from cpmds.state import FileDecision, FileRecord, GateResult, StateStore

logger = logging.getLogger(__name__)

CHUNK_FILES = 2000  # bounds the string frames held at once in a national backfill


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def land_stage(settings: Settings, run_id: str) -> LandSummary:
    """Record every new file of the landing zone in the load log; begin the run."""
    prepare_home(settings)
    with StateStore.open(settings.home) as store:
        earlier = store.last_runs(50)
        for run in earlier:
            if run.status == "running" and run.run_id != run_id:
                store.finish_run(
                    run.run_id,
                    _now(),
                    published=False,
                    why_not="the run stopped before it finished",
                    status="interrupted",
                )
        if not any(run.run_id == run_id for run in earlier):
            store.begin_run(run_id, _now())
        with stage_span("land") as span:
            result = land(settings.raw, store, run_id, _now())
            span.rows = result.new_files
    summary = LandSummary(
        new_files=result.new_files,
        pending=result.pending_files,
        rejected=result.rejected,
        quarantined=result.quarantined,
        duplicates=result.duplicates,
        unreadable=len(result.unreadable),
    )
    logger.info(summary.describe())
    return summary


def settle_stage(settings: Settings, run_id: str) -> int:
    """Settle which files are current once every dataset's new files are decided; returns how
    many files changed standing. Supersession is settled over the whole load log, so a correction
    and the file it corrects are weighed together whichever arrived first."""
    with StateStore.open(settings.home) as store:
        changes = store.apply_supersession(run_id)
    if changes:
        logger.info("supersession: %d file(s) changed standing", len(changes))
    return len(changes)


def finish_stage(
    settings: Settings, run_id: str, *, published: bool = False, why_not: str | None = None
) -> str:
    """Close the run's record in quality.runs; returns the run's status. ``why_not`` names a gate
    or step that failed, or why a run that passed every gate published nothing."""
    failed = why_not is not None and not published and why_not != NOTHING_NEW
    with StateStore.open(settings.home) as store:
        record = store.finish_run(
            run_id,
            _now(),
            published=published,
            why_not=why_not,
            status="failed" if failed else "finished",
        )
    return record.status


NOTHING_NEW = "nothing changed since the last published warehouse"


def ingest_stage(settings: Settings, dataset_id: str, run_id: str) -> IngestSummary:
    """Gate, type, pseudonymise and write every pending file of one dataset."""
    dataset = load_contract().dataset_by_id[dataset_id]
    with StateStore.open(settings.home) as store:
        pending = store.pending_files(dataset_id)
        pseudonymiser = Pseudonymiser.from_settings(settings.home) if pending else None
        tally = _Tally()
        for start in range(0, len(pending), CHUNK_FILES):
            chunk = pending[start : start + CHUNK_FILES]
            assert pseudonymiser is not None
            _ingest_chunk(settings, store, dataset, chunk, pseudonymiser, run_id, tally)
        summary = tally.summary(dataset_id, len(pending))
        store.record_gate_results(
            [
                _gate_result(run_id, "gate_file", dataset, summary.gate_file),
                _gate_result(run_id, "gate_rows", dataset, summary.gate_rows),
            ]
        )
    logger.info(summary.describe())
    return summary


class _Tally:
    """Counts over a dataset's chunks, for the summaries and gate results."""

    def __init__(self) -> None:
        self.loaded = self.quarantined_file = self.quarantined_rows = self.undecided = 0
        self.rows_checked = self.rows_loaded = self.rows_failed = self.rows_warned = 0
        self.file_rules: Counter[str] = Counter()
        self.row_rules: Counter[str] = Counter()

    def summary(self, dataset_id: str, files: int) -> IngestSummary:
        gate_file = GateSummary(
            gate="gate_file",
            passed=self.undecided == 0,
            files_checked=files,
            files_failed=self.quarantined_file,
            rules=dict(self.file_rules),
            undecided=self.undecided,
        )
        gate_rows = GateSummary(
            gate="gate_rows",
            passed=self.undecided == 0,
            files_checked=files - self.quarantined_file - self.undecided,
            files_failed=self.quarantined_rows,
            rows_checked=self.rows_checked,
            rows_failed=self.rows_failed,
            rows_warned=self.rows_warned,
            rules=dict(self.row_rules),
            undecided=self.undecided,
        )
        return IngestSummary(
            dataset_id=dataset_id,
            files=files,
            loaded=self.loaded,
            quarantined=self.quarantined_file + self.quarantined_rows,
            rows_loaded=self.rows_loaded,
            gate_file=gate_file,
            gate_rows=gate_rows,
        )


def _ingest_chunk(
    settings: Settings,
    store: StateStore,
    dataset: Dataset,
    chunk: Sequence[FileRecord],
    pseudonymiser: Pseudonymiser,
    run_id: str,
    tally: _Tally,
) -> None:
    checked = check_files(
        [FileToCheck(record.file_id, settings.raw / record.path) for record in chunk],
        settings.raw,
        registry=load_rules(),
    )
    decisions: list[FileDecision] = []
    senders: dict[tuple[str, str], list[int]] = defaultdict(list)
    for record, verdict in zip(chunk, checked.verdicts, strict=True):
        if verdict.status == "undecided":
            tally.undecided += 1
            logger.error(
                "%s: could not be decided (%s); left pending", record.path, verdict.gate.error
            )
            continue
        if not verdict.passed_gate_file:
            assert verdict.reason is not None
            tally.file_rules.update(verdict.reason.split(", "))
            tally.quarantined_file += 1
            decisions.append(FileDecision(record.file_id, "quarantined", verdict.reason))
            continue
        tally.file_rules.update(finding.rule for finding in verdict.gate.findings)
        tally.rows_failed += verdict.error_rows
        tally.rows_warned += verdict.warning_rows
        counts = {
            "rows": verdict.rows,
            "error_rows": verdict.error_rows,
            "warning_rows": verdict.warning_rows,
        }
        if verdict.status == "quarantined":
            tally.quarantined_rows += 1
            decisions.append(FileDecision(record.file_id, "quarantined", verdict.reason, **counts))
            continue
        delivery = record.delivery()
        assert delivery is not None
        senders[(delivery.partner, delivery.org)].append(record.file_id)
        tally.loaded += 1
        decisions.append(FileDecision(record.file_id, "loaded", None, **counts))

    batch = checked.batches.get(dataset.id)
    with stage_span("ingest", rows=batch.height if batch is not None else 0):
        _write_loaded(
            store, dataset, checked, batch, senders, decisions, pseudonymiser, run_id, tally
        )


def _write_loaded(
    store: StateStore,
    dataset: Dataset,
    checked: CheckedFiles,
    batch: pl.DataFrame | None,
    senders: dict[tuple[str, str], list[int]],
    decisions: list[FileDecision],
    pseudonymiser: Pseudonymiser,
    run_id: str,
    tally: _Tally,
) -> None:
    """Pseudonymise and write the loaded files' good rows; record every file's decision."""
    if batch is not None:
        row_failures = checked.row_failures[dataset.id]
        tally.rows_checked += batch.height
        tally.row_rules.update(row_failures["rule"].to_list())
        protected = _protect_loaded(batch, row_failures, senders, dataset, pseudonymiser)
        tally.rows_loaded += sum(frame.height for frame in protected.values())
        store.write_landing(dataset.id, protected)

    store.update_files(decisions, run_id=run_id)
    if checked.failures.height:
        store.record_row_failures(_failure_records([checked.failures], dataset, run_id))


def _protect_loaded(
    batch: pl.DataFrame,
    row_failures: pl.DataFrame,
    senders: dict[tuple[str, str], list[int]],
    dataset: Dataset,
    pseudonymiser: Pseudonymiser,
) -> dict[int, ProtectedFrame]:
    """The good rows (those without an error) of each loaded file, protected, by file id.

    One pass over the chunk's batch rather than one per file: the rows with errors are dropped
    in one anti-join, and each sender's (partner, org) files are pseudonymised together.
    """
    loaded = [file_id for ids in senders.values() for file_id in ids]
    if not loaded:
        return {}
    bad_rows = row_failures.filter(pl.col("severity") == "error").select(FILE_ID, ROW).unique()
    good = batch.filter(pl.col(FILE_ID).is_in(loaded)).join(
        bad_rows, on=[FILE_ID, ROW], how="anti", maintain_order="left"
    )
    protected: dict[int, ProtectedFrame] = {}
    for (partner, org), ids in senders.items():
        rows = good if len(senders) == 1 else good.filter(pl.col(FILE_ID).is_in(ids))
        protected.update(pseudonymiser.protect_files(rows, FILE_ID, ids, dataset, partner, org))
    return protected


def _failure_records(frames: list[pl.DataFrame], dataset: Dataset, run_id: str) -> pl.DataFrame:
    return pl.concat(
        [frame.select(FILE_ID, ROW, "column", "rule", "severity", "message") for frame in frames],
        how="vertical",
    ).select(
        pl.lit(run_id).alias("run_id"),
        pl.col(FILE_ID).alias("file_id"),
        pl.lit(dataset.id).alias("dataset"),
        pl.col(ROW).alias("row"),
        "column",
        "rule",
        "severity",
        "message",
    )


def _gate_result(run_id: str, gate: str, dataset: Dataset, summary: GateSummary) -> GateResult:
    return GateResult(
        run_id=run_id,
        gate=gate,
        suite=f"{gate}/{dataset.id}",
        partner=dataset.partner,
        dataset=dataset.id,
        passed=summary.passed,
        files_checked=summary.files_checked,
        files_failed=summary.files_failed,
        rows_checked=summary.rows_checked,
        rows_failed=summary.rows_failed,
        rows_warned=summary.rows_warned,
        details=summary.details(),
    )
