"""The nightly build starts from the last published build (incremental staging models, indicator
periods whose inputs are unchanged kept) and gives exactly what a build from nothing gives; anything
that could make the two differ starts it empty."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

import cpmds.defs.transform as transform_assets
from cpmds.pipeline.incremental import FULL_REFRESH_VARIABLE, BuildStart, start_build
from cpmds.pipeline.runner import run_load
from cpmds.publish.atomic import published_path
from cpmds.settings import Settings
from cpmds.state import state_path
from cpmds.synthetic import GenerateOptions, generate
from cpmds.transform.build import warehouse_build

KEY = "a1b2c3d4e5f60718" * 4
LAST_MONTH = 202405
DBT_SCHEMAS = ("reference", "staging", "intermediate", "marts")


@pytest.fixture(scope="module")
def nightly(tmp_path_factory) -> dict:
    """A cold load of three months and a school year's attendance, then the fourth month on top
    with resubmissions that drop a row of an earlier month's registrations and of the attendance;
    returns the settings and how each build started."""
    base = tmp_path_factory.mktemp("incremental")
    options = GenerateOptions.build(
        out=base / "raw", seed=11, councils=2, period_from=202402, period_to=LAST_MONTH, scale=0.3
    )
    generate(options, progress=False)
    _add_attendance(options, base / "school_year")
    parked = _hold_back(options.out, LAST_MONTH, base / "parked")
    mp = pytest.MonkeyPatch()
    mp.setenv("CPMDS_PSEUDONYM_KEY", KEY)
    starts: list[BuildStart] = []

    def recorded(home: Path, target: Path) -> BuildStart:
        starts.append(start_build(home, target))
        return starts[-1]

    mp.setattr(transform_assets, "start_build", recorded)
    settings = Settings(raw=options.out, home=base / "home")
    cold = run_load(settings)
    assert cold.exit_code == 0 and cold.published is not None, cold.describe()
    for parked_path, path in parked:
        parked_path.replace(path)
    resubmitted = _resubmit_without_last_row(options.out, "sw/*/registrations_202403_*.csv")
    attendance = _resubmit_without_last_row(options.out, "education/*/attendance_202307_*.csv")
    nightly = run_load(settings)
    assert nightly.exit_code == 0 and nightly.published is not None, nightly.describe()
    yield {
        "settings": settings,
        "starts": starts,
        "resubmitted": resubmitted,
        "attendance": attendance,
        "patch": mp,
    }
    mp.undo()


def _hold_back(raw: Path, period: int, aside: Path) -> list[tuple[Path, Path]]:
    moves = []
    for path in sorted(raw.rglob(f"*_{period}_*")):
        parked = aside / path.relative_to(raw)
        parked.parent.mkdir(parents=True, exist_ok=True)
        path.replace(parked)
        moves.append((parked, path))
    return moves


def _add_attendance(options: GenerateOptions, scratch: Path) -> None:
    """The school year 2022/23's attendance returns (period 202307), generated on their own."""
    school_year = GenerateOptions.build(
        out=scratch, seed=11, councils=2, period_from=202307, period_to=202307, scale=0.3
    )
    generate(school_year, progress=False)
    shutil.copytree(scratch / "education", options.out / "education")


def _resubmit_without_last_row(raw: Path, pattern: str) -> Path:
    """A later delivery of an earlier period's file, one record fewer: it supersedes the
    original, whose rows must leave staging and every model built from them."""
    original = next(
        path for path in sorted(raw.glob(pattern)) if len(path.read_bytes().splitlines()) > 3
    )
    lines = original.read_bytes().splitlines(keepends=True)
    dataset, period, _ = original.stem.split("_")
    resubmitted = original.with_name(f"{dataset}_{period}_202405301200.csv")
    resubmitted.write_bytes(b"".join(lines[:-1]))
    return resubmitted


def _tables(connection: duckdb.DuckDBPyConnection, database: str) -> list[tuple[str, str]]:
    return connection.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = ? "
        "and schema_name in (select unnest(?)) order by all",
        [database, list(DBT_SCHEMAS)],
    ).fetchall()


