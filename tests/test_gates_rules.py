"""The rule registry: fresh against the contract, unique codes that never change."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from cpmds.contract import Contract, load_contract
from cpmds.gates import build_registry, load_rules, write_rules
from cpmds.gates.derive import FILE_CHECK_KINDS, derive_rules
from cpmds.gates.registry import (
    RULES_PATH,
    RULES_RELATIVE,
    Registry,
    parse_registry,
    render_registry,
)
from cpmds.ingest import PROBLEM_SEVERITY, REJECTION_MESSAGES

CONTRACT = load_contract()
REGISTRY = load_rules()
CODE = re.compile(r"^(FILE|[A-Z]+-[A-Z0-9]+)-\d{3}$")


def _contract_with(dataset_id: str, change: Any) -> Contract:
    """A copy of the contract, validated afresh, with ``change(columns)`` applied to a dataset."""
    data = CONTRACT.model_dump()
    for dataset in data["datasets"]:
        if f"{dataset['partner']}__{dataset['dataset']}" == dataset_id:
            dataset["columns"] = change(list(dataset["columns"]))
    return Contract.model_validate(data)


def _code_by_key(registry: Registry) -> dict[tuple, str]:
    return {rule.key: rule.code for rule in registry.rules}


def test_the_committed_registry_is_fresh() -> None:
    # Fails when the contract changed without `cpmds suites`.
    assert write_rules(check=True) == []


def test_a_changed_copy_is_reported_stale_and_regenerated_with_the_same_codes(
    tmp_path: Path,
) -> None:
    committed = RULES_PATH.read_text(encoding="utf-8")
    copy = tmp_path / RULES_RELATIVE
    copy.parent.mkdir(parents=True)
    edited = committed.replace("is blank, but it is required", "may be blank", 1)
    assert edited != committed
    copy.write_text(edited, encoding="utf-8")

    assert write_rules(check=True, root=tmp_path) == [copy]
    assert copy.read_text(encoding="utf-8") == edited, "check writes nothing"
    assert write_rules(root=tmp_path) == [copy]
    assert copy.read_text(encoding="utf-8") == committed
    assert write_rules(check=True, root=tmp_path) == []


def test_codes_are_unique_well_formed_and_prefixed_by_their_dataset() -> None:
    codes = [rule.code for rule in REGISTRY.rules]
    assert len(codes) == len(set(codes))
    for rule in REGISTRY.rules:
        assert CODE.match(rule.code), rule.code
        expected = "FILE" if rule.dataset is None else REGISTRY.prefixes[rule.dataset]
        assert rule.code.rsplit("-", 1)[0] == expected


def test_every_rule_the_contract_implies_is_active_and_nothing_else() -> None:
    derived = {spec.key for spec in derive_rules(CONTRACT)}
    assert {rule.key for rule in REGISTRY.active} == derived


def test_every_reader_rejection_and_normaliser_problem_has_a_rule_of_its_kind() -> None:
    file_kinds = {rule.kind for rule in REGISTRY.active if rule.dataset is None}
    assert set(REJECTION_MESSAGES) | set(FILE_CHECK_KINDS) == file_kinds
    row_kinds = {rule.kind for rule in REGISTRY.active if rule.gate == "rows"}
    assert set(PROBLEM_SEVERITY) <= row_kinds
    for rule in REGISTRY.active:
        if rule.kind in PROBLEM_SEVERITY:
            assert rule.severity == PROBLEM_SEVERITY[rule.kind], rule.code


def test_messages_are_fixed_text_naming_only_columns_and_parameters() -> None:
    for rule in REGISTRY.active:
        assert "{" not in rule.message and "}" not in rule.message, rule.code
        if rule.fields and rule.gate == "rows":
            assert rule.fields[0] in rule.message, rule.code
    assert REGISTRY.file_rule("unknown_column").severity == "warning"
    assert {r.severity for r in REGISTRY.active if r.kind == "chi_invalid"} == {"warning"}


def test_growing_the_contract_keeps_every_code_and_appends_new_ones() -> None:
    grown = _contract_with(
        "sw__registrations",
        lambda columns: [
            *columns,
            {"name": "review_date", "type": "date", "not_before": "registration_date"},
            {"name": "review_outcome", "type": "code", "code_list": "DEREG", "required": True},
        ],
    )
    registry = build_registry(grown, REGISTRY)

    before = _code_by_key(REGISTRY)
    assert {key: code for key, code in _code_by_key(registry).items() if key in before} == before
    assert not [rule for rule in registry.rules if rule.status == "retired"]
    highest = max(r.number for r in REGISTRY.rules if r.dataset == "sw__registrations")
    new = [rule for rule in registry.rules if rule.code not in REGISTRY.by_code]
    assert {rule.dataset for rule in new} == {"sw__registrations"}
    assert sorted(rule.number for rule in new) == list(range(highest + 1, highest + 1 + len(new)))
    kinds = {(rule.kind, rule.fields) for rule in new}
    assert ("before_other", ("review_date", "registration_date")) in kinds
    assert ("required_column_missing", ("review_outcome",)) in kinds
    assert ("bad_code", ("review_outcome",)) in kinds


def test_a_vanished_constraint_is_retired_never_renumbered_and_may_come_back() -> None:
    shrunk = _contract_with(
        "sw__registrations",
        lambda columns: [
            {**column, "not_before": None} if column["name"] == "deregistration_date" else column
            for column in columns
        ],
    )
    fields = ("deregistration_date", "registration_date")
    code = REGISTRY.rule("sw__registrations", "before_other", fields).code

    retired = build_registry(shrunk, REGISTRY)
    assert retired.by_code[code].status == "retired"
    assert _code_by_key(retired) == _code_by_key(REGISTRY)

    grown = _contract_with(
        "sw__registrations", lambda columns: [*columns, {"name": "note_date", "type": "date"}]
    )
    after = build_registry(grown, retired)
    new_numbers = [rule.number for rule in after.rules if rule.code not in retired.by_code]
    highest = max(rule.number for rule in retired.rules if rule.dataset == "sw__registrations")
    assert min(new_numbers) == highest + 1, "a retired number is never reused"

    back = build_registry(CONTRACT, retired)
    assert back.by_code[code].status == "active"
    assert render_registry(back) == RULES_PATH.read_text(encoding="utf-8")


def test_a_registry_built_from_nothing_derives_distinct_prefixes() -> None:
    fresh = build_registry(CONTRACT)
    assert len(set(fresh.prefixes.values())) == len(CONTRACT.datasets)
    assert len(fresh.rules) == len(REGISTRY.active)


def test_the_yaml_round_trips() -> None:
    text = RULES_PATH.read_text(encoding="utf-8")
    assert render_registry(parse_registry(text)) == text


def test_an_inconsistent_registry_is_refused() -> None:
    rules = REGISTRY.rules
    with pytest.raises(ValueError, match="unique"):
        Registry(prefixes=REGISTRY.prefixes, rules=(*rules, rules[0]))
    wrong_prefix = rules[-1].model_copy(update={"code": "FILE-999"})
    with pytest.raises(ValueError, match="prefix"):
        Registry(prefixes=REGISTRY.prefixes, rules=(*rules[:-1], wrong_prefix))
