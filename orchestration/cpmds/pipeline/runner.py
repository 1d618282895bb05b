"""`cpmds run`: the load job on the home's Dagster instance, in this process."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cpmds.pipeline.home import prepare_home
from cpmds.settings import HOME_VARIABLE, RAW_VARIABLE, Settings

EXIT_PUBLISHED = 0
EXIT_GATE_FAILED = 1

# Dagster's own console logger stays at warnings; the stages' one-line summaries are the progress.
QUIET_DAGSTER = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    success: bool
    failed_checks: tuple[str, ...]
    step_errors: tuple[str, ...] = ()
    published: Path | None = None  # the warehouse this run published, if it published one
    report: Path | None = None  # the run's quality report, once written

    @property
    def exit_code(self) -> int:
        return EXIT_PUBLISHED if self.success and not self.failed_checks else EXIT_GATE_FAILED

    def describe(self) -> str:
        if self.exit_code == EXIT_PUBLISHED and self.published is not None:
            return f"Run {self.run_id} passed every gate and published {self.published}."
        if self.exit_code == EXIT_PUBLISHED:
            return (
                f"Run {self.run_id} passed every gate; nothing changed since the last published "
                "warehouse, which stays as it was."
            )
        failed = ", ".join(self.failed_checks + self.step_errors) or "a step raised an error"
        return (
            f"Run {self.run_id} did not publish: {failed}. The published warehouse stays as it "
            "was. See `cpmds status`."
        )


def run_load(
    settings: Settings,
    progress: bool = False,
    *,
    job_name: str = "load",
    run_config: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
) -> RunOutcome:
    """Run the load job once over everything new under the landing zone (or another job of the
    code location over the same assets: the backfill, with its own run config)."""
    os.environ["DAGSTER_HOME"] = str(prepare_home(settings))
    os.environ[RAW_VARIABLE] = str(settings.raw)
    os.environ[HOME_VARIABLE] = str(settings.home)
    import dagster as dg

    from cpmds.defs.definitions import build_definitions

    if progress:
        _show_stage_lines()
    job = build_definitions(settings).resolve_job_def(job_name)
    with dg.DagsterInstance.get() as instance, _held_check_warnings() as held:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config=QUIET_DAGSTER if run_config is None else run_config,
            tags=tags,
        )
        # A warning-severity check (say, a dbt test configured to warn) reports and never blocks.
        failed = tuple(
            _check_failure(evaluation)
            for evaluation in result.get_asset_check_evaluations()
            if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
        )
        step_errors = tuple(
            _first_line(event.step_failure_data.error.message)
            for event in result.all_events
            if event.is_step_failure and event.step_failure_data.error is not None
        )
    _replay_unless_build_skipped(held, settings, result.run_id)
    outcome = RunOutcome(
        run_id=result.run_id,
        success=result.success,
        failed_checks=failed,
        step_errors=step_errors,
        published=_published_by(settings, result.run_id),
    )
    if outcome.exit_code != EXIT_PUBLISHED:
        _record_failure(settings, outcome)
    return replace(outcome, report=_write_report(settings, outcome.run_id))


class _HeldWarnings(logging.Filter):
    """Holds back Dagster's warnings that a blocking check gave no result."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if _NO_CHECK_RESULT in record.getMessage():
            self.records.append(record)
            return False
        return True


_NO_CHECK_RESULT = "emitted no result"
_DAGSTER_PLAN_LOGGER = "dagster._core.execution.plan.active"


@contextmanager
def _held_check_warnings() -> Iterator[_HeldWarnings]:
    plan_logger = logging.getLogger(_DAGSTER_PLAN_LOGGER)
    held = _HeldWarnings()
    plan_logger.addFilter(held)
    try:
        yield held
    finally:
        plan_logger.removeFilter(held)


def _replay_unless_build_skipped(held: _HeldWarnings, settings: Settings, run_id: str) -> None:
    """A run with nothing new skips the build on purpose, and with it the checks on what it would
    have built: Dagster's warnings about those are noise then, and are dropped. Otherwise a check
    that gave no result is worth seeing, and its warning goes out as Dagster wrote it."""
    from cpmds.transform.build import warehouse_build

    if not warehouse_build(settings, run_id).directory.exists():
        return
    plan_logger = logging.getLogger(_DAGSTER_PLAN_LOGGER)
    for record in held.records:
        plan_logger.handle(record)


def _write_report(settings: Settings, run_id: str) -> Path | None:
    """The run's quality report, published or not (pipeline.md, step 9). A report that cannot be
    written is logged, not raised: the run's outcome and the published warehouse stand."""
    from cpmds.report import build_report
    from cpmds.state import state_path

    if not state_path(settings.home).exists():
        return None
    from cpmds.pipeline.timing import stage_span

    try:
        with stage_span("report"):
            result = build_report(settings.home, run_id)
    except Exception as error:  # the report must never undo what the run did
        logging.getLogger(__name__).error("the quality report was not written: %s", error)
        return None
    logging.getLogger("cpmds").info(result.describe())
    return result.path


def _published_by(settings: Settings, run_id: str) -> Path | None:
    from cpmds.publish.atomic import published_path
    from cpmds.state import StateStore, state_path

    if not state_path(settings.home).exists():
        return None
    with StateStore.open(settings.home, read_only=True) as store:
        record = next((r for r in store.last_runs(20) if r.run_id == run_id), None)
    return published_path(settings.home) if record is not None and record.published else None


def _check_failure(evaluation) -> str:
    """The failed check, and its reasons where it gives them (gate 3 names its rule codes)."""
    name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
    return f"{name} ({evaluation.description})" if evaluation.description else name


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else message


def _record_failure(settings: Settings, outcome: RunOutcome) -> None:
    from cpmds.pipeline.stages import finish_stage
    from cpmds.state import StateStore, state_path

    if not state_path(settings.home).exists():
        return
    with StateStore.open(settings.home, read_only=True) as store:
        running = [r for r in store.last_runs(20) if r.run_id == outcome.run_id]
    if running and running[0].status == "running":
        why = ", ".join(outcome.failed_checks + outcome.step_errors) or "a step raised an error"
        finish_stage(settings, outcome.run_id, why_not=f"failed: {why}")


def _show_stage_lines() -> None:
    """Print the pipeline's own INFO lines (one per stage and dataset) as the run goes."""
    logger = logging.getLogger("cpmds")
    if not any(getattr(handler, "_cpmds_progress", False) for handler in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s  %(message)s", "%H:%M:%S"))
        handler._cpmds_progress = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