def test_the_nightly_build_started_from_the_published_one(nightly):
    cold, night = nightly["starts"]
    assert not cold.incremental and cold.why == "nothing is published yet"
    assert night.incremental, night.why


def test_an_incremental_build_equals_a_build_from_nothing(nightly):
    settings: Settings = nightly["settings"]
    incremental = published_path(settings.home).resolve()
    patch: pytest.MonkeyPatch = nightly["patch"]
    patch.setenv(FULL_REFRESH_VARIABLE, "1")
    try:
        again = run_load(settings)
    finally:
        patch.delenv(FULL_REFRESH_VARIABLE)
    assert again.exit_code == 0, again.describe()
    assert nightly["starts"][-1].why == "a full refresh was asked for"
    # the same figures publish nothing: the full refresh's build is still in its folder
    assert again.published is None
    from_nothing = warehouse_build(settings, again.run_id).path
    with duckdb.connect() as connection:
        connection.execute(f"attach '{incremental}' as incremental (read_only)")
        connection.execute(f"attach '{from_nothing}' as from_nothing (read_only)")
        tables = _tables(connection, "incremental")
        assert tables == _tables(connection, "from_nothing")
        assert ("staging", "stg_sw__registrations") in tables
        for schema, table in tables:
            columns = connection.execute(
                "select column_name from duckdb_columns() where database_name = 'incremental' "
                "and schema_name = ? and table_name = ? "
                "and column_name not in ('run_id', '_staged_by') "
                "order by column_index",
                [schema, table],
            ).fetchall()
            listed = ", ".join(f'"{name}"' for (name,) in columns)
            for first, second in (("incremental", "from_nothing"), ("from_nothing", "incremental")):
                extra = connection.execute(
                    f"select count(*) from (select {listed} from {first}.{schema}.{table} "
                    f"except all select {listed} from {second}.{schema}.{table})"
                ).fetchone()[0]
                assert extra == 0, f"{schema}.{table}: {extra} row(s) only in the {first} build"


def _deliveries_by_status(
    connection: duckdb.DuckDBPyConnection, resubmitted: Path
) -> dict[str, list[int]]:
    """Load-log status -> the file ids of the sender's deliveries for the resubmission's dataset
    and period (the original and the resubmission)."""
    dataset, period, _ = resubmitted.stem.split("_")
    deliveries = f"%/{resubmitted.parent.name}/{dataset}_{period}_%"
    return dict(
        connection.execute(
            "select status, list(file_id) from staging.stg_quality__load_log "
            "where path like ? group by status",
            [deliveries],
        ).fetchall()
    )


def test_the_superseded_file_left_staging(nightly):
    settings: Settings = nightly["settings"]
    resubmitted: Path = nightly["resubmitted"]
    with duckdb.connect(str(published_path(settings.home)), read_only=True) as connection:
        ids = _deliveries_by_status(connection, resubmitted)
        assert len(ids["superseded"]) == 1 and len(ids["loaded"]) == 1
        staged = dict(
            connection.execute(
                "select _file_id, count(*) from staging.stg_sw__registrations "
                "where _file_id in (select unnest(?)) group by all",
                [ids["superseded"] + ids["loaded"]],
            ).fetchall()
        )
    assert ids["superseded"][0] not in staged
    assert staged[ids["loaded"][0]] > 0


def test_the_attendance_of_a_superseded_return_is_replaced_by_the_resubmission(nightly):
    """fct_attendance keeps its rows from the last build only while their rows are current: the
    resubmitted return's rows replace the original's, one pupil fewer."""
    settings: Settings = nightly["settings"]
    resubmitted: Path = nightly["attendance"]
    with duckdb.connect(str(published_path(settings.home)), read_only=True) as connection:
        ids = _deliveries_by_status(connection, resubmitted)
        council = connection.execute(
            "select distinct council_code from marts.fct_attendance where _file_id = ?",
            [ids["loaded"][0]],
        ).fetchall()
        counted = dict(
            connection.execute(
                "select _file_id, count(*) from marts.fct_attendance "
                "where council_code = ? group by all",
                [council[0][0]],
            ).fetchall()
        )
    resubmitted_rows = len(resubmitted.read_bytes().splitlines()) - 1
    assert counted == {ids["loaded"][0]: resubmitted_rows}
    assert ids["superseded"][0] not in counted


