"""Where a run builds its warehouse, and what dbt is told about it (``dbt_project/profiles.yml``).

Each run builds a fresh DuckDB file of its own, ``<home>/warehouse/build/<run id>/cpmds.duckdb``,
with dbt's artifacts and log for that build beside it in ``dbt/``. The file is named like the
published warehouse (``<home>/warehouse/cpmds.duckdb``, interface.md) so that its catalog name is
``cpmds`` wherever it ends up: the publish step (a later issue) moves it there in one rename.
Until then the newest build is the warehouse to look at; a build that succeeds removes the earlier
ones (each is a full copy of pseudonymised child-level rows, so copies are not left lying about).

dbt reads two variables through the profile: ``CPMDS_WAREHOUSE_BUILD``, the file to build, and
``CPMDS_STATE_DB``, the state store, attached read-only as the database ``state``; and the models
read ``CPMDS_RUN_ID``, the run whose rows they build.

The file to build is given as ``<home>/warehouse/build/cpmds.duckdb``, a link to the run's own
file: dbt keeps its parsed project (``partial_parse.msgpack``, copied from the last build) only
while the profile reads the same, and a path with the run id in it would make it parse the whole
project again on every run (about 3 s).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cpmds.publish.atomic import point_link
from cpmds.settings import Settings
from cpmds.state import state_path

BUILD_VARIABLE = "CPMDS_WAREHOUSE_BUILD"
STATE_VARIABLE = "CPMDS_STATE_DB"
RUN_VARIABLE = "CPMDS_RUN_ID"
WAREHOUSE_FILE = "cpmds.duckdb"
ARTIFACTS_DIR = "dbt"
PARSED_PROJECT = "partial_parse.msgpack"

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def builds_directory(home: Path) -> Path:
    return home / "warehouse" / "build"


@dataclass(frozen=True)
class WarehouseBuild:
    """One run's warehouse build: the DuckDB file, dbt's artifacts, and the state store it reads."""

    run_id: str
    directory: Path
    state_db: Path

    @property
    def path(self) -> Path:
        return self.directory / WAREHOUSE_FILE

    @property
    def artifacts(self) -> Path:
        return self.directory / ARTIFACTS_DIR

    @property
    def link(self) -> Path:
        """The path dbt is given: the same for every run, a link to this run's file."""
        return self.directory.parent / WAREHOUSE_FILE

    def environment(self) -> dict[str, str]:
        """The variables dbt reads for this build: the profile's, and the run id the models stamp
        on their rows."""
        return {
            BUILD_VARIABLE: str(self.link),
            STATE_VARIABLE: str(self.state_db),
            RUN_VARIABLE: self.run_id,
        }

    def prepare(self) -> None:
        """An empty folder for the build (a retried run starts again from nothing), the link to
        it, and the last build's parsed project."""
        parent = self.directory.parent
        parent.mkdir(parents=True, exist_ok=True)
        parent.chmod(0o700)  # pseudonymised child-level rows: owner only, like the state store
        if self.directory.exists():
            shutil.rmtree(self.directory)
        self.artifacts.mkdir(parents=True)
        point_link(self.link, self.path)
        parsed = _last_parsed_project(parent, self.directory)
        if parsed is not None:
            shutil.copyfile(parsed, self.artifacts / PARSED_PROJECT)

    def remove_earlier_builds(self) -> list[Path]:
        """Delete every other run's build folder; return what was removed."""
        removed = []
        for other in sorted(self.directory.parent.iterdir()):
            if other != self.directory and other.is_dir() and _RUN_ID.fullmatch(other.name):
                shutil.rmtree(other)
                removed.append(other)
        return removed


def _last_parsed_project(builds: Path, this_build: Path) -> Path | None:
    """dbt's parsed project from the newest other build, if one is left."""
    parsed = [
        path
        for path in builds.glob(f"*/{ARTIFACTS_DIR}/{PARSED_PROJECT}")
        if path.parents[1] != this_build
    ]
    return max(parsed, key=lambda path: path.stat().st_mtime, default=None)


def warehouse_build(settings: Settings, run_id: str) -> WarehouseBuild:
    if _RUN_ID.fullmatch(run_id) is None:
        raise ValueError("a run id is letters, digits, '-' and '_'")
    return WarehouseBuild(
        run_id=run_id,
        directory=builds_directory(settings.home) / run_id,
        state_db=state_path(settings.home),
    )


def latest_build(home: Path) -> Path | None:
    """The newest built warehouse file under ``home``, if any."""
    folder = builds_directory(home)
    if not folder.is_dir():
        return None
    built = [path for path in folder.glob(f"*/{WAREHOUSE_FILE}") if path.is_file()]
    return max(built, key=lambda path: path.stat().st_mtime, default=None)


@contextmanager
def environment_set(variables: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the length of the block, then put back what was there.

    dagster-dbt starts dbt with this process's environment and reads the profile in this process
    too, so the build's variables have to be in ``os.environ`` while it starts.
    """
    before = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
