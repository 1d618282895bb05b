"""Dagster's own run history, kept bounded: the weekly ``prune_dagster_runs`` schedule.

Dagster keeps every run's event log for ever and has no instance setting to retire old ones
(``dagster.yaml``'s ``retention`` covers sensor and schedule ticks only); a nightly load adds a few
megabytes a night. This deletes finished runs older than ``CPMDS_DAGSTER_RUN_RETENTION_DAYS``
(default 400: a year and some, so last year's run for the same month is still there), with their
event logs and step logs. The pipeline's own history, in the state store and copied into each
published warehouse, is not touched.
"""

import datetime as dt
import os

import dagster as dg

from cpmds.defs.schedules import NIGHTLY_TIMEZONE, TIMEZONE_VARIABLE, automation_on

RETENTION_VARIABLE = "CPMDS_DAGSTER_RUN_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 400
FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]
BATCH = 100


def retention_days() -> int:
    value = os.environ.get(RETENTION_VARIABLE, str(DEFAULT_RETENTION_DAYS)).strip()
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{RETENTION_VARIABLE} is a whole number of days, not {value!r}")
    return int(value)


def prune_runs(instance: dg.DagsterInstance, created_before: dt.datetime) -> int:
    """Delete the finished runs created before ``created_before``; returns how many."""
    deleted = 0
    while True:
        records = instance.get_run_records(
            filters=dg.RunsFilter(statuses=FINISHED, created_before=created_before), limit=BATCH
        )
        if not records:
            return deleted
        for record in records:
            run_id = record.dagster_run.run_id
            instance.delete_run(run_id)
            instance.compute_log_manager.delete_logs(prefix=[run_id])
            deleted += 1


@dg.op(description="Delete finished Dagster runs older than the retention period.")
def delete_old_runs(context: dg.OpExecutionContext) -> int:
    days = retention_days()
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    deleted = prune_runs(context.instance, cutoff)
    context.log.info(f"deleted {deleted} Dagster run(s) older than {days} days")
    return deleted


@dg.job(
    name="prune_dagster_runs",
    description=__doc__.splitlines()[0],
    executor_def=dg.in_process_executor,
)
def prune_dagster_runs() -> None:
    delete_old_runs()


prune_schedule = dg.ScheduleDefinition(
    name="prune_dagster_runs_weekly",
    job=prune_dagster_runs,
    cron_schedule="0 4 * * 0",  # Sundays at 04:00, well after the nightly load
    execution_timezone=os.environ.get(TIMEZONE_VARIABLE, NIGHTLY_TIMEZONE).strip(),
    default_status=dg.DefaultScheduleStatus.RUNNING
    if automation_on()
    else dg.DefaultScheduleStatus.STOPPED,
    description="Deletes Dagster's record of runs older than CPMDS_DAGSTER_RUN_RETENTION_DAYS.",
)
