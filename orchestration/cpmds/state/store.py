"""The pipeline's own DuckDB file: load log, landing tables, run and gate history (pipeline.md).

Everything a run learns goes here, whatever the run ends in: each change is one transaction, so a
run killed at any point leaves the store as it was before that change. Values from delivered files
(paths, names) reach SQL only as parameters or as registered frames, never as SQL text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any, Self

import duckdb
import numpy as np
import polars as pl

from cpmds.contract import Contract, Dataset, load_contract
from cpmds.ingest.read import ROW_COLUMN
from cpmds.pseudonymise import ProtectedFrame, assert_protected, protected_schema
from cpmds.state.digest import update_with_rows
from cpmds.state.lock import StateStoreBusyError, StoreLock
from cpmds.state.records import (
    DecidedStatus,
    FileDecision,
    FileRecord,
    FileStatus,
    GateResult,
    NewFile,
    RunRecord,
    RunStatus,
    SupersessionChange,
)
from cpmds.state.schema import (
    FILE_ID_COLUMN,
    KEY_TABLE,
    LANDING,
    QUALITY,
    QUALITY_TABLES,
    SCHEMA_VERSION,
    create_landing_table,
    landing_columns,
    landing_table,
    quote,
)
from cpmds.state.supersession import Standing, supersession_changes

STATE_DIRECTORY = "state"
STATE_FILE = "cpmds_state.duckdb"
LOCK_FILE = "cpmds_state.lock"

ROW_FAILURE_COLUMNS: dict[str, pl.DataType] = {
    "run_id": pl.Utf8(),
    "file_id": pl.Int64(),
    "dataset": pl.Utf8(),
    "row": pl.Int64(),
    "column": pl.Utf8(),
    "rule": pl.Utf8(),
    "severity": pl.Utf8(),
    "message": pl.Utf8(),
}
"""What a row failure carries: fixed fields only (its path comes from the load log)."""

_LAND_STATUSES = ("pending", "rejected", "quarantined", "duplicate")
_DECIDED_AT_LAND = ("rejected", "quarantined", "duplicate")
_REBUILT_STATUSES = ("pending", "loaded", "quarantined", "superseded")
_FILE_COLUMNS = tuple(field.name for field in fields(FileRecord))
_RUN_COLUMNS = tuple(field.name for field in fields(RunRecord))


class StateStoreError(RuntimeError):
    """The state store cannot do what was asked; the message says why, without data values."""


class PseudonymKeyMismatchError(StateStoreError):
    """The landing tables hold pseudonyms made under another key."""


def state_path(home: Path) -> Path:
    return home / STATE_DIRECTORY / STATE_FILE


class StateStore:
    """A handle on the state store; open with :meth:`open`, use as a context manager."""

    def __init__(
        self,
        connection: duckdb.DuckDBPyConnection,
        lock: StoreLock,
        path: Path,
        contract: Contract,
        read_only: bool,
    ) -> None:
        self._con = connection
        self._lock = lock
        self.path = path
        self.contract = contract
        self.read_only = read_only
        self._next_file_id: int | None = None

    # -- opening ---------------------------------------------------------------------------------

    @classmethod
    def open(
        cls, home: Path, *, read_only: bool = False, contract: Contract | None = None
    ) -> StateStore:
        """Open (creating if need be) ``<home>/state/cpmds_state.duckdb``.

        One writer at a time: a second writer, or a reader while a writer is open, gets
        :class:`StateStoreBusyError`. Readers may share. Opening read-only a store that does not
        exist raises :class:`StateStoreError`.
        """
        path = state_path(home)
        if read_only and not path.exists():
            raise StateStoreError(f"no state store at {path}: no run has written one yet")
        path.parent.mkdir(parents=True, exist_ok=True)
        if not read_only:
            # The store holds pseudonymised child-level rows: owner-only, like the key.
            path.parent.chmod(0o700)
        lock = StoreLock(path.parent / LOCK_FILE, exclusive=not read_only)
        lock.acquire()
        try:
            connection = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as error:
            lock.release()
            if "lock" in str(error).lower():
                raise StateStoreBusyError(
                    f"the state store {path.parent} is open in another process"
                ) from None
            raise
        except BaseException:
            lock.release()
            raise
        store = cls(connection, lock, path, contract or load_contract(), read_only)
        try:
            store._check_version()
            if not read_only:
                store._create_schema()
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        try:
            self._con.close()
        finally:
            self._lock.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _check_version(self) -> None:
        present = self._scalar(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = ? AND table_name = 'schema_version'",
            [QUALITY],
        )
        if not present:
            if self.read_only:
                raise StateStoreError(f"{self.path} is not a cpmds state store")
            return
        version = self._scalar(f"SELECT max(version) FROM {QUALITY}.schema_version")
        if version is not None and version > SCHEMA_VERSION:
            raise StateStoreError(
                f"{self.path} was written by a newer cpmds (schema {version}; this one knows "
                f"{SCHEMA_VERSION}): upgrade cpmds"
            )

    def _create_schema(self) -> None:
        with self._transaction():
            for schema in (QUALITY, LANDING):
                self._con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            for statement in QUALITY_TABLES:
                self._con.execute(statement)
            if self._scalar(f"SELECT max(version) FROM {QUALITY}.schema_version") is None:
                self._con.execute(
                    f"INSERT INTO {QUALITY}.schema_version VALUES (?, ?)",
                    [SCHEMA_VERSION, _utc_now()],
                )
            # One look at the catalogue for every landing table: a query per table costs more
            # than the rest of opening the store.
            columns: dict[str, dict[str, str]] = {}
            for table, name, kind in self._con.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? ORDER BY table_name, ordinal_position",
                [LANDING],
            ).fetchall():
                columns.setdefault(table, {})[name] = kind
            for dataset in self.contract.datasets:
                if dataset.id not in columns:
                    self._con.execute(create_landing_table(dataset, self.contract))
                self._align_landing_table(dataset, columns.get(dataset.id))

    def _align_landing_table(self, dataset: Dataset, existing: dict[str, str] | None) -> None:
        """Add columns the contract has gained; refuse a table the contract no longer fits.

        ``existing`` is the table's columns and types, or None for a table just created."""
        if existing is None:
            return
        wanted = landing_columns(dataset, self.contract)
        for name, kind in wanted.items():
            if name not in existing:
                self._con.execute(
                    f"ALTER TABLE {landing_table(dataset)} ADD COLUMN {quote(name)} {kind}"
                )
            elif existing[name] != kind:
                raise StateStoreError(
                    f"landing table {dataset.id}.{name} is {existing[name]}, the contract says "
                    f"{kind}: rebuild the state store from the landing zone"
                )
        unknown = sorted(set(existing) - set(wanted))
        if unknown:
            raise StateStoreError(
                f"landing table {dataset.id} has columns the contract no longer has {unknown}: "
                "rebuild the state store from the landing zone"
            )

    # -- runs ------------------------------------------------------------------------------------

    def begin_run(self, run_id: str, started: dt.datetime) -> None:
        """Record a run as running. A run still marked running is dead (this handle is the only
        writer), so it is marked ``interrupted``."""
        with self._transaction():
            self._con.execute(
                f"UPDATE {QUALITY}.runs SET status = 'interrupted' WHERE status = 'running'"
            )
            if self._scalar(f"SELECT count(*) FROM {QUALITY}.runs WHERE run_id = ?", [run_id]):
                raise StateStoreError("that run id has been used already")
            self._con.execute(
                f"INSERT INTO {QUALITY}.runs (run_id, started, status) VALUES (?, ?, 'running')",
                [run_id, _naive(started)],
            )

    def finish_run(
        self,
        run_id: str,
        finished: dt.datetime,
        *,
        published: bool,
        why_not: str | None = None,
        status: RunStatus = "finished",
    ) -> RunRecord:
        """Close a run, counting its files from the load log; ``why_not`` is a fixed text."""
        counts = f"""
            SELECT
                count(*) FILTER (WHERE run_id = $run),
                count(*) FILTER (WHERE decided_run_id = $run AND status = 'loaded'),
                count(*) FILTER (WHERE decided_run_id = $run AND status = 'quarantined'),
                count(*) FILTER (WHERE run_id = $run AND status = 'duplicate'),
                count(*) FILTER (WHERE decided_run_id = $run AND status = 'superseded'),
                count(*) FILTER (WHERE run_id = $run AND status = 'rejected'),
                count(*) FILTER (WHERE status = 'pending'),
                coalesce(sum(rows - coalesce(error_rows, 0))
                    FILTER (WHERE decided_run_id = $run AND status = 'loaded'), 0)
            FROM {QUALITY}.load_log
        """
        with self._transaction():
            (row,) = self._con.execute(counts, {"run": run_id}).fetchall()
            updated = self._con.execute(
                f"""
                UPDATE {QUALITY}.runs SET finished = ?, status = ?, published = ?, why_not = ?,
                    files_new = ?, files_loaded = ?, files_quarantined = ?, files_duplicate = ?,
                    files_superseded = ?, files_rejected = ?, files_pending = ?, rows_loaded = ?
                WHERE run_id = ?
                RETURNING run_id
                """,
                [_naive(finished), status, published, why_not, *row, run_id],
            ).fetchall()
            if not updated:
                raise StateStoreError("finish_run: no such run")
        (record,) = self._runs("WHERE run_id = ?", [run_id])
        return record

    def last_runs(self, n: int = 10) -> list[RunRecord]:
        return self._runs("ORDER BY started DESC, run_id DESC LIMIT ?", [n])

    def _runs(self, clause: str, parameters: list[Any]) -> list[RunRecord]:
        columns = ", ".join(_RUN_COLUMNS)
        rows = self._con.execute(
            f"SELECT {columns} FROM {QUALITY}.runs {clause}", parameters
        ).fetchall()
        return [RunRecord(*row) for row in rows]

    # -- the load log ----------------------------------------------------------------------------

    def known_paths(self) -> set[str]:
        """Every path the load log holds, whatever its status."""
        rows = self._con.execute(f"SELECT path FROM {QUALITY}.load_log").fetchall()
        return {path for (path,) in rows}

    def new_file_id(self) -> int:
        """A file id no load-log row has; ids are never reused."""
        if self._next_file_id is None:
            highest = self._scalar(f"SELECT max(file_id) FROM {QUALITY}.load_log")
            self._next_file_id = (highest or 0) + 1
        file_id = self._next_file_id
        self._next_file_id += 1
        return file_id

    def record_files(self, files: Iterable[NewFile]) -> list[int]:
        """Add load-log rows for newly seen files: pending, rejected, quarantined, duplicate."""
        files = list(files)
        if not files:
            return []
        for file in files:
            if file.status not in _LAND_STATUSES:
                raise ValueError(f"a new file cannot be {file.status}")
        frame = pl.DataFrame(
            [_new_file_row(file) for file in files], schema=_NEW_FILE_SCHEMA, orient="row"
        )
        with self._transaction(), self._registered(frame) as batch:
            self._con.execute(f"INSERT INTO {QUALITY}.load_log BY NAME SELECT * FROM {batch}")
        return [file.file_id for file in files]

    def delivered_before(
        self, partner: str, org: str, dataset: str, period: int, sha256: str
    ) -> bool:
        """Whether these bytes were already delivered for this (partner, org, dataset, period)."""
        return bool(
            self._scalar(
                f"""SELECT count(*) FROM {QUALITY}.load_log WHERE partner = ? AND org = ?
                AND dataset = ? AND period = ? AND sha256 = ? AND status <> 'rejected'""",
                [partner, org, dataset, period, sha256],
            )
        )

    def delivered_originals(self) -> dict[tuple[str, str, str, int, str], int]:
        """(partner, org, dataset, period, sha256) -> the first file delivered with those bytes:
        what :meth:`delivered_before` asks, for every file at once."""
        rows = self._con.execute(
            f"""SELECT partner, org, dataset, period, sha256, min(file_id)
            FROM {QUALITY}.load_log
            WHERE status NOT IN ('rejected', 'duplicate') AND sha256 IS NOT NULL
            GROUP BY ALL"""
        ).fetchall()
        return {(p, o, d, period, sha): file_id for p, o, d, period, sha, file_id in rows}

    def update_file(
        self,
        file_id: int,
        status: DecidedStatus,
        reason: str | None = None,
        *,
        run_id: str,
        rows: int | None = None,
        error_rows: int | None = None,
        warning_rows: int | None = None,
    ) -> None:
        """Decide a pending file: ``loaded`` or ``quarantined`` (see :meth:`update_files`)."""
        decision = FileDecision(file_id, status, reason, rows, error_rows, warning_rows)
        self.update_files([decision], run_id=run_id)

    def update_files(self, decisions: Iterable[FileDecision], *, run_id: str) -> None:
        """Decide pending files in one statement; any file not pending refuses the whole batch."""
        decisions = list(decisions)
        if not decisions:
            return
        for decision in decisions:
            if decision.status not in ("loaded", "quarantined"):
                raise ValueError("the ingest step decides loaded or quarantined")
        frame = pl.DataFrame(
            [
                (d.file_id, d.status, d.reason, d.rows, d.error_rows, d.warning_rows, run_id)
                for d in decisions
            ],
            schema={
                "file_id": pl.Int64,
                "status": pl.Utf8,
                "reason": pl.Utf8,
                "rows": pl.Int64,
                "error_rows": pl.Int64,
                "warning_rows": pl.Int64,
                "decided_run_id": pl.Utf8,
            },
            orient="row",
        )
        if frame["file_id"].n_unique() != frame.height:
            raise ValueError("one decision per file")
        with self._transaction(), self._registered(frame) as batch:
            not_pending = self._scalar(
                f"""SELECT count(*) FROM {batch} d
                LEFT JOIN {QUALITY}.load_log l USING (file_id)
                WHERE l.status IS DISTINCT FROM 'pending'"""
            )
            if not_pending:
                raise StateStoreError(f"{not_pending} file(s) to decide are not pending")
            self._con.execute(
                f"""UPDATE {QUALITY}.load_log AS l SET status = d.status, reason = d.reason,
                    rows = d.rows, error_rows = d.error_rows, warning_rows = d.warning_rows,
                    decided_run_id = d.decided_run_id
                FROM {batch} AS d WHERE l.file_id = d.file_id"""
            )

    def file(self, file_id: int) -> FileRecord:
        found = self._files("WHERE file_id = ?", [file_id])
        if not found:
            raise KeyError(file_id)
        return found[0]

    def files(
        self, status: FileStatus | None = None, dataset_id: str | None = None
    ) -> list[FileRecord]:
        """Load-log rows, by path; optionally of one status and/or dataset."""
        return self._files(
            "WHERE ($status IS NULL OR status = $status) "
            "AND ($dataset IS NULL OR dataset = $dataset) ORDER BY path",
            {"status": status, "dataset": dataset_id},
        )

    def pending_files(self, dataset_id: str | None = None) -> list[FileRecord]:
        """Files waiting for the ingest step: new, or left pending by a run that died."""
        return self.files("pending", dataset_id)

    def current_files(self, dataset_id: str | None = None) -> list[FileRecord]:
        """The loaded, not superseded, files: one per (partner, org, dataset, period)."""
        return self.files("loaded", dataset_id)

    def quarantined_files(self) -> list[FileRecord]:
        return self.files("quarantined")

    def _files(self, clause: str, parameters: list[Any] | dict[str, Any]) -> list[FileRecord]:
        columns = ", ".join(_FILE_COLUMNS)
        rows = self._con.execute(
            f"SELECT {columns} FROM {QUALITY}.load_log {clause}", parameters
        ).fetchall()
        return [FileRecord(*row) for row in rows]

    # -- supersession ----------------------------------------------------------------------------

    def apply_supersession(self, run_id: str) -> list[SupersessionChange]:
        """Make the latest loaded submission current in every (partner, org, dataset, period) and
        mark the other loaded files ``superseded`` (see :mod:`cpmds.state.supersession`)."""
        with self._transaction():
            rows = self._con.execute(
                f"""SELECT file_id, path, status, partner, org, dataset, period, submission,
                    arrived, duplicate_of, superseded_by
                FROM {QUALITY}.load_log
                WHERE status IN ('loaded', 'superseded', 'duplicate') AND dataset IS NOT NULL"""
            ).fetchall()
            standings = [
                Standing(
                    file_id=row[0],
                    path=row[1],
                    status=row[2],
                    group=(row[3], row[4], row[5], row[6]),
                    submission=row[7],
                    arrived=row[8],
                    duplicate_of=row[9],
                    superseded_by=row[10],
                )
                for row in rows
            ]
            changes = supersession_changes(standings)
            if changes:
                frame = pl.DataFrame(
                    [(c.file_id, c.after, c.superseded_by, run_id) for c in changes],
                    schema={
                        "file_id": pl.Int64,
                        "status": pl.Utf8,
                        "superseded_by": pl.Int64,
                        "decided_run_id": pl.Utf8,
                    },
                    orient="row",
                )
                with self._registered(frame) as batch:
                    self._con.execute(
                        f"""UPDATE {QUALITY}.load_log AS l SET status = c.status,
                            superseded_by = c.superseded_by, decided_run_id = c.decided_run_id
                        FROM {batch} AS c WHERE l.file_id = c.file_id"""
                    )
        return changes

    # -- landing ---------------------------------------------------------------------------------

    def write_landing(self, dataset_id: str, frames_by_file: Mapping[int, ProtectedFrame]) -> int:
        """Land the protected rows of pending files of one dataset; returns the rows written.

        One transaction for the batch: every file's rows land whole, or (on any error, or if the
        process dies) none of the batch does. A file's earlier rows, left by a run that died
        before deciding it, are replaced. Only frames from ``Pseudonymiser.protect`` are taken,
        checked again with ``assert_protected``, and under the key the tables already hold.
        """
        dataset = self.contract.dataset_by_id.get(dataset_id)
        if dataset is None:
            raise ValueError("unknown dataset")
        if not frames_by_file:
            return 0
        key_ids = set()
        expected = list(protected_schema(dataset, self.contract).items())
        tables = []
        for protected in frames_by_file.values():
            if not isinstance(protected, ProtectedFrame):
                raise TypeError("write_landing takes frames from Pseudonymiser.protect only")
            if protected.dataset_id != dataset_id:
                raise ValueError(f"a {protected.dataset_id} frame given for {dataset_id}")
            frame = protected.frame
            if list(frame.schema.items()) != expected:
                assert_protected(protected, dataset)  # raises, and says why, unless only the
                frame = frame.select([name for name, _ in expected])  # order of columns differs
            tables.append(frame)
            key_ids.add(protected.key_id)
        if len(key_ids) != 1:
            raise PseudonymKeyMismatchError("frames made under different keys in one batch")
        (key_id,) = key_ids
        # Every frame now has the protected schema, so their rows are checked again together,
        # in one pass: what is written is exactly what was checked.
        protected_rows = pl.concat(tables, how="vertical")
        assert_protected(protected_rows, dataset)
        heights = [protected.height for protected in frames_by_file.values()]
        file_ids = pl.Series(
            FILE_ID_COLUMN, np.repeat(np.array(list(frames_by_file), dtype=np.int64), heights)
        )
        columns = list(landing_columns(dataset, self.contract))
        batch_frame = protected_rows.with_columns(file_ids).select(columns)
        ids = pl.DataFrame({"file_id": list(frames_by_file)}, schema={"file_id": pl.Int64})
        table = landing_table(dataset)
        with (
            self._transaction(),
            self._registered(ids) as id_batch,
            self._registered(batch_frame) as rows,
        ):
            self._claim_key(key_id)
            wrong = self._scalar(
                f"""SELECT count(*) FROM {id_batch} i LEFT JOIN {QUALITY}.load_log l
                USING (file_id) WHERE l.status IS DISTINCT FROM 'pending'
                OR l.dataset IS DISTINCT FROM ?""",
                [dataset_id],
            )
            if wrong:
                raise StateStoreError(f"{wrong} file(s) to land are not pending {dataset_id} files")
            self._con.execute(
                f"DELETE FROM {table} WHERE {FILE_ID_COLUMN} IN (SELECT file_id FROM {id_batch})"
            )
            self._con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {rows}")
        return batch_frame.height

    def _claim_key(self, key_id: str) -> None:
        held = self._con.execute(f"SELECT DISTINCT key_id FROM {KEY_TABLE}").fetchall()
        if not held:
            self._con.execute(f"INSERT INTO {KEY_TABLE} VALUES (?, ?)", [key_id, _utc_now()])
        elif held != [(key_id,)]:
            raise PseudonymKeyMismatchError(
                "the landing tables hold pseudonyms made under another key: after changing or "
                "rotating the key, rebuild them (`cpmds rotate-key` does; or reset the state "
                "store for a rebuild and run again)"
            )

    def build_inputs_digest(self) -> str:
        """A digest of what the landing tables hold: the load log (they are keyed by its files and
        change only with it) and the key their pseudonyms were made under."""
        digest = hashlib.sha256()
        for query in (
            f"SELECT * FROM {QUALITY}.load_log ORDER BY file_id",
            f"SELECT * FROM {KEY_TABLE} ORDER BY ALL",
        ):
            update_with_rows(digest, self._con, query)
        return digest.hexdigest()

    def landing_frame(self, dataset_id: str, *, current_only: bool = True) -> pl.DataFrame:
        """A landing table's rows (of current files only, by default), by file and row."""
        dataset = self.contract.dataset_by_id[dataset_id]
        where = ""
        if current_only:
            where = (
                f"WHERE {FILE_ID_COLUMN} IN "
                f"(SELECT file_id FROM {QUALITY}.load_log WHERE status = 'loaded')"
            )
        return self._con.sql(
            f"SELECT * FROM {landing_table(dataset)} {where} "
            f"ORDER BY {FILE_ID_COLUMN}, {quote(ROW_COLUMN)}"
        ).pl()

    def reset_for_rebuild(
        self, period_from: int | None = None, period_to: int | None = None
    ) -> int:
        """Empty the landing tables and set their files back to ``pending``, so that the next
        run re-reads them from the landing zone; returns how many files that is.

        For a key rotation call it without periods: everything is re-ingested under the new key.
        With periods (YYYYMM, inclusive) only those periods are (a backfill). Load-log rows stay,
        keeping ids and first-arrival times; rejected files and duplicates keep their status
        (neither depends on the key or the rows), and the run, gate and row-failure history stays.
        """
        full = period_from is None and period_to is None
        statuses = ", ".join(f"'{status}'" for status in _REBUILT_STATUSES)
        chosen = (
            f"SELECT file_id FROM {QUALITY}.load_log WHERE status IN ({statuses}) "
            "AND dataset IS NOT NULL "  # a name quarantined at land stays so: nothing to re-read
            "AND ($period_from IS NULL OR period >= $period_from) "
            "AND ($period_to IS NULL OR period <= $period_to)"
        )
        bounds = {"period_from": period_from, "period_to": period_to}
        with self._transaction():
            count = self._scalar(f"SELECT count(*) FROM ({chosen})", bounds)
            for dataset in self.contract.datasets:
                table = landing_table(dataset)
                if full:
                    self._con.execute(f"DELETE FROM {table}")
                else:
                    self._con.execute(
                        f"DELETE FROM {table} WHERE {FILE_ID_COLUMN} IN ({chosen})", bounds
                    )
            self._con.execute(
                f"""UPDATE {QUALITY}.load_log SET status = 'pending', reason = NULL, rows = NULL,
                    error_rows = NULL, warning_rows = NULL, decided_run_id = NULL,
                    superseded_by = NULL
                WHERE file_id IN ({chosen})""",
                bounds,
            )
            if full:
                self._con.execute(f"DELETE FROM {KEY_TABLE}")
        return int(count or 0)

    # -- quality history -------------------------------------------------------------------------

    def record_row_failures(self, frame: pl.DataFrame) -> int:
        """Add row failures: exactly :data:`ROW_FAILURE_COLUMNS` (a ``path`` column is ignored
        for the load log's). Anything else is refused: GX's unexpected values must never land."""
        given = [name for name in frame.columns if name != "path"]
        if sorted(given) != sorted(ROW_FAILURE_COLUMNS):
            raise ValueError(f"row failures have exactly the columns {list(ROW_FAILURE_COLUMNS)}")
        if frame.is_empty():
            return 0
        failures = frame.select(
            pl.col(name).cast(dtype) for name, dtype in ROW_FAILURE_COLUMNS.items()
        )
        with self._transaction(), self._registered(failures) as batch:
            unknown = self._scalar(
                f"""SELECT count(*) FROM {batch} f ANTI JOIN {QUALITY}.load_log l
                USING (file_id)"""
            )
            if unknown:
                raise StateStoreError(f"{unknown} row failure(s) name no file in the load log")
            self._con.execute(
                f"""INSERT INTO {QUALITY}.row_failures
                SELECT f.run_id, f.file_id, l.path, f.dataset, f.row, f."column", f.rule,
                    f.severity, f.message
                FROM {batch} f JOIN {QUALITY}.load_log l USING (file_id)"""
            )
        return failures.height

    def record_gate_results(self, results: Iterable[GateResult]) -> int:
        rows = [
            (
                r.run_id,
                r.gate,
                r.suite,
                r.partner,
                r.dataset,
                r.passed,
                r.files_checked,
                r.files_failed,
                r.rows_checked,
                r.rows_failed,
                r.rows_warned,
                None if r.details is None else json.dumps(r.details, sort_keys=True, default=str),
            )
            for r in results
        ]
        if not rows:
            return 0
        with self._transaction():
            self._con.executemany(
                f"INSERT INTO {QUALITY}.gate_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    # -- plumbing --------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._con.begin()
        try:
            yield
        except BaseException:
            self._con.rollback()
            raise
        self._con.commit()

    @contextmanager
    def _registered(self, frame: pl.DataFrame) -> Iterator[str]:
        name = f"cpmds_batch_{secrets.token_hex(6)}"
        self._con.register(name, frame)
        try:
            yield name
        finally:
            self._con.unregister(name)

    def _scalar(self, query: str, parameters: list[Any] | dict[str, Any] | None = None) -> Any:
        # fetchall, not fetchone: DuckDB 2.0 keeps a half-read result open on the connection.
        rows = self._con.execute(query, parameters or []).fetchall()
        return rows[0][0] if rows else None


_NEW_FILE_SCHEMA: dict[str, pl.DataType] = {
    "file_id": pl.Int64(),
    "path": pl.Utf8(),
    "partner": pl.Utf8(),
    "delivered_org": pl.Utf8(),
    "org": pl.Utf8(),
    "dataset": pl.Utf8(),
    "period": pl.Int32(),
    "submission": pl.Datetime("us"),
    "size": pl.Int64(),
    "sha256": pl.Utf8(),
    "arrived": pl.Datetime("us"),
    "status": pl.Utf8(),
    "reason": pl.Utf8(),
    "run_id": pl.Utf8(),
    "decided_run_id": pl.Utf8(),
    "duplicate_of": pl.Int64(),
}


def _new_file_row(file: NewFile) -> tuple[object, ...]:
    delivery = file.delivery
    return (
        file.file_id,
        file.path,
        delivery.partner if delivery else None,
        delivery.delivered_org if delivery else None,
        delivery.org if delivery else None,
        delivery.dataset_id if delivery else None,
        delivery.period if delivery else None,
        _naive(delivery.submitted_at) if delivery else None,
        file.size,
        file.sha256,
        _naive(file.arrived),
        file.status,
        file.reason,
        file.run_id,
        file.run_id if file.status in _DECIDED_AT_LAND else None,
        file.duplicate_of,
    )


def _naive(moment: dt.datetime) -> dt.datetime:
    """Timestamps are stored naive: an aware one is converted to UTC first."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
