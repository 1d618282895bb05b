"""Steps 7 and 8: gate 3 over the marts, disclosure control, and the atomic publish.

``gate_marts`` is a blocking asset check on ``marts/indicator_values``: when it fails, nothing
downstream runs, so the previously published warehouse stays exactly as it was. ``publication``
applies disclosure control into the run's warehouse; ``published_warehouse`` publishes it.
"""

import dagster as dg

from cpmds.defs.resources import PipelineResource
from cpmds.gates.marts import check_marts
from cpmds.pipeline.publish import publication_stage, publish_stage
from cpmds.pipeline.timing import stage_span
from cpmds.publish.atomic import published_path
from cpmds.transform.build import warehouse_build

INDICATOR_VALUES = dg.AssetKey(["marts", "indicator_values"])
GATE_MARTS = "gate_marts"
OWNERS = ["team:data-engineering"]


@dg.asset_check(
    asset=INDICATOR_VALUES,
    name=GATE_MARTS,
    blocking=True,
    description=(
        "Gate 3 (pipeline.md, step 7): the marts' suite (expectations/gate_marts/), every covered "
        "cell present, the register reconciled per council, and a warning on a fall in volume."
    ),
)
def gate_marts(context: dg.AssetCheckExecutionContext, pipeline: PipelineResource):
    settings = pipeline.settings
    build = warehouse_build(settings, context.run.run_id)
    previous = published_path(settings.home)
    with stage_span("gate 3"):
        result = check_marts(build.path, previous if previous.exists() else None)
    failed = list(result.failures)
    errors = list(result.errors)
    table = "\n".join(f"| {o.code} | {o.severity} | {o.failing} | {o.message} |" for o in failed)
    return dg.AssetCheckResult(
        passed=result.passed,
        severity=dg.AssetCheckSeverity.ERROR if errors else dg.AssetCheckSeverity.WARN,
        description="; ".join(f"{o.code}: {o.message}" for o in errors) or None,
        metadata={
            "rules": len(result.outcomes),
            "failed": len(failed),
            "failures": dg.MetadataValue.md(
                "| rule | severity | rows | message |\n|---|---|---|---|\n" + table
                if failed
                else "none"
            ),
        },
    )


@dg.asset(
    key=dg.AssetKey(["publication", "indicator_values"]),
    deps=[INDICATOR_VALUES],
    group_name="publish",
    kinds={"duckdb"},
    owners=OWNERS,
    description=(
        "marts.indicator_values with disclosure control applied (security.md): primary, secondary "
        "and consistency suppression, iterated until stable."
    ),
)
def publication(context: dg.AssetExecutionContext, pipeline: PipelineResource):
    with stage_span("publish") as span:
        summary = publication_stage(pipeline.settings, context.run.run_id)
        span.rows = summary.rows
    return dg.MaterializeResult(
        metadata={
            "rows": summary.rows,
            **{f"suppressed_{k}": v for k, v in summary.suppressed.items()},
        }
    )


@dg.asset(
    key=dg.AssetKey("published_warehouse"),
    deps=[dg.AssetKey(["publication", "indicator_values"])],
    group_name="publish",
    kinds={"duckdb"},
    owners=OWNERS,
    description=(
        "The warehouse analysts open, <home>/warehouse/cpmds.duckdb, replaced atomically; the "
        "shareable cpmds_publication.duckdb and the CSV export beside it."
    ),
)
def published_warehouse(context: dg.AssetExecutionContext, pipeline: PipelineResource):
    with stage_span("publish"):
        summary = publish_stage(pipeline.settings, context.run.run_id)
    metadata = {
        "published": summary.published,
        "warehouse": dg.MetadataValue.path(str(summary.warehouse)),
    }
    if summary.publication is not None:
        metadata["publication_file"] = dg.MetadataValue.path(str(summary.publication))
    if summary.export is not None:
        metadata["csv_export"] = dg.MetadataValue.path(str(summary.export))
    return dg.MaterializeResult(metadata=metadata)
