"""Step 6, transform: the dbt project as Dagster assets, built after the load.

Each dbt source is the ingest asset that writes it: ``landing.<partner>__<dataset>`` is the asset
``landing/<partner>__<dataset>``, and the load log is ``load_complete`` (which settles which files
are current), so lineage runs from ``raw_files`` through the landing tables to every model and on
to ``marts/indicator_values``, and the build runs only once the load has finished with the state
store. Models are keyed by their schema and name (``staging/stg_sw__registrations``) and grouped
by their folder (the seeds, reference data and the catalogue, as ``reference``); dbt data tests
are asset checks.

``dbt build`` writes the run's own warehouse file (:mod:`cpmds.transform.build`), starting from a
copy of the published one when it may (:mod:`cpmds.pipeline.incremental`), and reads the state
store attached read-only. The store is held open read-only here for the length of the build, so
no writer (another run, ``cpmds rotate-key``) can start while dbt reads it.
"""

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import redirect_stdout
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import (
    DagsterDbtTranslator,
    DbtCliInvocation,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from dbt.version import __version__ as dbt_core_version
from packaging import version

from cpmds.contract import load_contract
from cpmds.defs.ingest import landing_key
from cpmds.defs.resources import PipelineResource
from cpmds.pipeline.incremental import start_build
from cpmds.pipeline.stages import NOTHING_NEW, finish_stage
from cpmds.pipeline.timing import stage_span
from cpmds.pipeline.unchanged import build_fingerprint, nothing_to_build
from cpmds.state import StateStore
from cpmds.state.schema import LANDING, QUALITY
from cpmds.transform import (
    DBT_PROJECT_DIR,
    MANIFEST_PATH,
    prepare_manifest,
    warehouse_build,
)
from cpmds.transform.build import environment_set
from cpmds.transform.project import dbt_child_executable, dbt_environment

logger = logging.getLogger(__name__)

LOAD_COMPLETE = dg.AssetKey("load_complete")
OWNERS = ["team:data-engineering"]
# The seeds: reference data and the indicator catalogue, generated from the project's own data.
REFERENCE_GROUP = "reference"
CONSOLE_LOG = "console.log"
# dbt unit tests check the models' logic on hand-made rows, not a run's data: `make test` runs them
# (cpmds.transform.unit_tests), a run does not.
BUILD_ARGUMENTS = ["build", "--exclude-resource-type", "unit_test"]

# @dbt_assets reads the manifest now: make sure it exists and matches the project.
prepare_manifest()

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


class CpmdsDbtTranslator(DagsterDbtTranslator):
    """dbt sources onto the ingest assets; groups from the models' folders; one owner."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return source_asset_key(dbt_resource_props["source_name"], dbt_resource_props["name"])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        configured = super().get_group_name(dbt_resource_props)
        if configured:
            return configured
        if dbt_resource_props["resource_type"] == "seed":
            return REFERENCE_GROUP
        fqn = dbt_resource_props.get("fqn", [])
        # [project, folder, ..., model]: the folder under models/ is the layer.
        return fqn[1] if len(fqn) >= 3 else None

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return OWNERS


def source_asset_key(source_name: str, table: str) -> dg.AssetKey:
    """The Dagster asset that writes a dbt source's table."""
    if source_name == LANDING:
        return landing_key(load_contract().dataset_by_id[table])
    if (source_name, table) == (QUALITY, "load_log"):
        return LOAD_COMPLETE
    raise ValueError(f"no asset writes the dbt source {source_name}.{table}")


@dbt_assets(
    manifest=MANIFEST_PATH,
    project=dbt_project,
    dagster_dbt_translator=CpmdsDbtTranslator(),
    name="warehouse",
)
def warehouse(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, pipeline: PipelineResource
) -> Iterator[Any]:
    """``dbt build`` into this run's warehouse file, from the state store."""
    settings = pipeline.settings
    if nothing_to_build(settings.home, build_fingerprint(settings.home)):
        # the same files, key and code as the published warehouse: the build and everything
        # after it would give the same result, so they are skipped (Dagster skips what depends
        # on outputs not yielded)
        context.log.info(f"transform: skipped, {NOTHING_NEW}")
        finish_stage(settings, context.run.run_id, published=False, why_not=NOTHING_NEW)
        return
    build = warehouse_build(settings, context.run.run_id)
    build.prepare()
    start = start_build(settings.home, build.path)
    logger.info(start.describe())
    context.log.info(start.describe())
    started = time.monotonic()
    # Read-only for the length of the build: shared with dbt's own read-only ATTACH, and no writer
    # can open the store until dbt has finished with it.
    with StateStore.open(settings.home, read_only=True), stage_span("dbt build"):
        with environment_set({**dbt_environment(), **build.environment()}):
            invocation = dbt.cli(
                BUILD_ARGUMENTS,
                context=context,
                target_path=build.artifacts,
                raise_on_error=False,
            )
        # dagster-dbt echoes every dbt event to stdout; keep it with the build's artifacts (and
        # its dbt.log) rather than in the middle of `cpmds run`'s progress lines.
        console_log = build.artifacts / CONSOLE_LOG
        with console_log.open("w", encoding="utf-8") as console, redirect_stdout(console):
            yield from invocation.stream()
    seconds = time.monotonic() - started
    failures = _failures(invocation)
    if failures or not invocation.is_successful():
        raise dg.Failure(
            description=f"dbt build failed: {'; '.join(failures) or 'see its log'}",
            metadata={"dbt log": dg.MetadataValue.path(str(build.artifacts / "dbt.log"))},
        )
    counts = _row_counts(build.path)
    summary = (
        f"transform: built {len(counts)} tables ({sum(counts.values()):,} rows) in "
        f"{seconds:.1f}s at {build.path}"
    )
    logger.info(summary)
    context.log.info(summary + "".join(f"\n{k}: {v:,}" for k, v in sorted(counts.items())))
    for removed in build.remove_earlier_builds():
        context.log.info(f"removed the earlier build {removed}")


def _failures(invocation: DbtCliInvocation) -> list[str]:
    """The nodes that errored or failed, with dbt's message, from ``run_results.json``."""
    try:
        results = invocation.get_artifact("run_results.json")["results"]
    except (FileNotFoundError, KeyError, ValueError):
        return []
    return [
        f"{result['unique_id']}: {result.get('message') or result['status']}"
        for result in results
        if result.get("status") in ("error", "fail", "runtime error")
    ]


def _row_counts(path: Path) -> dict[str, int]:
    """``schema.table`` -> rows, for every table of a built warehouse file."""
    if not path.is_file():
        return {}
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = connection.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal"
        ).fetchall()
        return {
            f"{schema}.{table}": connection.execute(
                f'SELECT count(*) FROM "{schema}"."{table}"'
            ).fetchall()[0][0]
            for schema, table in tables
        }


class PipelineDbtCliResource(DbtCliResource):
    """``DbtCliResource`` without two start-up costs (about 4 s a run) this pipeline has no use for.

    - It asks the dbt executable its version (``dbt --version``, a second process): the executable
      is this environment's own, so its version is the installed dbt-core's.
    - It loads a dbt adapter into this process, for ``fetch_row_counts`` and column metadata. Those
      would open the warehouse file while dbt still holds it as its writer, which DuckDB refuses;
      the row counts are read once dbt has finished instead. It would also set dbt's global flags
      and event logger in the pipeline's own process.

    Both are private methods of dagster-dbt (pinned exactly in pyproject.toml); a test checks they
    still exist, so an upgrade that renames them fails loudly instead of quietly slowing down.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(dbt_core_version)

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None


def dbt_resource() -> DbtCliResource:
    return PipelineDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_child_executable())
