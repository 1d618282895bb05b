"""The Great Expectations suites of gates 1 and 2, generated from the contract and the registry
(and, written with them, gate 3's suite over the marts: :mod:`cpmds.gates.marts`).

One suite per gate and dataset under ``expectations/``, each expectation carrying its rule's code
and severity in ``meta``. The JSON is GX 1.x's own suite format, written deterministically (ids are
uuid5 of names, keys sorted), so a review diff shows only what changed. GX is not imported here.

- ``gate_file/<dataset>.json`` runs over the header frame of many files (:mod:`gate_file`).
- ``gate_rows/<dataset>.json`` runs over the typed rows of many files, with ``_file``, ``_row``
  and ``_submitted``. Failures to type a value (a bad date, an unknown code in a multi-valued
  column) are the normaliser's to find: those rules have no expectation.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from cpmds.contract import Column, Contract, Dataset, load_contract
from cpmds.gates.derive import code_conditions
from cpmds.gates.findings import FILE_ID, SUBMITTED
from cpmds.gates.registry import (
    RULES_RELATIVE,
    Registry,
    Rule,
    build_registry,
    load_rules,
    read_registry,
    render_registry,
)
from cpmds.generated import sync_generated_files
from cpmds.ingest.chi import VALID_SUFFIX
from cpmds.settings import PROJECT_ROOT

SUITES_RELATIVE = Path("expectations")
GATES = ("gate_file", "gate_rows")
MARTS_GATE = "gate_marts"  # gate 3's suites (cpmds.gates.marts), one per mart table

# The header frame gate 1's suite runs over: one row per file and contract column, plus one per
# extra occurrence of a column and per unknown header.
HEADER_COLUMN = "contract_column"
HEADER_POSITION = "position"
HEADER_PRESENT = "present"

# Rules whose failures only the normaliser can see (the value never reaches a typed column).
NORMALISER_ONLY_KINDS = frozenset({"bad_date", "bad_bool", "bad_integer"})

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "cpmds/expectations")
_GX_SEVERITY = {"error": "critical", "warning": "warning"}
_EARLIEST_TIME = "T00:00:00"


def suite_path(gate: str, dataset_id: str, root: Path = PROJECT_ROOT) -> Path:
    return root / SUITES_RELATIVE / gate / f"{dataset_id}.json"


def write_suites(check: bool = False, root: Path = PROJECT_ROOT) -> list[Path]:
    """Regenerate the rule registry and every suite under ``root``; return the paths changed (with
    ``check``: the stale ones, writing nothing). A suite of a dataset the contract no longer has
    is stale and removed."""
    wanted = render_all(root)
    changed = sync_generated_files(wanted, check)
    for gate in (*GATES, MARTS_GATE):
        for path in sorted((root / SUITES_RELATIVE / gate).glob("*.json")):
            if path not in wanted:
                changed.append(path)
                if not check:
                    path.unlink()
    if changed and not check:
        load_rules.cache_clear()
    return changed


def render_all(root: Path = PROJECT_ROOT) -> dict[Path, str]:
    """The registry and suite files the contract implies, keeping the codes of the registry now
    under ``root``."""
    contract = load_contract()
    registry = build_registry(contract, read_registry(root / RULES_RELATIVE))
    texts = {root / RULES_RELATIVE: render_registry(registry)}
    for dataset in contract.datasets:
        for gate, suite in build_suites(contract, registry, dataset).items():
            texts[suite_path(gate, dataset.id, root)] = render_suite(suite)
    # Gate 3's suite over the marts (imported here: that module builds on this one).
    from cpmds.gates.marts import render_marts_suites

    texts.update(render_marts_suites(root))
    return texts


def render_suite(suite: dict[str, Any]) -> str:
    return json.dumps(suite, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def build_suites(
    contract: Contract, registry: Registry, dataset: Dataset
) -> dict[str, dict[str, Any]]:
    """``{gate: suite as GX's JSON}`` for one dataset."""
    return {
        "gate_file": _suite("gate_file", dataset, list(_file_expectations(registry, dataset))),
        "gate_rows": _suite(
            "gate_rows", dataset, list(_row_expectations(contract, registry, dataset))
        ),
    }


def columns_read(path: Path) -> tuple[str, ...]:
    """The columns the suite at ``path`` reads, in the order it first names them: those its
    expectations check and those their row conditions test. A frame of only these (and the index
    columns) validates the same as the whole frame, and costs less to build and filter."""
    return _columns_read(path.read_text(encoding="utf-8"))


@cache
def _columns_read(text: str) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for expectation in json.loads(text)["expectations"]:
        kwargs = expectation["kwargs"]
        for key in _COLUMN_KEYS:
            if key in kwargs:
                names[kwargs[key]] = None
        names.update(dict.fromkeys(kwargs.get("column_list", ())))
        if "row_condition" in kwargs:
            names.update(dict.fromkeys(_condition_columns(kwargs["row_condition"])))
    return tuple(names)


_COLUMN_KEYS = ("column", "column_A", "column_B")


def _condition_columns(condition: dict[str, Any]) -> Iterator[str]:
    if "conditions" in condition:
        for part in condition["conditions"]:
            yield from _condition_columns(part)
    else:
        yield condition["column"]["name"]


def suite_name(gate: str, dataset_id: str) -> str:
    return f"{gate}__{dataset_id}"


def _suite(gate: str, dataset: Dataset, expectations: list[dict[str, Any]]) -> dict[str, Any]:
    name = suite_name(gate, dataset.id)
    counts: dict[str, int] = {}
    for expectation in expectations:
        code = expectation["meta"]["rule"]
        counts[code] = counts.get(code, 0) + 1
        expectation["id"] = str(uuid.uuid5(_NAMESPACE, f"{name}/{code}/{counts[code]}"))
    return {
        "expectations": expectations,
        "id": str(uuid.uuid5(_NAMESPACE, name)),
        "meta": {
            "dataset": dataset.id,
            "gate": gate,
            "generated_by": "cpmds suites",
            "great_expectations_version": version("great-expectations"),
        },
        "name": name,
        "notes": None,
    }


def _expectation(rule: Rule, kind: str, **kwargs: Any) -> dict[str, Any]:
    return {
        "kwargs": kwargs,
        "meta": {"rule": rule.code, "severity": rule.severity},
        "severity": _GX_SEVERITY[rule.severity],
        "type": kind,
    }


# Row conditions in GX 1.x's structured form (string conditions with a condition parser are
# deprecated since GX 1.9); GX turns them into the engine's own filter.
def _when(condition: dict[str, Any]) -> dict[str, Any]:
    return {"row_condition": condition}


def _is_not_null(column: str) -> dict[str, Any]:
    return {"column": {"name": column}, "is_null": False, "type": "nullity"}


def _compare(column: str, operator: str, parameter: Any) -> dict[str, Any]:
    return {
        "column": {"name": column},
        "operator": operator,
        "parameter": parameter,
        "type": "comparison",
    }


def _all_of(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"conditions": list(conditions), "type": "and"}


def _file_expectations(registry: Registry, dataset: Dataset) -> Iterator[dict[str, Any]]:
    for rule in registry.for_dataset(dataset.id, "file"):
        if rule.kind != "required_column_missing":
            raise ValueError(f"{rule.code}: no expectation for file rule kind {rule.kind}")
        yield _expectation(
            rule,
            "expect_column_values_to_be_in_set",
            column=HEADER_PRESENT,
            value_set=[True],
            **_when(_compare(HEADER_COLUMN, "==", rule.fields[0])),
        )
    yield _expectation(
        registry.file_rule("duplicate_column"),
        "expect_compound_columns_to_be_unique",
        column_list=[FILE_ID, HEADER_COLUMN],
        ignore_row_if="any_value_is_missing",
    )
    yield _expectation(
        registry.file_rule("unknown_column"),
        "expect_column_values_to_not_be_null",
        column=HEADER_COLUMN,
    )


def _row_expectations(
    contract: Contract, registry: Registry, dataset: Dataset
) -> Iterator[dict[str, Any]]:
    deletion = contract.formats.deletion_column
    not_deleted = _compare(deletion, "!=", True)
    for rule in registry.for_dataset(dataset.id, "rows"):
        column = dataset.column_map.get(rule.fields[0])
        kind = rule.kind
        if kind in NORMALISER_ONLY_KINDS or (
            kind == "bad_code" and column is not None and column.type == "codes"
        ):
            continue
        assert column is not None, rule.code
        name = column.name
        if kind == "required_missing":
            # A deletion row needs only its key (extracts.md, "Deletion").
            condition = {} if name in dataset.key else _when(not_deleted)
            yield _expectation(
                rule, "expect_column_values_to_not_be_null", column=name, **condition
            )
        elif kind == "required_with_missing":
            other = rule.fields[1]
            yield _expectation(
                rule,
                "expect_column_values_to_not_be_null",
                column=name,
                **_when(_all_of(_is_not_null(other), not_deleted)),
            )
        elif kind == "bad_code":
            yield _expectation(
                rule,
                "expect_column_values_to_be_in_set",
                column=name,
                value_set=list(contract.allowed_codes(column)),
            )
        elif kind == "code_not_allowed_for":
            yield from _code_condition_expectations(contract, dataset, rule, column)
        elif kind == "out_of_range":
            bounds = {
                f"{key}_value": rule.params[key] for key in ("min", "max") if key in rule.params
            }
            yield _expectation(rule, "expect_column_values_to_be_between", column=name, **bounds)
        elif kind == "date_too_early":
            # A date and time: GX compares datetime64 columns with a datetime, not with a date.
            yield _expectation(
                rule,
                "expect_column_values_to_be_between",
                column=name,
                min_value=rule.params["earliest"] + _EARLIEST_TIME,
            )
        elif kind == "date_after_submission":
            yield _pair_not_less(rule, larger=SUBMITTED, smaller=name)
        elif kind == "before_other":
            yield _pair_not_less(rule, larger=name, smaller=rule.fields[1])
        elif kind == "above_other":
            yield _pair_not_less(rule, larger=rule.fields[1], smaller=name)
        elif kind == "key_not_unique":
            yield _expectation(
                rule,
                "expect_compound_columns_to_be_unique",
                column_list=[FILE_ID, *rule.fields],
                ignore_row_if="any_value_is_missing",
            )
        elif kind == "chi_invalid":
            yield _expectation(
                rule,
                "expect_column_values_to_be_in_set",
                column=name + VALID_SUFFIX,
                value_set=[True],
            )
        else:
            raise ValueError(f"{rule.code}: no expectation for row rule kind {kind}")


def _pair_not_less(rule: Rule, larger: str, smaller: str) -> dict[str, Any]:
    """``larger >= smaller`` where both are known (a blank is some other rule's business)."""
    return _expectation(
        rule,
        "expect_column_pair_values_a_to_be_greater_than_b",
        column_A=larger,
        column_B=smaller,
        or_equal=True,
        ignore_row_if="either_value_is_missing",
    )


def _code_condition_expectations(
    contract: Contract, dataset: Dataset, rule: Rule, column: Column
) -> Iterator[dict[str, Any]]:
    """One in-set expectation per group of the other column's values that allow the same codes.

    A code without a condition on the other column is allowed with every value of it.
    """
    other = rule.fields[1]
    allowed_with = code_conditions(contract, column)[other]
    codes = contract.allowed_codes(column)
    other_column = dataset.column_map[other]
    mentioned = sorted({value for values in allowed_with.values() for value in values})
    values = list(contract.allowed_codes(other_column)) if other_column.code_list else mentioned
    groups: dict[tuple[str, ...], list[str]] = {}
    for value in values:
        allowed = tuple(
            code for code in codes if code not in allowed_with or value in allowed_with[code]
        )
        groups.setdefault(allowed, []).append(value)
    for allowed, group in groups.items():
        if set(allowed) == set(codes):
            continue
        yield _expectation(
            rule,
            "expect_column_values_to_be_in_set",
            column=column.name,
            value_set=list(allowed),
            **_when(_compare(other, "IN", group)),
        )
    if not other_column.code_list:
        unconditioned = [code for code in codes if code not in allowed_with]
        yield _expectation(
            rule,
            "expect_column_values_to_be_in_set",
            column=column.name,
            value_set=unconditioned,
            **_when(_all_of(_is_not_null(other), _compare(other, "NOT_IN", mentioned))),
        )
