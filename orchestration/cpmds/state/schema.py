"""The state store's tables: the ``quality`` history and one ``landing`` table per dataset.

Landing tables follow the contract through :func:`cpmds.pseudonymise.protected_schema`, so they can
only ever hold what a protected frame holds.
"""

from __future__ import annotations

import re

import polars as pl

from cpmds.contract import Contract, Dataset
from cpmds.ingest.read import ROW_COLUMN
from cpmds.pseudonymise import protected_schema
from cpmds.state.records import FILE_STATUSES, RUN_STATUSES

SCHEMA_VERSION = 1
QUALITY = "quality"
LANDING = "landing"
FILE_ID_COLUMN = "_file_id"
KEY_TABLE = f"{LANDING}._pseudonym_key"

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def quote(name: str) -> str:
    """A contract name as a SQL identifier; anything but a plain lower-case name is refused."""
    if _IDENTIFIER.fullmatch(name) is None:
        raise ValueError("not a plain identifier")
    return f'"{name}"'


def _in_list(values: tuple[str, ...]) -> str:
    # Fixed literals from this package, not data.
    return ", ".join(f"'{value}'" for value in values)


QUALITY_TABLES: tuple[str, ...] = (
    f"""
    CREATE TABLE IF NOT EXISTS {QUALITY}.schema_version (
        version INTEGER NOT NULL,
        applied TIMESTAMP NOT NULL
    )""",
    f"""
    CREATE TABLE IF NOT EXISTS {QUALITY}.load_log (
        file_id BIGINT PRIMARY KEY,
        path VARCHAR NOT NULL UNIQUE,
        partner VARCHAR,
        delivered_org VARCHAR,
        org VARCHAR,
        dataset VARCHAR,
        period INTEGER,
        submission TIMESTAMP,
        size BIGINT,
        sha256 VARCHAR,
        arrived TIMESTAMP NOT NULL,
        status VARCHAR NOT NULL CHECK (status IN ({_in_list(FILE_STATUSES)})),
        reason VARCHAR,
        rows BIGINT,
        error_rows BIGINT,
        warning_rows BIGINT,
        run_id VARCHAR NOT NULL,
        decided_run_id VARCHAR,
        duplicate_of BIGINT,
        superseded_by BIGINT
    )""",
    f"""
    CREATE TABLE IF NOT EXISTS {QUALITY}.row_failures (
        run_id VARCHAR NOT NULL,
        file_id BIGINT NOT NULL,
        path VARCHAR,
        dataset VARCHAR NOT NULL,
        row BIGINT,  -- empty when the finding is about the file as a whole
        "column" VARCHAR,
        rule VARCHAR NOT NULL,
        severity VARCHAR NOT NULL CHECK (severity IN ('error', 'warning')),
        message VARCHAR NOT NULL
    )""",
    f"""
    CREATE TABLE IF NOT EXISTS {QUALITY}.gate_results (
        run_id VARCHAR NOT NULL,
        gate VARCHAR NOT NULL,
        suite VARCHAR NOT NULL,
        partner VARCHAR,
        dataset VARCHAR,
        passed BOOLEAN NOT NULL,
        files_checked BIGINT NOT NULL,
        files_failed BIGINT NOT NULL,
        rows_checked BIGINT NOT NULL,
        rows_failed BIGINT NOT NULL,
        rows_warned BIGINT NOT NULL,
        details VARCHAR
    )""",
    f"""
    CREATE TABLE IF NOT EXISTS {QUALITY}.runs (
        run_id VARCHAR PRIMARY KEY,
        started TIMESTAMP NOT NULL,
        finished TIMESTAMP,
        status VARCHAR NOT NULL CHECK (status IN ({_in_list(RUN_STATUSES)})),
        published BOOLEAN,
        why_not VARCHAR,
        files_new BIGINT,
        files_loaded BIGINT,
        files_quarantined BIGINT,
        files_duplicate BIGINT,
        files_superseded BIGINT,
        files_rejected BIGINT,
        files_pending BIGINT,
        rows_loaded BIGINT
    )""",
    f"""
    CREATE TABLE IF NOT EXISTS {KEY_TABLE} (
        key_id VARCHAR NOT NULL,
        first_used TIMESTAMP NOT NULL
    )""",
)

_SQL_TYPES: dict[type[pl.DataType], str] = {
    pl.Utf8: "VARCHAR",
    pl.Boolean: "BOOLEAN",
    pl.Date: "DATE",
    pl.Int64: "BIGINT",
}


def sql_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.List):
        return f"{sql_type(dtype.inner)}[]"
    return _SQL_TYPES[type(dtype)]


def landing_table(dataset: Dataset) -> str:
    return f"{LANDING}.{quote(dataset.id)}"


def landing_columns(dataset: Dataset, contract: Contract) -> dict[str, str]:
    """Column name -> SQL type: ``_file_id``, then the protected frame's columns."""
    columns = {FILE_ID_COLUMN: "BIGINT"}
    columns.update(
        {name: sql_type(dtype) for name, dtype in protected_schema(dataset, contract).items()}
    )
    return columns


def create_landing_table(dataset: Dataset, contract: Contract) -> str:
    columns = ",\n    ".join(
        f"{quote(name)} {kind}" + (" NOT NULL" if name in (FILE_ID_COLUMN, ROW_COLUMN) else "")
        for name, kind in landing_columns(dataset, contract).items()
    )
    return f"CREATE TABLE IF NOT EXISTS {landing_table(dataset)} (\n    {columns}\n)"
