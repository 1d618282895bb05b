"""Settings: a command option, else an environment variable, else the default (interface.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

RAW_VARIABLE = "CPMDS_RAW"
HOME_VARIABLE = "CPMDS_HOME"


@dataclass(frozen=True)
class Settings:
    raw: Path
    home: Path


def resolve_settings(raw: Path | None = None, home: Path | None = None) -> Settings:
    return Settings(
        raw=_choose(raw, RAW_VARIABLE, PROJECT_ROOT / "raw"),
        home=_choose(home, HOME_VARIABLE, PROJECT_ROOT / ".cpmds"),
    )


def _choose(option: Path | None, variable: str, default: Path) -> Path:
    if option is not None:
        return option.resolve()
    from_environment = os.environ.get(variable)
    return Path(from_environment).resolve() if from_environment else default
