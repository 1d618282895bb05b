"""The rule registry: every rule of gates 1 and 2 with a code that never changes.

``data/rules.yaml`` is generated from the contract (``cpmds suites``) and reviewed like code. A rule
is known by (dataset, fields, kind): regenerating keeps the code of every rule still implied by the
contract, gives a new rule the next number after the highest its prefix ever had, and marks a rule
the contract no longer implies ``retired`` (its code is never reused). A dataset's code prefix
(``SW-REG``) is kept in the file too, so a reviewer may choose one for a new dataset before its
first rules are committed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from cpmds.contract import Contract, load_contract
from cpmds.gates.derive import Gate, RuleKey, RuleSpec, Severity, derive_rules
from cpmds.generated import sync_generated_files
from cpmds.settings import PROJECT_ROOT

RULES_PATH = Path(__file__).parent / "data" / "rules.yaml"
RULES_RELATIVE = RULES_PATH.relative_to(PROJECT_ROOT)
FILE_PREFIX = "FILE"
_CODE = re.compile(r"^(?P<prefix>[A-Z]+(?:-[A-Z0-9]+)?)-(?P<number>\d{3,})$")
_HEADER = """\
# The rules of gate 1 (file) and gate 2 (rows), generated from the contract by `cpmds suites`.
# Review changes like code. A rule's code never changes: regenerating keeps the code of every rule
# whose (dataset, fields, kind) the contract still implies, numbers new rules after the highest
# number their prefix ever had, and marks rules the contract no longer implies as retired.
# A new dataset gets a derived prefix under `prefixes`; change it before its rules are committed.
# Messages never hold a value from a file: they name columns and the rule's parameters only.
"""


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    status: Literal["active", "retired"] = "active"
    gate: Gate
    severity: Severity
    dataset: str | None
    kind: str
    fields: tuple[str, ...]
    message: str
    params: dict[str, Any] = Field(default_factory=dict)

    @property
    def key(self) -> RuleKey:
        return (self.dataset, self.fields, self.kind)

    @property
    def column(self) -> str | None:
        """The column a failure of this rule is recorded against."""
        return self.fields[0] if self.fields else None

    @property
    def prefix(self) -> str:
        return _split_code(self.code)[0]

    @property
    def number(self) -> int:
        return _split_code(self.code)[1]


class Registry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    prefixes: dict[str, str]
    rules: tuple[Rule, ...]

    @cached_property
    def by_code(self) -> dict[str, Rule]:
        return {rule.code: rule for rule in self.rules}

    @cached_property
    def active(self) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.status == "active")

    @cached_property
    def _active_by_key(self) -> dict[RuleKey, Rule]:
        return {rule.key: rule for rule in self.active}

    def rule(self, dataset: str | None, kind: str, fields: Iterable[str] = ()) -> Rule:
        """The active rule for (dataset, fields, kind); KeyError when the contract implies none."""
        return self._active_by_key[(dataset, tuple(fields), kind)]

    def file_rule(self, kind: str) -> Rule:
        return self.rule(None, kind)

    def for_dataset(self, dataset: str, gate: Gate | None = None) -> tuple[Rule, ...]:
        return tuple(
            rule
            for rule in self.active
            if rule.dataset == dataset and (gate is None or rule.gate == gate)
        )

    @model_validator(mode="after")
    def _consistent(self) -> Registry:
        codes = [rule.code for rule in self.rules]
        if len(set(codes)) != len(codes):
            raise ValueError("rule codes must be unique")
        keys = [rule.key for rule in self.active]
        if len(set(keys)) != len(keys):
            raise ValueError("two active rules share a (dataset, fields, kind)")
        if len(set(self.prefixes.values())) != len(self.prefixes):
            raise ValueError("dataset prefixes must be unique")
        for rule in self.rules:
            expected = FILE_PREFIX if rule.dataset is None else self.prefixes.get(rule.dataset)
            if rule.prefix != expected:
                raise ValueError(f"rule {rule.code}: prefix does not match its dataset")
        return self


def build_registry(contract: Contract, previous: Registry | None = None) -> Registry:
    """The registry the contract implies, keeping ``previous``'s codes and prefixes."""
    previous = previous or Registry(prefixes={}, rules=())
    prefixes = dict(previous.prefixes)
    for dataset in contract.datasets:
        if dataset.id not in prefixes:
            prefixes[dataset.id] = _new_prefix(dataset.partner, dataset.dataset, prefixes)

    known = {rule.key: rule for rule in previous.rules}
    next_number: dict[str, int] = {}
    for rule in previous.rules:
        next_number[rule.prefix] = max(next_number.get(rule.prefix, 1), rule.number + 1)

    rules: list[Rule] = []
    derived = derive_rules(contract)
    for spec in derived:
        earlier = known.get(spec.key)
        if earlier is not None:
            code = earlier.code
        else:
            prefix = FILE_PREFIX if spec.dataset is None else prefixes[spec.dataset]
            number = next_number.get(prefix, 1)
            next_number[prefix] = number + 1
            code = _code(prefix, number)
        rules.append(_rule(code, spec))
    implied = {spec.key for spec in derived}
    rules += [
        rule.model_copy(update={"status": "retired"})
        for rule in previous.rules
        if rule.key not in implied
    ]

    dataset_order = {dataset.id: index for index, dataset in enumerate(contract.datasets)}

    def position(rule: Rule) -> tuple[int, str, int]:
        if rule.dataset is None:
            return (-1, "", rule.number)
        return (dataset_order.get(rule.dataset, len(dataset_order)), rule.dataset, rule.number)

    return Registry(prefixes=prefixes, rules=tuple(sorted(rules, key=position)))


