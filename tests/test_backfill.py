"""Backfill (pipeline.md, Operations; interface.md): `cpmds backfill --from --to` re-reads the
landing zone's files for those periods even though they were loaded, and rebuilds; the result
equals a fresh full run over the same files.

A small landing zone (one council, four months) is loaded into a fresh home: that first, full run
is the reference. Then the home's landing rows for two of the months are lost behind the
pipeline's back (as if they had been read wrongly), which a plain run would never notice (their
files are loaded) and the backfill of those months puts right. Indicator values are compared by
the hash of an ordered export.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from cpmds.cli import main
from cpmds.contract import load_contract
from cpmds.defs import defs
from cpmds.pipeline.backfill import BACKFILL_JOB, Periods, run_backfill
from cpmds.pipeline.runner import RunOutcome, run_load
from cpmds.publish.atomic import published_path, version_run
from cpmds.settings import Settings
from cpmds.state import StateStore, state_path
from cpmds.state.schema import FILE_ID_COLUMN, landing_table
from cpmds.synthetic import GenerateOptions, generate
from cpmds.transform.build import warehouse_build

PERIODS = Periods(202402, 202403)
COMPARED = {
    "the months backfilled": (
        "period_type = 'month' and strftime(period_start, '%Y%m')::int "
        f"between {PERIODS.first} and {PERIODS.last}"
    ),
    "everything built from them": "true",
}


@pytest.fixture(scope="module")
def zone(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("backfill")
    options = GenerateOptions.build(
        out=base / "raw", seed=7, councils=1, period_from=202401, period_to=202404, scale=0.3
    )
    generate(options, progress=False)
    return options.out


@dataclass(frozen=True)
class Backfilled:
    settings: Settings
    first: RunOutcome  # a fresh full run over the landing zone
    reference: dict[str, str]  # its ordered exports' hashes, before anything was lost
    backfill: RunOutcome


@pytest.fixture(scope="module")
def backfilled(zone) -> Backfilled:
    settings = Settings(raw=zone, home=zone.parent / "home")
    first = run_load(settings)
    assert first.exit_code == 0, first.describe()
    assert first.published is not None
    reference = {name: ordered_export(first.published, where) for name, where in COMPARED.items()}
    lose_landing_rows(settings.home, PERIODS)
    backfill = run_backfill(settings, PERIODS)
    return Backfilled(settings, first, reference, backfill)


def lose_landing_rows(home: Path, periods: Periods) -> None:
    """Delete the landing rows of the files of ``periods`` behind the pipeline's back."""
    of_periods = (
        "select file_id from quality.load_log where period between "
        f"{periods.first} and {periods.last}"
    )
    with duckdb.connect(str(state_path(home))) as connection:
        lost = 0
        for dataset in load_contract().datasets:
            table = landing_table(dataset)
            lost += connection.execute(
                f"select count(*) from {table} where {FILE_ID_COLUMN} in ({of_periods})"
            ).fetchall()[0][0]
            connection.execute(f"delete from {table} where {FILE_ID_COLUMN} in ({of_periods})")
    assert lost > 0


def ordered_export(warehouse: Path, where: str = "true") -> str:
    """SHA-256 of ``marts.indicator_values`` as JSON lines in a fixed order, ``run_id`` left out."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        frame = connection.sql(
            f"select * exclude (run_id) from marts.indicator_values where {where} order by all"
        ).pl()
    assert frame.height > 0
    return hashlib.sha256(frame.write_ndjson().encode("utf-8")).hexdigest()


def warehouse_of(settings: Settings, run_id: str) -> Path:
    """The warehouse a run built: still in its build folder when it published nothing new (its
    values equal the published ones), else the version it published."""
    build = warehouse_build(settings, run_id).path
    if build.exists():
        return build
    version = published_path(settings.home).resolve()
    assert version_run(version) == run_id
    return version


def load_log(home: Path) -> list[tuple]:
    with StateStore.open(home, read_only=True) as store:
        return [(f.file_id, f.period, f.status, f.decided_run_id) for f in store.files()]


def test_a_backfill_gives_what_a_fresh_full_run_gives(backfilled):
    assert backfilled.backfill.exit_code == 0, backfilled.backfill.describe()
    rebuilt = warehouse_of(backfilled.settings, backfilled.backfill.run_id)
    for name, where in COMPARED.items():
        assert ordered_export(rebuilt, where) == backfilled.reference[name], name


def test_a_backfill_rereads_the_files_of_its_periods_only(backfilled):
    files = [row for row in load_log(backfilled.settings.home) if row[1] is not None]
    reread = [row for row in files if row[1] in PERIODS and row[2] != "duplicate"]
    assert reread and all(row[3] == backfilled.backfill.run_id for row in reread)
    others = [row for row in files if row[1] not in PERIODS]
    assert others and all(row[3] == backfilled.first.run_id for row in others)


def test_a_backfill_refuses_when_a_file_is_no_longer_there_and_changes_nothing(backfilled):
    settings = backfilled.settings
    with StateStore.open(settings.home, read_only=True) as store:
        victim = next(f for f in store.current_files() if f.period in PERIODS)
    before = load_log(settings.home)
    published = published_path(settings.home).resolve()
    moved = settings.home.parent / "moved-away"
    shutil.move(settings.raw / victim.path, moved)
    try:
        outcome = run_backfill(settings, PERIODS)
    finally:
        shutil.move(moved, settings.raw / victim.path)
    assert outcome.exit_code == 1
    assert "refused" in outcome.describe() and victim.path in outcome.describe()
    assert load_log(settings.home) == before
    assert published_path(settings.home).resolve() == published


def test_backfill_periods_are_checked_before_anything_runs(tmp_path):
    (tmp_path / "raw").mkdir()
    arguments = ["backfill", "--raw", str(tmp_path / "raw"), "--home", str(tmp_path / "home")]
    result = CliRunner().invoke(main, [*arguments, "--from", "202404", "--to", "202402"])
    assert result.exit_code == 2
    assert "backwards" in result.output
    assert not (tmp_path / "home").exists()


def test_the_dagster_backfill_job_takes_the_same_periods():
    job = defs.resolve_job_def(BACKFILL_JOB)
    fields = job.run_config_schema.config_type.fields
    assert set(fields) == {"period_from", "period_to"}
    assert all(field.is_required for field in fields.values())
    assert {node.name for node in job.nodes} == {
        node.name for node in defs.get_job_def("load").nodes
    }
