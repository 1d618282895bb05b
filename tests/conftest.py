"""Shared test set-up.

The Dagster code location's ``@dbt_assets`` reads ``dbt_project/target/manifest.json`` when
``cpmds.defs`` is imported, which test modules do while pytest collects them, before any fixture
runs: so ``dbt parse`` runs (when the manifest is missing or stale) at the start of the session,
once, and the ``dbt_manifest`` fixture hands its path to the tests that read it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from cpmds.transform import prepare_manifest


def pytest_configure(config: pytest.Config) -> None:
    # Most tests re-run unchanged zones to inject faults and expect a build; the no-change skip
    # has its own tests, which lift this.
    os.environ["CPMDS_ALWAYS_BUILD"] = "1"
    # dagster-dbt imports sqlglot's Rust tokenizer, which warns that it is deprecated upstream.
    # Two deprecation warnings from inside dagster-dbt, not from anything this project calls:
    # sqlglot's Rust tokenizer, deprecated upstream, and dagster-dbt's own use of context.op.
    for message in ("sqlglotrs is deprecated", "AssetExecutionContext.op is deprecated"):
        config.addinivalue_line("filterwarnings", f"ignore:{message}:DeprecationWarning")


def pytest_sessionstart(session: pytest.Session) -> None:
    prepare_manifest()


@pytest.fixture(scope="session")
def dbt_manifest() -> dict[str, Any]:
    """The parsed dbt manifest (``dbt parse`` first if it is missing or stale)."""
    path: Path = prepare_manifest()
    return json.loads(path.read_text(encoding="utf-8"))
