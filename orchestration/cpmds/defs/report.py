"""Step 9: the quality report of every run the Dagster daemon launched (schedule, sensor, UI).

The report is written for every run, published or not, so it cannot be an asset downstream of
publication (that would run only when publication did). Two run-status sensors watch the load and
backfill jobs instead, and write the report once a run has succeeded or failed. A run started by
``cpmds run`` or ``cpmds backfill`` executes in that process, which writes its report itself
(``cpmds.pipeline.runner``), so the sensors leave such runs alone.
"""

import dagster as dg

from cpmds.defs.jobs import backfill_job, load_job
from cpmds.defs.resources import PipelineResource
from cpmds.pipeline.stages import finish_stage
from cpmds.report import build_report, report_path
from cpmds.state import StateStore, state_path

MONITORED = [load_job, backfill_job]


def _write_report(context: dg.RunStatusSensorContext, pipeline: PipelineResource, why: str | None):
    run = context.dagster_run
    settings = pipeline.settings
    if run.remote_job_origin is None:
        return dg.SkipReason(f"run {run.run_id} ran in its own process, which wrote its report")
    if report_path(settings.home, run.run_id).exists():
        return dg.SkipReason(f"run {run.run_id} has its report already")
    if not state_path(settings.home).exists():
        return dg.SkipReason("no state store yet")
    if why is not None:
        _close_failed_run(settings, run.run_id, why)
    result = build_report(settings.home, run.run_id)
    context.log.info(result.describe())
    return dg.SkipReason(result.describe())


def _close_failed_run(settings, run_id: str, why: str) -> None:
    """A failed run's record says why, as `cpmds run` records it, so its report can say so."""
    with StateStore.open(settings.home, read_only=True) as store:
        record = next((r for r in store.last_runs(20) if r.run_id == run_id), None)
    if record is not None and record.status == "running":
        finish_stage(settings, run_id, why_not=f"failed: {why}")


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=MONITORED,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Writes the quality report of a load or backfill run that finished.",
)
def report_after_success(context: dg.RunStatusSensorContext, pipeline: PipelineResource):
    return _write_report(context, pipeline, why=None)


@dg.run_failure_sensor(
    monitored_jobs=MONITORED,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Writes the quality report of a load or backfill run that failed (a gate stopped "
    "it, or a step raised), saying why it did not publish.",
)
def report_after_failure(context: dg.RunFailureSensorContext, pipeline: PipelineResource):
    message = context.failure_event.message if context.failure_event else None
    why = (message or "the Dagster run failed").strip().splitlines()[0]
    return _write_report(context, pipeline, why=why)


report_sensors = [report_after_success, report_after_failure]
