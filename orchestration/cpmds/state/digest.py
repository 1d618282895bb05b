"""A SHA-256 over the rows queries return, in their order: how the pipeline tells whether two
databases (or two moments of one) hold the same thing without keeping a copy."""

from __future__ import annotations

import hashlib

import duckdb


def update_with_rows(
    digest: hashlib._Hash, connection: duckdb.DuckDBPyConnection, query: str
) -> None:
    """Feed every row of ``query`` to ``digest``, a batch at a time."""
    cursor = connection.execute(query)
    while batch := cursor.fetchmany(10_000):
        for row in batch:
            digest.update(repr(row).encode("utf-8"))
            digest.update(b"\n")
