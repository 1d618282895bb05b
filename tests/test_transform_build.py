"""`cpmds run` builds the warehouse: every staging model, rows of current files only, documented.

A small landing zone (one council, two months, with a corrected resubmission) is loaded by the
real Dagster job; the test then opens the run's warehouse file on its own (no state store attached)
and compares each staging table with the state store's landing rows of loaded files, and with an
independent reading of the landing zone (``tests/landing.py``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest
from landing import read_landing_zone

from cpmds.contract import load_contract
from cpmds.pipeline.runner import run_load
from cpmds.publish.atomic import published_path
from cpmds.settings import Settings
from cpmds.state import state_path
from cpmds.synthetic import GenerateOptions, generate
from cpmds.transform import warehouse_build
from cpmds.transform.build import environment_set
from cpmds.transform.docs import write_warehouse_docs
from cpmds.transform.generate import record_identity

CONTRACT = load_contract()
MODELS = [f"stg_{dataset.id}" for dataset in CONTRACT.datasets]
CURRENT = [f"int_{dataset.id}__current" for dataset in CONTRACT.datasets]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Settings, Path, str]:
    base = tmp_path_factory.mktemp("transform")
    options = GenerateOptions.build(
        out=base / "raw", councils=1, period_from=202405, period_to=202406, scale=0.3
    )
    generate(options, progress=False)
    settings = Settings(raw=options.out, home=base / "home")
    outcome = run_load(settings)
    assert outcome.exit_code == 0, outcome.describe()
    # the run published its build: moved (not copied) to the file analysts open
    build = published_path(settings.home)
    assert build.is_file() and not warehouse_build(settings, outcome.run_id).path.exists()
    return settings, build, outcome.run_id


def warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)


def test_every_staging_model_is_a_table_in_its_own_schema(built):
    _, path, _ = built
    with warehouse(path) as connection:
        tables = set(
            connection.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'staging'"
            ).fetchall()
        )
        databases = connection.execute(
            "SELECT database_name FROM duckdb_databases() WHERE NOT internal"
        ).fetchall()
    assert {(name,) for name in [*MODELS, "stg_quality__load_log"]} == tables
    with warehouse(path) as connection:
        current = connection.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'intermediate'"
        ).fetchall()
    assert {(name,) for name in CURRENT} <= set(current)
    assert databases == [("cpmds",)]  # named like the published file; nothing else attached


def test_staging_holds_the_rows_of_loaded_files_only(built):
    settings, path, _ = built
    with duckdb.connect(str(state_path(settings.home)), read_only=True) as state:
        statuses = dict(
            state.execute("SELECT status, count(*) FROM quality.load_log GROUP BY ALL").fetchall()
        )
        expected, in_superseded = {}, 0
        for dataset in CONTRACT.datasets:
            counts = dict(
                state.execute(
                    f"""SELECT l.status, count(*) FROM landing.{dataset.id} AS r
                    JOIN quality.load_log AS l ON r._file_id = l.file_id GROUP BY ALL"""
                ).fetchall()
            )
            expected[f"stg_{dataset.id}"] = counts.get("loaded", 0)
            in_superseded += counts.get("superseded", 0)
    assert statuses.get("superseded", 0) and in_superseded, "the zone needs a superseded file"
    with warehouse(path) as connection:
        actual = {
            model: connection.execute(f"SELECT count(*) FROM staging.{model}").fetchall()[0][0]
            for model in MODELS
        }
        files = connection.execute("SELECT count(*) FROM staging.stg_quality__load_log").fetchall()[
            0
        ][0]
    assert actual == expected
    assert files == sum(statuses.values())
    assert any(actual.values())


def test_staging_row_counts_match_an_independent_reading_of_the_landing_zone(built):
    settings, path, _ = built
    zone = read_landing_zone(settings.raw)
    with warehouse(path) as connection:
        for dataset in CONTRACT.datasets:
            rows = zone.rows.get(dataset.id)
            expected = 0 if rows is None else rows.height
            actual = connection.execute(
                f"SELECT count(*) FROM staging.stg_{dataset.id}"
            ).fetchall()[0][0]
            assert actual == expected, dataset.id


def test_each_row_keeps_its_file_row_org_period_and_submission(built):
    _, path, _ = built
    with warehouse(path) as connection:
        missing = connection.execute(
            """SELECT count(*) FROM staging.stg_sw__registrations AS r
            LEFT JOIN staging.stg_quality__load_log AS l ON r._file_id = l.file_id
            WHERE l.status IS DISTINCT FROM 'loaded' OR r._org IS DISTINCT FROM l.org
            OR r._period IS DISTINCT FROM l.period OR r._submission IS DISTINCT FROM l.submission
            OR r._period_month IS DISTINCT FROM l.period_month OR r._row IS NULL"""
        ).fetchall()[0][0]
        types = dict(
            connection.execute(
                "SELECT column_name, data_type FROM duckdb_columns() "
                "WHERE table_name = 'stg_sw__registrations'"
            ).fetchall()
        )
    assert missing == 0
    assert types["registration_date"] == "DATE" and types["concerns"] == "VARCHAR[]"
    assert types["_period_month"] == "DATE" and types["_submission"] == "TIMESTAMP"


@pytest.mark.parametrize("layer", ["reference", "staging", "intermediate", "marts"])
def test_every_table_and_column_carries_its_description_as_a_comment(built, layer, dbt_manifest):
    """persist_docs: what the YAML says of each model (or seed) and column is in DuckDB itself."""
    _, path, _ = built
    described = {
        node["name"]: node
        for node in dbt_manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed") and node["schema"] == layer
    }
    with warehouse(path) as connection:
        tables = dict(
            connection.execute(
                "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = ?", [layer]
            ).fetchall()
        )
        columns = {
            (table, column): comment
            for table, column, comment in connection.execute(
                "SELECT table_name, column_name, comment FROM duckdb_columns() "
                "WHERE schema_name = ?",
                [layer],
            ).fetchall()
        }
    assert set(tables) == set(described)
    for table, comment in tables.items():
        node = described[table]
        assert comment and comment == node["description"].strip(), table
        documented = {name: column["description"] for name, column in node["columns"].items()}
        built_columns = {column for t, column in columns if t == table}
        assert built_columns == set(documented), table
        for column in built_columns:
            assert columns[(table, column)] == documented[column].strip(), (table, column)


def test_current_state_keeps_each_records_latest_row_unless_deleted(built):
    """Every dataset's current state, against a reading of staging in Python: per record, the
    latest row (period, submission, file, row), left out when it is a deletion."""
    _, path, _ = built
    with warehouse(path) as connection:
        tables = {
            table
            for (table,) in connection.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'intermediate'"
            ).fetchall()
        }
        assert set(CURRENT) <= tables
        resent = 0
        for dataset in CONTRACT.datasets:
            identity = ", ".join(record_identity(dataset, CONTRACT))
            rows = connection.execute(
                f"SELECT {identity}, _period, _submission, _file_id, _row, deleted "
                f"FROM staging.stg_{dataset.id}"
            ).fetchall()
            latest: dict[tuple, tuple] = {}
            for row in rows:
                key, order = row[:-5], row[-5:-1]
                if key not in latest or order > latest[key][:4]:
                    latest[key] = (*order, row[-1])
            resent += len(rows) - len(latest)
            expected = sorted(
                (*key, file_id, row_number)
                for key, (_, _, file_id, row_number, deleted) in latest.items()
                if not deleted
            )
            actual = connection.execute(
                f"SELECT {identity}, _file_id, _row FROM intermediate.int_{dataset.id}__current "
                f"ORDER BY ALL"
            ).fetchall()
            assert actual == expected, dataset.id
    assert resent, "the zone needs a record sent in two periods"


def test_the_warehouse_holds_no_clear_identifier(built):
    settings, path, _ = built
    zone = read_landing_zone(settings.raw)
    clear: set[str] = set()
    for dataset in CONTRACT.datasets:
        rows = zone.rows.get(dataset.id)
        if rows is None:
            continue
        for name in dataset.identifier_columns("chi", "child_ref", "record_ref"):
            clear |= {value for value in rows[name].drop_nulls().to_list() if value}
    assert clear
    with warehouse(path) as connection:
        tables = [("staging", t) for t in MODELS] + [("intermediate", t) for t in CURRENT]
        for schema, table in tables:
            text_columns = [
                column
                for column, kind in connection.execute(
                    "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?",
                    [table],
                ).fetchall()
                if kind == "VARCHAR"
            ]
            for column in text_columns:
                values = {
                    row[0]
                    for row in connection.execute(
                        f"SELECT DISTINCT {column} FROM {schema}.{table} WHERE {column} IS NOT NULL"
                    ).fetchall()
                }
                assert not values & clear, (table, column)


def test_a_build_has_a_folder_of_its_own_and_a_good_one_clears_the_earlier_ones(tmp_path):
    settings = Settings(raw=tmp_path / "raw", home=tmp_path / "home")
    first = warehouse_build(settings, "run-1")
    first.prepare()
    first.path.write_bytes(b"")
    second = warehouse_build(settings, "run-2")
    second.prepare()
    second.path.write_bytes(b"")
    assert second.path == settings.home / "warehouse" / "build" / "run-2" / "cpmds.duckdb"
    # dbt is always given the same path (so it keeps its parsed project): a link to the run's file
    link = settings.home / "warehouse" / "build" / "cpmds.duckdb"
    assert link.is_symlink() and link.resolve() == second.path.resolve()
    assert second.environment() == {
        "CPMDS_WAREHOUSE_BUILD": str(link),
        "CPMDS_STATE_DB": str(state_path(settings.home)),
        "CPMDS_RUN_ID": "run-2",
    }
    assert (second.directory.parent.stat().st_mode & 0o777) == 0o700
    assert second.remove_earlier_builds() == [first.directory]
    assert not first.directory.exists() and second.path.exists()
    second.prepare()  # a retried run starts from nothing
    assert not second.path.exists() and second.artifacts.is_dir()


@pytest.mark.parametrize("run_id", ["", "../elsewhere", "a/b", ".hidden"])
def test_a_run_id_that_is_not_a_plain_name_is_refused(tmp_path, run_id):
    with pytest.raises(ValueError, match="run id"):
        warehouse_build(Settings(raw=tmp_path, home=tmp_path), run_id)


def test_the_build_variables_are_set_only_while_dbt_starts(monkeypatch):
    monkeypatch.setenv("CPMDS_STATE_DB", "before")
    monkeypatch.delenv("CPMDS_WAREHOUSE_BUILD", raising=False)
    with environment_set({"CPMDS_STATE_DB": "during", "CPMDS_WAREHOUSE_BUILD": "x"}):
        assert os.environ["CPMDS_STATE_DB"] == "during"
    assert os.environ["CPMDS_STATE_DB"] == "before"
    assert "CPMDS_WAREHOUSE_BUILD" not in os.environ


def test_the_warehouse_documentation_page_is_written_from_the_build(built):
    settings, _, _ = built
    page = write_warehouse_docs(settings.home)
    assert page == settings.home / "docs" / "warehouse.html"
    text = page.read_text(encoding="utf-8")
    # one self-contained page: dbt's manifest and catalog are inlined, models and their docs in it
    assert "indicator_values" in text and "int_indicator__mds19" in text
    assert "Children on the register" in text


def test_a_column_left_empty_fails_its_models_not_null_test(built, tmp_path):
    """not_null_columns (dbt_project/tests/generic): one test per model over all its required
    columns, run here as the build compiled it, on the built warehouse and on a copy with a gap."""
    settings, build, run_id = built
    compiled = warehouse_build(settings, run_id).artifacts / "compiled"
    (test_sql,) = compiled.rglob("fct_registrations.yml/not_null_columns_*.sql")
    query = test_sql.read_text(encoding="utf-8")
    damaged = tmp_path / "cpmds.duckdb"  # the catalog name the compiled test reads
    shutil.copyfile(build, damaged)
    with duckdb.connect(str(damaged)) as connection:
        assert connection.execute(query).fetchall() == []
        assert connection.execute("select count(*) from marts.fct_registrations").fetchone()[0] > 2
        connection.execute(
            "update marts.fct_registrations set child_key = null "
            "where rowid in (select rowid from marts.fct_registrations limit 2)"
        )
        assert connection.execute(query).fetchall() == [("child_key", 2)]


def test_a_repeated_or_missing_key_fails_its_models_primary_key_test(built, tmp_path):
    """primary_key (dbt_project/tests/generic) groups keys by their hash first: run as the build
    compiled it, it still reports each repeated key once with its count, and each key with a
    null, on a copy of the warehouse with both."""
    settings, build, run_id = built
    compiled = warehouse_build(settings, run_id).artifacts / "compiled"
    (test_sql,) = compiled.rglob("fct_registrations.yml/primary_key_*.sql")
    query = f"select * from ({test_sql.read_text(encoding='utf-8')}) order by all"
    damaged = tmp_path / "cpmds.duckdb"  # the catalog name the compiled test reads
    shutil.copyfile(build, damaged)
    with duckdb.connect(str(damaged)) as connection:
        assert connection.execute(query).fetchall() == []
        (council, registration), (other, _) = connection.execute(
            "select council_code, registration_id from marts.fct_registrations "
            "order by council_code, registration_id limit 2"
        ).fetchall()
        connection.execute(
            "insert into marts.fct_registrations select * from marts.fct_registrations "
            "where council_code = ? and registration_id = ?",
            [council, registration],
        )
        connection.execute(
            "insert into marts.fct_registrations select * replace (null as registration_id) "
            "from marts.fct_registrations where council_code = ? limit 3",
            [other],
        )
        assert connection.execute(query).fetchall() == [
            (council, registration, 2),
            (other, None, 3),
        ]
