"""The warehouse's own documentation site: dbt's docs (every model, column and test, the lineage
graph, the indicator catalogue's descriptions) as one self-contained HTML page for analysts.

``dbt docs generate --static`` over a copy of a home's published warehouse (dbt opens its database
as a writer, and the published file is never written in place) writes it to
``<home>/docs/warehouse.html``; it needs nothing else to open (no web server, no network). The page
holds descriptions, SQL and table statistics (row counts), never a row of data.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from cpmds.publish.atomic import published_path
from cpmds.state import state_path
from cpmds.transform.build import BUILD_VARIABLE, STATE_VARIABLE
from cpmds.transform.project import DbtParseError, run_dbt

STATIC_PAGE = "static_index.html"


def docs_page(home: Path) -> Path:
    return home / "docs" / "warehouse.html"


def write_warehouse_docs(home: Path) -> Path:
    """Generate the docs page from ``home``'s published warehouse; return its path."""
    published = published_path(home)
    if not published.exists():
        raise FileNotFoundError(f"no published warehouse under {home}: run a load (make demo)")
    with tempfile.TemporaryDirectory(prefix="cpmds-dbt-docs-") as scratch:
        copy = Path(scratch) / published.name
        shutil.copyfile(published, copy)
        result = run_dbt(
            ["docs", "generate", "--static"],
            {
                BUILD_VARIABLE: str(copy),
                STATE_VARIABLE: str(state_path(home)),
                "DBT_TARGET_PATH": scratch,
                "DBT_LOG_PATH": scratch,
            },
        )
        page = Path(scratch) / STATIC_PAGE
        if result.returncode != 0 or not page.is_file():
            raise DbtParseError(f"dbt docs generate failed:\n{result.stdout}{result.stderr}")
        target = docs_page(home)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page, target)
    return target
