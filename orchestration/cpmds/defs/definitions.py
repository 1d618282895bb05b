"""Everything the code location holds."""

from __future__ import annotations

import dagster as dg

from cpmds.defs.ingest import landing_assets, load_complete
from cpmds.defs.jobs import load_job
from cpmds.defs.land import raw_files
from cpmds.defs.publish import gate_marts, publication, published_warehouse
from cpmds.defs.resources import PipelineResource
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
        jobs=[load_job],
        sensors=[raw_arrivals],
        resources={"pipeline": pipeline, "dbt": dbt_resource()},
    )


defs = build_definitions(resolve_settings())
