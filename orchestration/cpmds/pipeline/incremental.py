"""Where a run's dbt build starts: from the last published build, or empty (the full refresh).

The staging models are incremental (``dbt_project/macros/incremental.sql``): given last night's
tables they add only the files loaded since and drop the rows of files no longer current; the
current-state models rank again only the records in those files. That is
the same as building them from nothing only when last night's tables were made by the same code,
from the same rows of every file they hold, under the same pseudonymisation key. So a build
starts from a copy of the published warehouse only when:

- the published version was built by this code (its code digest is kept with the last build's
  record, :mod:`cpmds.pipeline.unchanged`);
- its pseudonyms were made under the state store's key (``quality.pseudonym_key``);
- no file it holds as loaded has been read again since (a backfill re-reads files under their own
  ids: their rows may differ);

and the ``CPMDS_FULL_REFRESH`` variable (``cpmds run --full-refresh``) is not set. Otherwise, or if
the copy cannot be checked, the build starts empty and dbt builds every model from the landing
tables. The indicator models read their own tables in the copy too: a period whose inputs are
unchanged keeps its cells (``dbt_project/macros/period_reuse.sql``). Every other model is rebuilt
in full every run.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cpmds.pipeline.unchanged import built_by_this_code
from cpmds.publish.atomic import published_path
from cpmds.state import state_path
from cpmds.state.schema import KEY_TABLE, QUALITY

logger = logging.getLogger(__name__)

FULL_REFRESH_VARIABLE = "CPMDS_FULL_REFRESH"
BUILD_START_LINE = "transform: the build starts "  # the log line's start (cpmds bench reads it)
# What the publish step adds to a build; a build starts from dbt's own schemas only.
PUBLISH_SCHEMAS = ("publication", QUALITY)


@dataclass(frozen=True)
class BuildStart:
    incremental: bool
    why: str

    def describe(self) -> str:
        how = "from the last published build" if self.incremental else "empty (full refresh)"
        return f"{BUILD_START_LINE}{how}: {self.why}"


def start_build(home: Path, target: Path) -> BuildStart:
    """Put the published warehouse at ``target`` when a build may start from it; say which."""
    if os.environ.get(FULL_REFRESH_VARIABLE):
        return BuildStart(False, "a full refresh was asked for")
    published = published_path(home)
    if not published.exists():
        return BuildStart(False, "nothing is published yet")
    if not built_by_this_code(home):
        return BuildStart(False, "the published warehouse was built by other code")
    shutil.copyfile(published.resolve(), target)
    try:
        why_not = _why_not_reusable(target, state_path(home))
    except duckdb.Error as error:
        why_not = f"the published warehouse could not be checked ({type(error).__name__})"
    if why_not is not None:
        target.unlink()
        return BuildStart(False, why_not)
    return BuildStart(True, "same code and key, no file read again")


def _why_not_reusable(warehouse: Path, state: Path) -> str | None:
    """Check the copy against the state store and strip what publishing added; ``None`` if fine."""
    with duckdb.connect(str(warehouse)) as connection:
        quoted = str(state).replace("'", "''")
        connection.execute(f"attach '{quoted}' as state (read_only)")
        keys = connection.execute(
            f"""select
                    (select list(distinct key_id order by key_id) from {QUALITY}.pseudonym_key),
                    (select list(distinct key_id order by key_id) from state.{KEY_TABLE})"""
        ).fetchone()
        if keys is None or keys[0] != keys[1]:
            return "the pseudonymisation key changed"
        read_again = connection.execute(
            f"""select count(*)
                from staging.stg_quality__load_log as built
                inner join state.{QUALITY}.load_log as now using (file_id)
                where built.status = 'loaded' and now.status = 'loaded'
                    and built.decided_run_id is distinct from now.decided_run_id"""
        ).fetchone()[0]
        if read_again:
            return f"{read_again} file(s) it holds were read again (a backfill)"
        connection.execute("detach state")
        for schema in PUBLISH_SCHEMAS:
            connection.execute(f"drop schema if exists {schema} cascade")
    return None
