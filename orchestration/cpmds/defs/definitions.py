"""Everything the code location holds."""

from __future__ import annotations

import dagster as dg

from cpmds.defs.ingest import landing_assets, load_complete
from cpmds.defs.jobs import backfill_job, load_job
from cpmds.defs.land import raw_files
from cpmds.defs.maintenance import prune_dagster_runs, prune_schedule
from cpmds.defs.publish import gate_marts, publication, published_warehouse
from cpmds.defs.report import report_sensors
from cpmds.defs.resources import LoadLockResource, PipelineResource
from cpmds.defs.schedules import nightly_schedule
from cpmds.defs.sensors import raw_arrivals
from cpmds.defs.transform import dbt_resource, warehouse
from cpmds.settings import Settings, resolve_settings


def build_definitions(settings: Settings) -> dg.Definitions:
    pipeline = PipelineResource(raw=str(settings.raw), home=str(settings.home))
    return dg.Definitions(
        assets=[
            raw_files,
            *landing_assets,
            load_complete,
            warehouse,
            publication,
            published_warehouse,
        ],
        asset_checks=[gate_marts],
        jobs=[load_job, backfill_job, prune_dagster_runs],
        schedules=[nightly_schedule(), prune_schedule],
        sensors=[raw_arrivals, *report_sensors],
        resources={
            "pipeline": pipeline,
            "dbt": dbt_resource(),
            "load_lock": LoadLockResource(home=str(settings.home)),
        },
    )


defs = build_definitions(resolve_settings())
