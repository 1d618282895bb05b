"""Step 1, land: every file under the landing zone gets its load-log row."""

import dagster as dg

from cpmds.defs.resources import PipelineResource
from cpmds.pipeline.stages import land_stage

RAW_FILES = dg.AssetKey("raw_files")


@dg.asset(
    key=RAW_FILES,
    group_name="land",
    kinds={"duckdb"},
    owners=["team:data-engineering"],
    description=(
        "Every file delivered under the landing zone, one load-log row each (quality.load_log): "
        "new files are logged, duplicates and bad names decided, the rest left for ingest."
    ),
)
def raw_files(
    context: dg.AssetExecutionContext, pipeline: PipelineResource
) -> dg.MaterializeResult:
    summary = land_stage(pipeline.settings, context.run.run_id)
    context.log.info(summary.describe())
    return dg.MaterializeResult(metadata=summary.metadata())
