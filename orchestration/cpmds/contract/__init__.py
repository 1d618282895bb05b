"""The partner extract contract, read once from the YAML files beside this module."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from cpmds.contract.model import (
    CodeList,
    Column,
    Contract,
    Council,
    Cpc,
    Dataset,
    Formats,
    Partner,
    Reference,
)

DATA_DIR = Path(__file__).parent / "data"

__all__ = [
    "DATA_DIR",
    "CodeList",
    "Column",
    "Contract",
    "Council",
    "Cpc",
    "Dataset",
    "Formats",
    "Partner",
    "Reference",
    "load_contract",
]


def _read(path: Path) -> object:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@cache
def load_contract(data_dir: Path = DATA_DIR) -> Contract:
    """Read and validate the contract; a contract that contradicts itself raises ValidationError."""
    partners = _read(data_dir / "partners.yaml")
    codes = _read(data_dir / "codes.yaml")
    assert isinstance(partners, dict) and isinstance(codes, dict)
    return Contract(
        partners=tuple({"id": pid, **spec} for pid, spec in partners.items()),
        datasets=tuple(_read(path) for path in sorted((data_dir / "datasets").glob("*.yaml"))),
        code_lists=tuple({"id": cid, **spec} for cid, spec in codes.items()),
        reference=_read(data_dir / "reference.yaml"),
        formats=_read(data_dir / "formats.yaml"),
    )


# Validate at import: a contract that contradicts itself must stop everything that reads it.
load_contract()
