"""The reference docs (``docs/contract.md``, ``docs/indicators.md``), generated from the contract
and catalogue data so that the prose can never drift from what the pipeline reads.

The wording lives in the Jinja templates under ``docs_templates/``; this module only prepares the
facts that are awkward to work out in a template.
"""

from __future__ import annotations

import calendar
from functools import cache
from pathlib import Path
from typing import get_args

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from cpmds.catalogue import Catalogue, load_catalogue
from cpmds.contract import Column, Contract, Dataset, load_contract
from cpmds.contract.model import IdentifierKind, OrgRule
from cpmds.generated import sync_generated_files
from cpmds.settings import PROJECT_ROOT

TEMPLATES = Path(__file__).parent / "docs_templates"
DOCS = {"docs/contract.md": "contract.md.j2", "docs/indicators.md": "indicators.md.j2"}

# What the pipeline does with each kind of identifier (security.md, "What may enter the warehouse").
IDENTIFIER_HANDLING: dict[str, str] = {
    "chi": (
        "Checked (modulus-11 check digit; a 9-digit number gets its lost leading zero back), its "
        "month of birth and sex digit worked out, then replaced by a keyed pseudonym (HMAC-SHA256 "
        "with a secret key) that is the same in every partner's data and on every load, so "
        "children link across partners and over time. A CHI that fails the check is a warning: "
        "the row is kept and the CHI treated as missing."
    ),
    "child_ref": (
        "Replaced by a keyed pseudonym over the partner, the org code and the value, so two "
        "councils' `C001` never collide."
    ),
    "record_ref": (
        "Replaced by a keyed pseudonym namespaced by partner and org (a record id may embed a "
        "child's reference); references between one sender's records, such as a meeting's "
        "`ird_id`, still match."
    ),
    "date_of_birth": "Kept only as the month of birth (the first of the month) and ages from it.",
    "postcode": "Dropped at load.",
}
assert set(IDENTIFIER_HANDLING) == set(get_args(IdentifierKind)), "describe every identifier kind"

_DATE_FORMAT_WORDS = {"%Y": "YYYY", "%m": "MM", "%d": "DD"}


def write_reference_docs(check: bool = False, root: Path = PROJECT_ROOT) -> list[Path]:
    """Write the docs under ``root``; return the paths changed (with ``check``: the stale ones,
    writing nothing)."""
    documents = {root / relative: text for relative, text in render_reference_docs().items()}
    return sync_generated_files(documents, check)


def render_reference_docs() -> dict[str, str]:
    """Each doc's path relative to the project root, with its generated text."""
    environment = _environment()
    facts = {"contract": load_contract(), "catalogue": load_catalogue()}
    return {
        relative: environment.get_template(template).render(**facts)
        for relative, template in DOCS.items()
    }


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # Markdown, not HTML
    )
    environment.filters.update(
        cell=_cell,
        ticks=_ticks,
        ticks_and=_ticks_and,
        date_format=_date_format,
        month_name=lambda month: calendar.month_name[month],
    )
    environment.globals.update(
        identifier_handling=IDENTIFIER_HANDLING,
        org_rule=_org_rule,
        column_rules=_column_rules,
        columns_by_identifier=_columns_by_identifier,
        code_list_users=_code_list_users,
        coverage_inputs=_coverage_inputs,
        unit_of=_unit_of,
    )
    return environment


def _cell(text: object) -> str:
    """Text safe inside a Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _ticks(values: object, separator: str = ", ") -> str:
    items = [values] if isinstance(values, str) else list(values)  # type: ignore[call-overload]
    return separator.join(f"`{item}`" for item in items)


def _ticks_and(values: object) -> str:
    """`a`, `b` and `c`."""
    items = _ticks(values).split(", ")
    return " and ".join([", ".join(items[:-1]), items[-1]]) if len(items) > 1 else items[0]


def _date_format(pattern: str) -> str:
    for directive, words in _DATE_FORMAT_WORDS.items():
        pattern = pattern.replace(directive, words)
    return pattern


def _org_rule(rule: OrgRule) -> str:
    if rule.kind == "council":
        return "a council code, `S12000xxx` (retired codes accepted and mapped to the current ones)"
    if rule.kind == "health_board":
        return "a health board code, `S08000xxx`"
    if rule.kind == "charity":
        return f"a Scottish charity number matching `{rule.pattern}`"
    return f"`{rule.code}` only"


def _column_rules(contract: Contract, column: Column) -> str:
    """The row-level rules of a column besides type and required, as a reader would say them."""
    rules = []
    if column.allowed_codes:
        rules.append(f"only {', '.join(column.allowed_codes)}")
    if column.min is not None and column.max is not None:
        rules.append(f"{column.min} to {column.max}")
    elif column.min is not None:
        rules.append(f"at least {column.min}")
    elif column.max is not None:
        rules.append(f"at most {column.max}")
    if column.blank_means is not None:
        rules.append(f"blank means {column.blank_means}")
    if column.required_with:
        rules.append(f"required when `{column.required_with}` is set")
    if column.not_before:
        rules.append(f"not before `{column.not_before}`")
    if column.at_most:
        rules.append(f"at most `{column.at_most}`")
    if column.type == "date":
        rules.append("may be in the future" if column.future_allowed else "not after submission")
    return "; ".join(rules)


def _columns_by_identifier(contract: Contract) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {kind: [] for kind in IDENTIFIER_HANDLING}
    for dataset in contract.datasets:
        for column in dataset.columns:
            if column.identifier:
                found[column.identifier].append(
                    f"{dataset.partner}/{dataset.dataset}.{column.name}"
                )
    return found


def _code_list_users(contract: Contract, code_list: str) -> list[str]:
    return [
        f"{dataset.partner}/{dataset.dataset}.{column.name}"
        for dataset in contract.datasets
        for column in dataset.columns
        if column.code_list == code_list
    ]


def _coverage_inputs(
    catalogue: Catalogue, contract: Contract, indicator_id: str
) -> dict[str, list[Dataset]]:
    """An indicator's inputs by how coverage treats them (expected, voluntary, reference)."""
    grouped: dict[str, list[Dataset]] = {"expected": [], "voluntary": [], "reference": []}
    for dataset_id in catalogue.indicator_by_id[indicator_id].inputs:
        dataset = contract.dataset_by_id[dataset_id]
        grouped[dataset.coverage].append(dataset)
    return grouped


def _unit_of(catalogue: Catalogue, unit: str) -> str:
    return catalogue.rules.units[unit]  # type: ignore[index]
