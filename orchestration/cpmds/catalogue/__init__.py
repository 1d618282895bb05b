"""The indicator catalogue, read once from the YAML files beside this module and checked against the
partner extract contract."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from cpmds.catalogue.model import (
    INDICATOR_IDS,
    INDICATOR_VALUE_KEY,
    Breakdown,
    BreakdownValue,
    Catalogue,
    Denominator,
    Group,
    Indicator,
    IndicatorBreakdown,
    Parameter,
    Provisional,
    Rules,
    SameCount,
)
from cpmds.contract import DATA_DIR as CONTRACT_DATA_DIR
from cpmds.contract import load_contract

DATA_DIR = Path(__file__).parent / "data"

__all__ = [
    "DATA_DIR",
    "INDICATOR_IDS",
    "INDICATOR_VALUE_KEY",
    "Breakdown",
    "BreakdownValue",
    "Catalogue",
    "Denominator",
    "Group",
    "Indicator",
    "IndicatorBreakdown",
    "Parameter",
    "Provisional",
    "Rules",
    "SameCount",
    "load_catalogue",
]


def _read(path: Path) -> object:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@cache
def load_catalogue(data_dir: Path = DATA_DIR, contract_dir: Path = CONTRACT_DATA_DIR) -> Catalogue:
    """Read and validate the catalogue; raises ``pydantic.ValidationError`` if it contradicts itself
    or the contract."""
    breakdowns = _read(data_dir / "breakdowns.yaml")
    assert isinstance(breakdowns, dict)
    raw = {
        "rules": _read(data_dir / "rules.yaml"),
        "breakdowns": [{"name": name, **spec} for name, spec in breakdowns.items()],
        "groups": _read(data_dir / "groups.yaml"),
        "indicators": _read(data_dir / "indicators.yaml"),
    }
    return Catalogue.model_validate(raw, context={"contract": load_contract(contract_dir)})


# Validate at import: a catalogue that contradicts itself must stop everything that reads it.
load_catalogue()
