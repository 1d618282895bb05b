"""The dbt project: sources and staging models generated from the contract, fresh and complete."""

from __future__ import annotations

import shutil

import duckdb
import yaml

from cpmds.contract import load_contract
from cpmds.settings import PROJECT_ROOT
from cpmds.state import StateStore, state_path
from cpmds.transform import render_dbt_models, write_dbt_models
from cpmds.transform.generate import INTERMEDIATE_DIR, MARKER, STAGING_DIR
from cpmds.transform.project import DBT_PROJECT_DIR, manifest_is_fresh, project_digest

CONTRACT = load_contract()
STAGING = STAGING_DIR.relative_to(PROJECT_ROOT).as_posix()
INTERMEDIATE = INTERMEDIATE_DIR.relative_to(PROJECT_ROOT).as_posix()


def test_the_generated_sources_and_staging_models_are_fresh():
    stale = write_dbt_models(check=True)
    assert not stale, (
        f"regenerate with `python -m cpmds.transform models` (or `make docs`): {stale}"
    )


def test_changed_missing_and_stray_files_are_reported_stale_and_fixed(tmp_path):
    write_dbt_models(root=tmp_path)
    assert write_dbt_models(check=True, root=tmp_path) == []
    staging = tmp_path / STAGING
    edited = staging / "stg_sw__registrations.sql"
    edited.write_text(edited.read_text() + "-- a hand edit\n")
    (staging / "stg_sw__children.yml").unlink()
    stray = staging / "stg_sw__retired.sql"
    stray.write_text(f"-- {MARKER} from somewhere:\nselect 1\n")
    hand_written = staging / "stg_hand__written.sql"
    hand_written.write_text("select 1\n")
    intermediate = tmp_path / INTERMEDIATE
    current = intermediate / "int_sw__registrations__current.sql"
    current.write_text(current.read_text() + "-- a hand edit\n")
    intermediate_stray = intermediate / "int_sw__retired__current.yml"
    intermediate_stray.write_text(f"# {MARKER} from somewhere:\nversion: 2\n")
    unit_tests = intermediate / "_hand_written__unit_tests.yml"
    unit_tests.write_text("version: 2\n")

    stale = set(write_dbt_models(check=True, root=tmp_path))
    assert stale == {edited, staging / "stg_sw__children.yml", stray, current, intermediate_stray}
    assert stray.exists()  # check writes nothing
    write_dbt_models(root=tmp_path)
    assert write_dbt_models(check=True, root=tmp_path) == []
    assert not stray.exists() and hand_written.exists()
    assert not intermediate_stray.exists() and unit_tests.exists()


def test_one_staging_model_per_dataset_and_the_load_log():
    files = render_dbt_models()
    models = {
        path.rsplit("/", 1)[1].removesuffix(".sql")
        for path in files
        if path.startswith(f"{STAGING}/") and path.endswith(".sql")
    }
    expected = {f"stg_{dataset.id}" for dataset in CONTRACT.datasets} | {"stg_quality__load_log"}
    assert models == expected
    assert len(CONTRACT.datasets) == 18
    for model in models:  # one YAML per model, describing that model only
        document = yaml.safe_load(files[f"{STAGING}/{model}.yml"])
        assert [entry["name"] for entry in document["models"]] == [model]


def test_one_current_state_model_per_dataset_keyed_by_org_and_key():
    files = render_dbt_models()
    for dataset in CONTRACT.datasets:
        name = f"int_{dataset.id}__current"
        sql = files[f"{INTERMEDIATE}/{name}.sql"]
        assert f"ref('stg_{dataset.id}')" in sql
        # the landing table only to find the records of superseded files (changed_records)
        assert sql.count("source(") == 2 and f"changed_records('stg_{dataset.id}'" in sql
        assert "order by _period desc, _submission desc, _file_id desc, _row desc" in sql
        assert "where _recency = 1 and not coalesce(deleted, false)" in sql
        (model,) = yaml.safe_load(files[f"{INTERMEDIATE}/{name}.yml"])["models"]
        assert model["name"] == name
        columns = [column["name"] for column in model["columns"]]
        assert {"_org", "_period", "_file_id", "_row"} <= set(columns)
        assert "deleted" not in columns
        (test,) = model["data_tests"]
        key = test["primary_key"]["arguments"]["columns"]
        period = ["_period"] if dataset.cadence == "annual" else []
        assert key[: 1 + len(period)] == ["_org", *period] and len(key) > 1 + len(period)
        assert f"partition by {', '.join(key)}" in sql
    annual = {dataset.id for dataset in CONTRACT.datasets if dataset.cadence == "annual"}
    assert annual == {"education__attendance", "nrs__population"}
    assert (
        "partition by _org, registration_id\n"
        in files[f"{INTERMEDIATE}/int_sw__registrations__current.sql"]
    )


