"""The state home (interface.md, "Files under the home"): its folders and its Dagster instance."""

from __future__ import annotations

import shutil
from pathlib import Path

from cpmds.settings import PROJECT_ROOT, Settings

INSTANCE_CONFIG = PROJECT_ROOT / "dagster.yaml"
FOLDERS = ("state", "dagster", "secrets", "warehouse", "reports", "exports")


def dagster_home(settings: Settings) -> Path:
    return settings.home / "dagster"


def prepare_home(settings: Settings) -> Path:
    """Create the home's folders and its Dagster instance config; return DAGSTER_HOME."""
    for folder in FOLDERS:
        (settings.home / folder).mkdir(parents=True, exist_ok=True)
    (settings.home / "secrets").chmod(0o700)
    instance = dagster_home(settings)
    target = instance / "dagster.yaml"
    if not target.exists() or target.read_bytes() != INSTANCE_CONFIG.read_bytes():
        shutil.copyfile(INSTANCE_CONFIG, target)
    return instance
