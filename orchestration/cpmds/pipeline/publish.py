"""Steps 8 of the pipeline as plain functions: disclosure control, then publication.

- :func:`publication_stage` applies disclosure control to the run's ``marts.indicator_values``
  and writes ``publication.indicator_values`` into the run's warehouse (after gate 3 passed).
- :func:`publish_stage` copies the quality history into the warehouse, publishes it atomically
  as ``<home>/warehouse/cpmds.duckdb`` (unless nothing changed), writes the shareable
  ``cpmds_publication.duckdb``, the CSV export and the accessible workbook
  (``cpmds_published_<run_id>.xlsx``), and closes the run's record.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cpmds.pipeline.unchanged import build_fingerprint, remember_build
from cpmds.publish.atomic import publish_build
from cpmds.publish.consistency import write_consistency
from cpmds.publish.outputs import (
    PUBLICATION,
    PUBLICATION_FILE,
    export_csv,
    write_publication_file,
    write_publication_schema,
)
from cpmds.publish.suppression import suppress
from cpmds.publish.workbook import write_workbook
from cpmds.report.ahead import charts_drawn_meanwhile
from cpmds.settings import Settings
from cpmds.state import StateStore, state_path
from cpmds.state.schema import KEY_TABLE, QUALITY
from cpmds.transform.build import warehouse_build

logger = logging.getLogger(__name__)

# The quality history copied into each published warehouse (interface.md: readable by all).
QUALITY_TABLES = ("load_log", "row_failures", "gate_results", "runs")


@dataclass(frozen=True)
class PublicationSummary:
    rows: int
    suppressed: dict[str, int]

    def describe(self) -> str:
        reasons = ", ".join(f"{count:,} {reason}" for reason, count in self.suppressed.items())
        total = sum(self.suppressed.values())
        return f"publication: {self.rows:,} rows, {total:,} suppressed ({reasons or 'none'})"


@dataclass(frozen=True)
class PublishSummary:
    published: bool
    warehouse: Path
    publication: Path | None
    export: Path | None

    def describe(self) -> str:
        if not self.published:
            return f"publish: nothing changed; {self.warehouse} stays as it was"
        return f"publish: {self.warehouse} (shareable: {self.publication}; CSV: {self.export})"


def publication_stage(settings: Settings, run_id: str) -> PublicationSummary:
    build = warehouse_build(settings, run_id)
    with duckdb.connect(str(build.path)) as connection:
        values = connection.sql("select * from marts.indicator_values").pl()
        published = suppress(values)
        write_publication_schema(connection, published)
        write_consistency(connection)  # the quality report's cross-partner checks
    counts = published.filter(published["suppressed"])["suppression_reason"].value_counts()
    summary = PublicationSummary(
        rows=published.height,
        suppressed=dict(counts.sort("suppression_reason").rows()),
    )
    logger.info(summary.describe())
    return summary


def publish_stage(settings: Settings, run_id: str) -> PublishSummary:
    from cpmds.pipeline.stages import NOTHING_NEW, finish_stage

    build = warehouse_build(settings, run_id)
    _copy_quality(build.path, settings.home, run_id)
    result = publish_build(build.path, settings.home)
    publication = export = None
    if result.changed:
        publication = write_publication_file(
            result.path, result.path.with_name(PUBLICATION_FILE), label=run_id
        )
        # The exports keep one core busy for seconds (the workbook most): the report's charts of
        # what was just published are drawn on the others meanwhile.
        with charts_drawn_meanwhile(settings.home):
            with duckdb.connect(str(result.path), read_only=True) as connection:
                rows = connection.sql(f"select * from {PUBLICATION}.indicator_values").pl()
            export = export_csv(
                rows, settings.home / "exports" / f"publication_indicator_values_{run_id}.csv"
            )
            write_workbook(
                publication, settings.home / "exports" / f"cpmds_published_{run_id}.xlsx"
            )
    finish_stage(
        settings, run_id, published=result.changed, why_not=None if result.changed else NOTHING_NEW
    )
    remember_build(settings.home, build_fingerprint(settings.home), run_id)
    summary = PublishSummary(result.changed, result.path, publication, export)
    logger.info(summary.describe())
    return summary


def _copy_quality(warehouse: Path, home: Path, run_id: str) -> None:
    """The state store's quality history into the warehouse, this run shown as published (the
    copy is only ever seen if the warehouse is)."""
    with StateStore.open(home, read_only=True), duckdb.connect(str(warehouse)) as connection:
        state = str(state_path(home)).replace("'", "''")
        connection.execute(f"attach '{state}' as state (read_only)")
        connection.execute(f"create schema if not exists {QUALITY}")
        for table in QUALITY_TABLES:
            connection.execute(
                f"create or replace table {QUALITY}.{table} as "
                f"select * from state.{QUALITY}.{table}"
            )
        # Which key the pseudonyms were made under (its one-way id, not the key): after a key
        # rotation the warehouse differs from the published one even if no figure does, so it is
        # published and the old pseudonyms leave the analysts' file.
        connection.execute(
            f"create or replace table {QUALITY}.pseudonym_key as "
            f"select distinct key_id from state.{KEY_TABLE}"
        )
        connection.execute("detach state")
        connection.execute(
            f"update {QUALITY}.runs set status = 'finished', published = true, "
            "why_not = null, finished = ? where run_id = ?",
            [dt.datetime.now(dt.UTC).replace(tzinfo=None), run_id],
        )