@pytest.fixture
def home_copy(nightly, tmp_path) -> Path:
    """The fixture's home, copied so that its state store can be changed."""
    settings: Settings = nightly["settings"]
    home = tmp_path / "home"
    shutil.copytree(settings.home / "state", home / "state")
    shutil.copytree(settings.home / "warehouse", home / "warehouse", symlinks=True)
    return home


def test_a_file_read_again_since_starts_the_build_empty(home_copy, tmp_path):
    with duckdb.connect(str(state_path(home_copy))) as state:
        state.execute(
            "update quality.load_log set decided_run_id = 'a-backfill' where file_id = "
            "(select min(file_id) from quality.load_log where status = 'loaded')"
        )
    target = tmp_path / "cpmds.duckdb"
    start = start_build(home_copy, target)
    assert not start.incremental and "read again" in start.why
    assert not target.exists()


def test_another_key_starts_the_build_empty(home_copy, tmp_path):
    with duckdb.connect(str(state_path(home_copy))) as state:
        state.execute("update landing._pseudonym_key set key_id = 'another key'")
    start = start_build(home_copy, tmp_path / "cpmds.duckdb")
    assert not start.incremental and start.why == "the pseudonymisation key changed"


def test_other_code_starts_the_build_empty(home_copy, tmp_path, monkeypatch):
    monkeypatch.setattr("cpmds.pipeline.unchanged.code_digest", lambda: "another version")
    start = start_build(home_copy, tmp_path / "cpmds.duckdb")
    assert not start.incremental and "other code" in start.why


def test_a_reusable_copy_keeps_only_what_dbt_built(home_copy, tmp_path):
    target = tmp_path / "cpmds.duckdb"
    start = start_build(home_copy, target)
    assert start.incremental, start.why
    with duckdb.connect(str(target), read_only=True) as connection:
        schemas = {
            schema
            for (schema,) in connection.execute(
                "select distinct schema_name from duckdb_tables()"
            ).fetchall()
        }
    assert schemas == set(DBT_SCHEMAS)


def test_a_period_whose_inputs_are_unchanged_keeps_its_cells(nightly, home_copy, monkeypatch):
    """The indicator models count again only the periods whose digest changed: a cell of an
    unchanged period is taken from the last build as it is (shown here by a cell altered in the
    published copy surviving the build), and a period whose digest differs is counted afresh."""
    settings: Settings = nightly["settings"]
    published = published_path(home_copy).resolve()
    with duckdb.connect(str(published)) as connection:
        original = {
            label: (total, cells)
            for label, total, cells in connection.execute(
                "select period_label, sum(numerator), count(*) "
                "from intermediate.int_indicator__mds01 "
                "where period_label in ('2024-02', '2024-03') group by all"
            ).fetchall()
        }
        connection.execute(
            "update intermediate.int_indicator__mds01 set numerator = numerator + 1000 "
            "where period_label in ('2024-02', '2024-03')"
        )
        connection.execute(
            "update intermediate.int_indicator__mds01 set period_items_digest = 'stale' "
            "where period_label = '2024-03'"
        )
    monkeypatch.setenv("CPMDS_ALWAYS_BUILD", "1")
    again = run_load(Settings(raw=settings.raw, home=home_copy))
    assert again.exit_code == 0, again.describe()
    assert nightly["starts"][-1].incremental, nightly["starts"][-1].why
    built = warehouse_build(Settings(raw=settings.raw, home=home_copy), again.run_id).path
    if not built.exists():
        built = published_path(home_copy)
    with duckdb.connect(str(built), read_only=True) as connection:
        rebuilt = dict(
            connection.execute(
                "select period_label, sum(numerator) from intermediate.int_indicator__mds01 "
                "where period_label in ('2024-02', '2024-03') group by all"
            ).fetchall()
        )
    kept_total, kept_cells = original["2024-02"]
    assert rebuilt == {"2024-02": kept_total + 1000 * kept_cells, "2024-03": original["2024-03"][0]}
