"""The GX suites under expectations/: fresh, deterministic, each expectation tied to a rule."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from cpmds.contract import load_contract
from cpmds.gates import load_rules, write_suites
from cpmds.gates.marts import marts_suite_path
from cpmds.gates.registry import RULES_RELATIVE
from cpmds.gates.suites import (
    GATES,
    MARTS_GATE,
    NORMALISER_ONLY_KINDS,
    SUITES_RELATIVE,
    columns_read,
    render_all,
    suite_path,
)
from cpmds.settings import PROJECT_ROOT

CONTRACT = load_contract()
REGISTRY = load_rules()


def _suite(gate: str, dataset_id: str) -> dict:
    return json.loads(suite_path(gate, dataset_id).read_text(encoding="utf-8"))


def _rules_in(suite: dict) -> set[str]:
    return {expectation["meta"]["rule"] for expectation in suite["expectations"]}


def test_the_committed_suites_and_registry_are_fresh() -> None:
    # Fails when the contract or the registry changed without `cpmds suites`.
    assert write_suites(check=True) == []


def test_changed_missing_and_stray_suites_are_reported_stale_and_fixed(tmp_path: Path) -> None:
    written = write_suites(root=tmp_path)
    # The registry, gates 1 and 2's suite per dataset, and gate 3's suite over the marts.
    assert len(written) == 1 + len(GATES) * len(CONTRACT.datasets) + 1
    assert marts_suite_path(tmp_path) in written
    assert tmp_path / RULES_RELATIVE in written
    assert write_suites(check=True, root=tmp_path) == []

    edited = suite_path("gate_rows", "sw__registrations", tmp_path)
    edited.write_text(edited.read_text(encoding="utf-8").replace("critical", "info", 1))
    removed = suite_path("gate_file", "police__offences", tmp_path)
    removed.unlink()
    stray = tmp_path / SUITES_RELATIVE / "gate_rows" / "sw__retired_dataset.json"
    stray.write_text("{}\n")
    marts_edited = marts_suite_path(tmp_path)
    marts_edited.write_text(marts_edited.read_text(encoding="utf-8").replace("MART-001", "X"))
    marts_stray = tmp_path / SUITES_RELATIVE / MARTS_GATE / "retired_table.json"
    marts_stray.write_text("{}\n")

    stale = write_suites(check=True, root=tmp_path)
    assert sorted(stale) == sorted([edited, removed, stray, marts_edited, marts_stray])
    assert stray.exists() and not removed.exists(), "check writes nothing"

    assert sorted(write_suites(root=tmp_path)) == sorted(stale)
    assert not stray.exists() and not marts_stray.exists()
    assert write_suites(check=True, root=tmp_path) == []
    assert edited.read_text(encoding="utf-8") == suite_path(
        "gate_rows", "sw__registrations"
    ).read_text(encoding="utf-8")


def test_suites_are_deterministic_with_stable_unique_ids() -> None:
    assert render_all() == render_all()
    for gate in GATES:
        for dataset in CONTRACT.datasets:
            suite = _suite(gate, dataset.id)
            ids = [suite["id"], *(e["id"] for e in suite["expectations"])]
            assert len(set(ids)) == len(ids)
            assert all(uuid.UUID(value).version == 5 for value in ids)
            assert suite["name"] == f"{gate}__{dataset.id}"


def test_every_expectation_carries_an_active_rule_of_its_dataset_and_its_severity() -> None:
    gx_severity = {"error": "critical", "warning": "warning"}
    for gate in GATES:
        for dataset in CONTRACT.datasets:
            for expectation in _suite(gate, dataset.id)["expectations"]:
                rule = REGISTRY.by_code[expectation["meta"]["rule"]]
                assert rule.status == "active"
                assert rule.dataset in (None, dataset.id)
                assert expectation["meta"]["severity"] == rule.severity
                assert expectation["severity"] == gx_severity[rule.severity]


def test_every_rule_is_in_a_suite_or_found_by_the_normaliser_or_a_file_check() -> None:
    for dataset in CONTRACT.datasets:
        in_file_suite = _rules_in(_suite("gate_file", dataset.id))
        in_rows_suite = _rules_in(_suite("gate_rows", dataset.id))
        for rule in REGISTRY.for_dataset(dataset.id, "file"):
            assert rule.code in in_file_suite, rule.code
        for rule in REGISTRY.for_dataset(dataset.id, "rows"):
            column = dataset.column_map.get(rule.fields[0])
            normaliser_only = rule.kind in NORMALISER_ONLY_KINDS or (
                rule.kind == "bad_code" and column is not None and column.type == "codes"
            )
            assert (rule.code in in_rows_suite) != normaliser_only, rule.code
        assert REGISTRY.file_rule("duplicate_column").code in in_file_suite
        assert REGISTRY.file_rule("unknown_column").code in in_file_suite


def test_the_suite_expresses_the_rules_the_issue_names() -> None:
    registrations = _suite("gate_rows", "sw__registrations")["expectations"]
    by_type = {(e["type"], json.dumps(e["kwargs"], sort_keys=True)) for e in registrations}
    pair = "expect_column_pair_values_a_to_be_greater_than_b"
    assert (
        pair,
        json.dumps(
            {
                "column_A": "deregistration_date",
                "column_B": "registration_date",
                "ignore_row_if": "either_value_is_missing",
                "or_equal": True,
            },
            sort_keys=True,
        ),
    ) in by_type
    unique = [e for e in registrations if e["type"] == "expect_compound_columns_to_be_unique"]
    assert [e["kwargs"]["column_list"] for e in unique] == [["_file", "registration_id"]]
    conditional = [
        e
        for e in registrations
        if e["kwargs"].get("column") == "deregistration_reason"
        and e["type"] == "expect_column_values_to_not_be_null"
    ]
    assert conditional[0]["kwargs"]["row_condition"] == {
        "conditions": [
            {"column": {"name": "deregistration_date"}, "is_null": False, "type": "nullity"},
            {
                "column": {"name": "deleted"},
                "operator": "!=",
                "parameter": True,
                "type": "comparison",
            },
        ],
        "type": "and",
    }

    cppms = _suite("gate_rows", "sw__cppms")["expectations"]
    when = {
        tuple(e["kwargs"]["row_condition"]["parameter"]): e["kwargs"]["value_set"]
        for e in cppms
        if e["kwargs"].get("column") == "outcome"
        and "value_set" in e["kwargs"]
        and "row_condition" in e["kwargs"]
    }
    assert when == {("INI", "PRE", "TRA"): ["REG", "NREG"], ("REV",): ["CONT", "DEREG"]}


def test_great_expectations_loads_every_suite_unchanged() -> None:
    import great_expectations as gx

    for path in sorted((PROJECT_ROOT / SUITES_RELATIVE).glob("*/*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        suite = gx.ExpectationSuite(
            name=document["name"], expectations=document["expectations"], id=document["id"]
        )
        loaded = json.loads(json.dumps(suite.to_json_dict()["expectations"], default=str))
        assert loaded == document["expectations"], path.name


def test_a_suite_reads_the_columns_its_expectations_and_row_conditions_name() -> None:
    # Gate 2 hands GX only these columns (and _file, _row): one left out would fail the suite run.
    attendance = columns_read(suite_path("gate_rows", "education__attendance"))
    assert attendance == (
        "pupil_id",
        "chi__valid",
        "sessions_possible",
        "deleted",  # tested by the row conditions of the not-null rules
        "sessions_attended",
        "exclusions",
        "_file",
    )
    assert "chi" not in attendance  # its check digit is read through chi__valid
    # A condition of two parts: the decision date is required once there is a decision.
    referrals = columns_read(suite_path("gate_rows", "scra__referrals"))
    assert {"decision", "decision_date", "deleted"} <= set(referrals)
    assert columns_read(suite_path("gate_file", "sw__cppms")) == (
        "present",
        "contract_column",
        "_file",
    )
