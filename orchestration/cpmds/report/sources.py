"""What the report may read, and nothing else: the state store's ``quality`` history and the
shareable publication file (the ``publication`` schema, the catalogue and dimensions, and the
disclosure-controlled ``quality`` aggregates). Nothing restricted is ever opened, so nothing
restricted can reach the report.

Both are attached read-only to one in-memory DuckDB connection: ``state`` and ``published``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from cpmds.publish.atomic import kept_versions, published_path
from cpmds.publish.outputs import PUBLICATION_FILE
from cpmds.state import StateStore, state_path


class NoRunError(LookupError):
    """The state store has no such run (or no run at all)."""


def publication_file(home: Path) -> Path:
    return published_path(home).with_name(PUBLICATION_FILE)


def publication_versions(home: Path) -> list[Path]:
    """The kept versions of the publication file, oldest first."""
    return kept_versions(publication_file(home))


@dataclass
class Sources:
    connection: duckdb.DuckDBPyConnection
    has_publication: bool

    def frame(self, query: str, parameters: list[Any] | None = None) -> pl.DataFrame:
        return self.connection.sql(query, params=parameters or []).pl()

    def scalar(self, query: str, parameters: list[Any] | None = None) -> Any:
        # fetchall: DuckDB 2.0 refuses the next query while a result is only partly fetched.
        rows = self.connection.execute(query, parameters or []).fetchall()
        return rows[0][0] if rows else None


@contextmanager
def open_sources(home: Path) -> Iterator[Sources]:
    """The state store (under its shared lock) and the current publication file, read-only."""
    if not state_path(home).exists():
        raise NoRunError(f"no state store under {home}: no run has happened yet")
    with StateStore.open(home, read_only=True), duckdb.connect() as connection:
        connection.execute(f"attach '{_quoted(state_path(home))}' as state (read_only)")
        shareable = publication_file(home)
        if shareable.exists():
            connection.execute(f"attach '{_quoted(shareable.resolve())}' as published (read_only)")
        yield Sources(connection=connection, has_publication=shareable.exists())


@contextmanager
def open_publication(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """One kept publication version, read-only (for what changed since the one before)."""
    with duckdb.connect(str(path), read_only=True) as connection:
        yield connection


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
