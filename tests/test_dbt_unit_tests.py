"""The dbt unit tests (hand-made rows, expected values worked out by hand from the spec) all pass,
and every indicator's model has at least one."""

from __future__ import annotations

import pytest

from cpmds.catalogue import load_catalogue
from cpmds.transform.unit_tests import run_dbt_unit_tests


@pytest.fixture(scope="module")
def unit_test_results(tmp_path_factory):
    return run_dbt_unit_tests(tmp_path_factory.mktemp("dbt-unit-tests"))


def test_every_dbt_unit_test_passes(unit_test_results, dbt_manifest):
    assert {result.name for result in unit_test_results} == {
        test["name"] for test in dbt_manifest["unit_tests"].values()
    }
    failed = [f"{r.model}.{r.name}: {r.message}" for r in unit_test_results if r.status != "pass"]
    assert not failed, "\n\n".join(failed)


def test_every_indicator_model_has_hand_worked_unit_tests(dbt_manifest):
    tested = {test["model"] for test in dbt_manifest["unit_tests"].values()}
    for indicator in load_catalogue().indicators:
        assert f"int_indicator__{indicator.id.lower()}" in tested, indicator.id
    assert {"indicator_values", "int_children", "int_indicator_coverage"} <= tested
