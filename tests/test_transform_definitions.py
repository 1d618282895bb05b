"""The dbt models in the code location: keyed, grouped and wired after the load."""

from __future__ import annotations

import dagster as dg
import pytest
from dagster_dbt import DbtCliResource

from cpmds.contract import load_contract
from cpmds.defs import defs
from cpmds.defs.ingest import landing_key
from cpmds.defs.transform import (
    LOAD_COMPLETE,
    PipelineDbtCliResource,
    source_asset_key,
    warehouse,
)

CONTRACT = load_contract()
GRAPH = defs.resolve_asset_graph()


def staging_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["staging", name])


def test_the_definitions_load_with_the_dbt_assets():
    dg.Definitions.validate_loadable(defs)
    keys = GRAPH.get_all_asset_keys()
    assert {staging_key(f"stg_{dataset.id}") for dataset in CONTRACT.datasets} <= keys
    assert staging_key("stg_quality__load_log") in keys


@pytest.mark.parametrize("dataset", CONTRACT.datasets, ids=lambda dataset: dataset.id)
def test_each_staging_model_reads_its_landing_asset_and_the_settled_load_log(dataset):
    parents = GRAPH.get(staging_key(f"stg_{dataset.id}")).parent_keys
    assert parents == {landing_key(dataset), LOAD_COMPLETE}


def test_every_dbt_source_is_an_asset_the_load_writes(dbt_manifest):
    dbt_keys = set(warehouse.keys)
    for source in dbt_manifest["sources"].values():
        key = source_asset_key(source["source_name"], source["name"])
        assert key in GRAPH.get_all_asset_keys() and key not in dbt_keys, key
    with pytest.raises(ValueError, match="no asset writes"):
        source_asset_key("quality", "runs")


def ancestors(key: dg.AssetKey) -> set[dg.AssetKey]:
    found: set[dg.AssetKey] = set()
    stack = [key]
    while stack:
        for parent in GRAPH.get(stack.pop()).parent_keys:
            if parent not in found:
                found.add(parent)
                stack.append(parent)
    return found


def test_lineage_runs_from_the_files_through_the_load_to_the_indicators():
    dataset = CONTRACT.dataset_by_id["sw__registrations"]
    assert {dg.AssetKey("raw_files"), landing_key(dataset), LOAD_COMPLETE} <= ancestors(
        staging_key("stg_sw__registrations")
    )
    lineage = ancestors(dg.AssetKey(["marts", "indicator_values"]))
    assert {
        landing_key(dataset),
        staging_key("stg_sw__registrations"),
        dg.AssetKey(["marts", "fct_registrations"]),
        dg.AssetKey(["intermediate", "int_indicator__mds18"]),
        dg.AssetKey(["reference", "ref_indicators"]),
    } <= lineage
    # load_complete waits for every dataset, so the build starts only once the load is over.
    assert {landing_key(d) for d in CONTRACT.datasets} <= ancestors(
        staging_key("stg_quality__load_log")
    )


def test_models_are_grouped_by_folder_owned_and_described():
    for key in warehouse.keys:
        node = GRAPH.get(key)
        layers = ("reference", "staging", "intermediate", "marts")
        assert node.group_name == key.path[0] in layers, key
        assert node.owners == ["team:data-engineering"], key
        assert (node.description or "").strip(), key


def test_the_load_job_builds_the_warehouse_after_the_load():
    job = defs.resolve_job_def("load")
    assert job.executor_def.name == "in_process"
    assert set(warehouse.keys) <= set(job.asset_layer.selected_asset_keys)
    assert "warehouse" in {node.name for node in job.graph.node_defs}


def test_dbt_tests_are_asset_checks_on_the_models(dbt_manifest):
    checks = {key.asset_key for key in warehouse.check_keys}
    assert {staging_key(f"stg_{dataset.id}") for dataset in CONTRACT.datasets} <= checks
    current = {dg.AssetKey(["intermediate", f"int_{d.id}__current"]) for d in CONTRACT.datasets}
    assert current <= checks
    # dbt unit tests are no checks: `make test` runs them (tests/test_dbt_unit_tests.py).
    unit_tests = {test["name"] for test in dbt_manifest["unit_tests"].values()}
    assert unit_tests and not unit_tests & {key.name for key in warehouse.check_keys}


def test_the_dbt_resource_overrides_still_override_something():
    # dagster-dbt is pinned exactly; if an upgrade renames these, fail here rather than run slow.
    for name in ("_cli_version", "_initialize_dbt_core_adapter"):
        assert name in vars(DbtCliResource), name
        assert name in vars(PipelineDbtCliResource), name
    assert isinstance(defs.resources["dbt"], PipelineDbtCliResource)