def test_the_current_state_models_have_dbt_unit_tests(dbt_manifest):
    tested = {test["model"] for test in dbt_manifest["unit_tests"].values()}
    assert {"int_sw__registrations__current", "int_education__attendance__current"} <= tested


def test_the_sources_describe_every_column_of_the_state_stores_tables(tmp_path):
    """Every landing table and the load log, column for column and type for type, described."""
    with StateStore.open(tmp_path):
        pass
    with duckdb.connect(str(state_path(tmp_path)), read_only=True) as connection:
        actual = {}
        for schema, table, column, kind in connection.execute(
            "SELECT table_schema, table_name, column_name, data_type "
            "FROM information_schema.columns ORDER BY table_schema, table_name, ordinal_position"
        ).fetchall():
            actual.setdefault((schema, table), []).append((column, kind.lower()))
    sources = yaml.safe_load(render_dbt_models()[f"{STAGING}/_sources.yml"])["sources"]
    described = {
        (source["schema"], table["name"]): [
            (column["name"], column["data_type"]) for column in table["columns"]
        ]
        for source in sources
        for table in source["tables"]
    }
    for source in sources:
        assert source["database"] == "state" and source["description"]
        for table in source["tables"]:
            assert table["description"]
            assert all(column["description"].strip() for column in table["columns"]), table
    landing = {key: value for key, value in actual.items() if key[0] == "landing"}
    landing.pop(("landing", "_pseudonym_key"))
    assert {key: described[key] for key in landing} == landing
    assert set(described) == set(landing) | {("quality", "load_log")}
    assert described[("quality", "load_log")] == actual[("quality", "load_log")]


def test_every_model_and_column_is_described_in_the_manifest(dbt_manifest):
    models = {
        node["name"]: node
        for node in dbt_manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    assert {f"stg_{dataset.id}" for dataset in CONTRACT.datasets} <= set(models)
    assert {f"int_{dataset.id}__current" for dataset in CONTRACT.datasets} <= set(models)
    for name, node in models.items():
        assert node["description"].strip(), name
        assert node["columns"], name
        for column, properties in node["columns"].items():
            assert properties["description"].strip(), f"{name}.{column}"
        assert node["config"]["persist_docs"] == {"relation": True, "columns": True}, name
        assert node["patch_path"].endswith(f"{name}.yml"), name  # one YAML per model


def test_staging_renames_say_what_a_column_now_holds():
    sql = render_dbt_models()[f"{STAGING}/stg_sw__children.sql"]
    for expected in (
        "cast(source.chi as varchar) as chi_pseudonym",
        "cast(source.chi__valid as boolean) as chi_valid",
        "cast(source.chi__birth_month as date) as chi_birth_month",
        "cast(source.chi__sex as varchar) as chi_sex",
        "cast(source.date_of_birth as date) as birth_month",
    ):
        assert expected in sql
    assert "postcode" not in sql  # dropped at load
    assert "where status = 'loaded' and dataset = 'sw__children'" in sql


def test_the_manifest_is_fresh_and_its_digest_follows_the_project(tmp_path, dbt_manifest):
    assert manifest_is_fresh()
    copy = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs"))
    before = project_digest(copy)
    (copy / "target").mkdir()
    (copy / "target" / "anything.json").write_text("{}")
    assert project_digest(copy) == before  # dbt's own output is not project source
    model = copy / "models" / "staging" / "stg_sw__children.sql"
    model.write_text(model.read_text() + "\n")
    assert project_digest(copy) != before