def render_registry(registry: Registry) -> str:
    """The registry as the reviewed YAML text (stable: the same registry gives the same bytes)."""
    prefixes = yaml.safe_dump(
        {"prefixes": dict(sorted(registry.prefixes.items()))},
        sort_keys=False,
        default_flow_style=False,
    )
    rules = yaml.safe_dump(
        {"rules": [_rule_entry(rule) for rule in registry.rules]},
        sort_keys=False,
        default_flow_style=None,
        width=100,
        allow_unicode=True,
    )
    return _HEADER + prefixes + rules


def parse_registry(text: str) -> Registry:
    document = yaml.safe_load(text) or {}
    return Registry(
        prefixes=document.get("prefixes") or {},
        rules=tuple(Rule(**entry) for entry in document.get("rules") or ()),
    )


def read_registry(path: Path) -> Registry | None:
    """The registry written at ``path``, or None where there is none yet."""
    if not path.exists():
        return None
    return parse_registry(path.read_text(encoding="utf-8"))


@cache
def load_rules(path: Path = RULES_PATH) -> Registry:
    """The committed registry (what the gates run with)."""
    registry = read_registry(path)
    if registry is None:
        raise FileNotFoundError(f"{path}: run `cpmds suites` to write the rule registry")
    return registry


def write_rules(check: bool = False, root: Path = PROJECT_ROOT) -> list[Path]:
    """Regenerate ``rules.yaml`` under ``root`` from the contract; return the path if it changed
    (with ``check``: if it is stale, writing nothing)."""
    path = root / RULES_RELATIVE
    current = path.read_text(encoding="utf-8") if path.exists() else None
    previous = parse_registry(current) if current is not None else None
    text = render_registry(build_registry(load_contract(), previous))
    changed = sync_generated_files({path: text}, check)
    if changed and not check:
        load_rules.cache_clear()
    return changed


def _rule(code: str, spec: RuleSpec) -> Rule:
    return Rule(
        code=code,
        gate=spec.gate,
        severity=spec.severity,
        dataset=spec.dataset,
        kind=spec.kind,
        fields=spec.fields,
        message=spec.message,
        params=spec.params,
    )


def _rule_entry(rule: Rule) -> dict[str, Any]:
    entry = rule.model_dump(mode="json")
    entry["fields"] = list(rule.fields)
    if not rule.params:
        del entry["params"]
    return entry


def _code(prefix: str, number: int) -> str:
    return f"{prefix}-{number:03d}"


def _split_code(code: str) -> tuple[str, int]:
    match = _CODE.match(code)
    if match is None:
        raise ValueError(f"{code!r} is not a rule code like SW-REG-004 or FILE-007")
    return match["prefix"], int(match["number"])


def _new_prefix(partner: str, dataset: str, taken: dict[str, str]) -> str:
    """A derived prefix for a new dataset: the partner's (as its other datasets have it), then
    three letters of the dataset name."""
    partner_part = next(
        (p.split("-")[0] for d, p in sorted(taken.items()) if d.split("__")[0] == partner),
        partner.upper() if len(partner) <= 4 else partner[:3].upper(),
    )
    words = [word for word in dataset.split("_") if word]
    letters = "".join(word[0] for word in words[:-1]) + words[-1]
    stem = re.sub(r"[^A-Z0-9]", "", letters.upper())[:3]
    used = set(taken.values()) | {FILE_PREFIX}
    candidate, suffix = f"{partner_part}-{stem}", 2
    while candidate in used:
        candidate, suffix = f"{partner_part}-{stem}{suffix}", suffix + 1
    return candidate
