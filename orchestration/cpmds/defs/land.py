"""Step 1, land: every file under the landing zone gets its load-log row.

A backfill (the ``backfill`` job) first sets the files of its periods back to pending, so this run
reads them again (:mod:`cpmds.pipeline.backfill`). The land step also takes the home's load lock,
held until the run ends, so two loads never run side by side.
"""

import dagster as dg
from pydantic import Field

from cpmds.defs.resources import LoadLockResource, PipelineResource
from cpmds.pipeline.backfill import BackfillRefusedError, Periods, reread_stage
from cpmds.pipeline.stages import land_stage

RAW_FILES = dg.AssetKey("raw_files")


class LandConfig(dg.Config):
    """A load needs none; a backfill names the periods whose files are read again."""

    reread_from: int | None = Field(
        default=None, description="Backfill: first period (YYYYMM) whose files are read again."
    )
    reread_to: int | None = Field(
        default=None, description="Backfill: last period (YYYYMM) whose files are read again."
    )

    def periods(self) -> Periods | None:
        if self.reread_from is None and self.reread_to is None:
            return None
        if self.reread_from is None or self.reread_to is None:
            raise ValueError("a backfill names both its first and its last period")
        return Periods(self.reread_from, self.reread_to)


@dg.asset(
    key=RAW_FILES,
    group_name="land",
    kinds={"duckdb"},
    owners=["team:data-engineering"],
    description=(
        "Every file delivered under the landing zone, one load-log row each (quality.load_log): "
        "new files are logged, duplicates and bad names decided, the rest left for ingest. In a "
        "backfill, the files of its periods are first set to be read again."
    ),
)
def raw_files(
    context: dg.AssetExecutionContext,
    config: LandConfig,
    pipeline: PipelineResource,
    load_lock: LoadLockResource,  # held for the whole run (resources outlive steps)
) -> dg.MaterializeResult:
    settings = pipeline.settings
    periods = config.periods()
    metadata: dict[str, object] = {}
    if periods is not None:
        metadata["backfill_periods"] = str(periods)
        try:
            metadata["files_reread"] = reread_stage(settings, periods)
        except BackfillRefusedError as error:
            # The reason, as the run's failure: `cpmds backfill` prints it, the UI shows it.
            raise dg.Failure(description=str(error), allow_retries=False) from None
    summary = land_stage(settings, context.run.run_id)
    context.log.info(summary.describe())
    return dg.MaterializeResult(metadata={**metadata, **summary.metadata()})
