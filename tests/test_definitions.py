"""The Dagster code location loads, validates and has the shape the pipeline relies on."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import dagster as dg

from cpmds.contract import load_contract
from cpmds.defs import defs
from cpmds.defs.resources import PipelineResource
from cpmds.defs.sensors import QUIET_SECONDS, raw_arrivals
from cpmds.defs.transform import warehouse
from cpmds.settings import Settings


def test_definitions_are_loadable():
    dg.Definitions.validate_loadable(defs)


def test_dagster_cli_validates_the_code_location(tmp_path):
    environment = {**os.environ, "DAGSTER_HOME": str(tmp_path), "CPMDS_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "cpmds.defs"],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_landing_asset_per_dataset_with_two_blocking_gates():
    graph = defs.resolve_asset_graph()
    dbt_models = set(warehouse.keys)  # the transform step's (tests/test_transform_*.py)
    keys = {key.to_user_string() for key in graph.get_all_asset_keys() - dbt_models}
    datasets = {dataset.id for dataset in load_contract().datasets}
    steps = {"raw_files", "load_complete", "publication/indicator_values", "published_warehouse"}
    assert {f"landing/{dataset}" for dataset in datasets} | steps == keys
    checks = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
    for dataset in datasets:
        assert {(f"landing/{dataset}", "gate_file"), (f"landing/{dataset}", "gate_rows")} <= checks
    assert ("marts/indicator_values", "gate_marts") in checks
    for key in graph.asset_check_keys:
        if key.name.startswith("gate_"):
            assert graph.get_check_spec(key).blocking, key
    for spec in defs.resolve_all_asset_specs():
        assert spec.group_name and spec.description and spec.owners, spec.key


def test_the_load_job_runs_every_asset_in_one_process():
    job = defs.resolve_job_def("load")
    assert job.executor_def.name == "in_process"


def evaluate(settings: Settings, cursor: str | None = None):
    pipeline = PipelineResource(raw=str(settings.raw), home=str(settings.home))
    context = dg.build_sensor_context(cursor=cursor, resources={"pipeline": pipeline})
    return raw_arrivals(context), context


def test_the_sensor_waits_for_quiet_then_asks_for_one_run(tmp_path):
    raw = tmp_path / "raw"
    settings = Settings(raw=raw, home=tmp_path / "home")
    raw.mkdir()
    assert isinstance(evaluate(settings)[0], dg.SkipReason)  # nothing there
    folder = raw / "sw" / "S12000036"
    folder.mkdir(parents=True)
    for month in range(1, 41):  # a partner drops 40 files at once
        (folder / f"concerns_2024{month % 12 + 1:02d}_2024070{month % 9 + 1}1200.csv").write_text(
            "x"
        )
    assert isinstance(evaluate(settings)[0], dg.SkipReason)  # still arriving
    settled = time.time() - QUIET_SECONDS - 5
    for path in folder.iterdir():
        os.utime(path, (settled, settled))
    request, context = evaluate(settings)
    assert isinstance(request, dg.RunRequest)
    again, _ = evaluate(settings, cursor=context.cursor)
    assert isinstance(again, dg.SkipReason)  # nothing new since
