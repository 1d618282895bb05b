"""Steps 2-5 per dataset: gate 1, read and normalise, gate 2, pseudonymise, write the landing table.

Each dataset is one asset with two blocking checks, so nothing downstream of a gate that could not
decide its files runs. The checks' results are computed inside the asset (a gate decides what is
written), and reported with their counts and reasons.
"""

import dagster as dg

from cpmds.contract import Dataset, load_contract
from cpmds.defs.land import RAW_FILES
from cpmds.defs.resources import PipelineResource
from cpmds.pipeline.stages import ingest_stage, settle_stage

GATE_FILE = "gate_file"
GATE_ROWS = "gate_rows"


def landing_key(dataset: Dataset) -> dg.AssetKey:
    return dg.AssetKey(["landing", dataset.id])


def _landing_asset(dataset: Dataset) -> dg.AssetsDefinition:
    key = landing_key(dataset)

    @dg.asset(
        key=key,
        deps=[RAW_FILES],
        group_name="ingest",
        kinds={"polars", "duckdb"},
        owners=["team:data-engineering"],
        description=f"{dataset.title}: the typed, pseudonymised rows of every loaded file "
        f"({dataset.partner} {dataset.dataset}), in the state store's landing.{dataset.id}.",
        check_specs=[
            dg.AssetCheckSpec(
                GATE_FILE,
                asset=key,
                blocking=True,
                description="Gate 1, the file contract: name, sender, decoding, header, sizes.",
            ),
            dg.AssetCheckSpec(
                GATE_ROWS,
                asset=key,
                blocking=True,
                description="Gate 2, the rows: codes, required fields, dates, keys, CHI.",
            ),
        ],
    )
    def landing(context: dg.AssetExecutionContext, pipeline: PipelineResource):
        summary = ingest_stage(pipeline.settings, dataset.id, context.run.run_id)
        context.log.info(summary.describe())
        return dg.MaterializeResult(
            metadata=summary.metadata(),
            check_results=[
                dg.AssetCheckResult(
                    check_name=GATE_FILE,
                    passed=summary.gate_file.passed,
                    metadata={
                        **summary.gate_file.metadata(),
                        "failures_by_rule": dg.MetadataValue.md(summary.gate_file.failures_table()),
                    },
                ),
                dg.AssetCheckResult(
                    check_name=GATE_ROWS,
                    passed=summary.gate_rows.passed,
                    metadata={
                        **summary.gate_rows.metadata(),
                        "failures_by_rule": dg.MetadataValue.md(summary.gate_rows.failures_table()),
                    },
                ),
            ],
        )

    return landing


landing_assets = [_landing_asset(dataset) for dataset in load_contract().datasets]


@dg.asset(
    key=dg.AssetKey("load_complete"),
    deps=[landing_key(dataset) for dataset in load_contract().datasets],
    group_name="ingest",
    kinds={"duckdb"},
    owners=["team:data-engineering"],
    description=(
        "Settles which files are current (supersession) once every dataset's files are decided: "
        "the load log the warehouse is built from."
    ),
)
def load_complete(context: dg.AssetExecutionContext, pipeline: PipelineResource):
    changed = settle_stage(pipeline.settings, context.run.run_id)
    return dg.MaterializeResult(metadata={"files_changed_standing": changed})
