"""The load job: what the nightly schedule, the sensor and `cpmds run` all run; and the backfill
job, the same assets with the periods whose files are read again (what `cpmds backfill` runs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from cpmds.pipeline.backfill import BACKFILL_JOB

# In one process, one stage after another: the state store takes one writer at a time, and a run
# handles every new file in one go rather than a run (or a process) per file.
load_job = dg.define_asset_job(
    "load",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="One full load of everything new under the landing zone.",
)


def _backfill_run_config(periods: Mapping[str, Any]) -> dict[str, Any]:
    """The two periods, as the land step's configuration; Dagster's console lines kept to warnings,
    as for `cpmds run` (the stages' own lines are the progress; the event log keeps everything)."""
    reread = {"reread_from": periods["period_from"], "reread_to": periods["period_to"]}
    return {
        "ops": {"raw_files": {"config": reread}},
        "loggers": {"console": {"config": {"log_level": "WARNING"}}},
    }


# Periods as run configuration rather than as partitions: a backfill is one run that re-reads the
# files of a range of months and rebuilds the whole warehouse once, exactly as `cpmds backfill`
# does. Monthly partitions would mean a partitioned landing zone and a warehouse build per month.
backfill_job = dg.define_asset_job(
    BACKFILL_JOB,
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description=(
        "Backfill: re-read the landing zone's files for a range of periods (YYYYMM, inclusive), "
        "even if they were loaded, then rebuild and publish as a load does."
    ),
    config=dg.ConfigMapping(
        config_schema={
            "period_from": dg.Field(int, description="First period to re-read, YYYYMM."),
            "period_to": dg.Field(int, description="Last period to re-read, YYYYMM."),
        },
        config_fn=_backfill_run_config,
    ),
)
