"""The state store: schema from the contract, whole-file writes, supersession, one writer."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import polars as pl
import pytest

from cpmds.contract import load_contract
from cpmds.ingest import normalise_frame, parse_landing_path
from cpmds.pseudonymise import ProtectedFrame, Pseudonymiser, UnprotectedFrameError
from cpmds.state import (
    ROW_FAILURE_COLUMNS,
    SCHEMA_VERSION,
    FileDecision,
    GateResult,
    NewFile,
    PseudonymKeyMismatchError,
    StateStore,
    StateStoreBusyError,
    StateStoreError,
    state_path,
)
from cpmds.state.schema import landing_columns

CONTRACT = load_contract()
REGISTRATIONS = CONTRACT.dataset_by_id["sw__registrations"]
CHILDREN = CONTRACT.dataset_by_id["sw__children"]
KEY = bytes(range(32))
PSEUDONYMISER = Pseudonymiser(KEY)
NOW = dt.datetime(2024, 7, 20, 2, 0)
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def store(tmp_path: Path):
    with StateStore.open(tmp_path) as opened:
        yield opened


def registration_rows(count: int, prefix: str = "R") -> pl.DataFrame:
    rows = [
        {
            "_row": index + 2,
            "registration_id": f"{prefix}{index}",
            "child_id": f"C{index}",
            "registration_date": "2024-06-03",
            "concerns": "NEG|DA",
        }
        for index in range(count)
    ]
    columns = ["registration_id", "child_id", "registration_date", "concerns"]
    schema = {"_row": pl.Int64, **dict.fromkeys(columns, pl.Utf8)}
    strings = pl.DataFrame(rows, schema=schema)
    return normalise_frame(strings, REGISTRATIONS, dt.date(2024, 7, 5)).frame


def protected(count: int, org: str = "S12000036", prefix: str = "R") -> ProtectedFrame:
    return PSEUDONYMISER.protect(registration_rows(count, prefix), REGISTRATIONS, "sw", org)


def add_file(
    store: StateStore,
    name: str,
    *,
    sha256: str = "a" * 64,
    status: str = "pending",
    org_folder: str = "S12000036",
    run_id: str = "run-1",
    duplicate_of: int | None = None,
    arrived: dt.datetime = NOW,
) -> int:
    path = f"sw/{org_folder}/{name}"
    delivery = parse_landing_path(path)
    assert not hasattr(delivery, "reason"), delivery
    file_id = store.new_file_id()
    store.record_files(
        [
            NewFile(
                file_id=file_id,
                path=path,
                arrived=arrived,
                run_id=run_id,
                status=status,  # type: ignore[arg-type]
                size=10,
                sha256=sha256,
                delivery=delivery,  # type: ignore[arg-type]
                duplicate_of=duplicate_of,
            )
        ]
    )
    return file_id


def landed(store: StateStore, file_id: int) -> int:
    frame = store.landing_frame(REGISTRATIONS.id, current_only=False)
    return frame.filter(pl.col("_file_id") == file_id).height


# -- schema --------------------------------------------------------------------------------------


def test_tables_are_created_from_the_contract(tmp_path: Path) -> None:
    with StateStore.open(tmp_path):
        pass
    connection = duckdb.connect(str(state_path(tmp_path)), read_only=True)
    try:
        for dataset in CONTRACT.datasets:
            columns = connection.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'landing' AND table_name = ? ORDER BY ordinal_position",
                [dataset.id],
            ).fetchall()
            assert dict(columns) == landing_columns(dataset, CONTRACT)
        children = dict(
            connection.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'landing' AND table_name = 'sw__children'"
            ).fetchall()
        )
        assert "postcode" not in children
        assert children["chi"] == "VARCHAR" and children["chi__valid"] == "BOOLEAN"
        assert children["chi__birth_month"] == children["date_of_birth"] == "DATE"
        assert children["_file_id"] == children["_row"] == "BIGINT"
        assert children["deleted"] == "BOOLEAN"
        quality = {
            name
            for (name,) in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'quality'"
            ).fetchall()
        }
        assert {"load_log", "row_failures", "gate_results", "runs", "schema_version"} <= quality
    finally:
        connection.close()


def test_opening_again_is_idempotent_and_keeps_everything(tmp_path: Path) -> None:
    with StateStore.open(tmp_path) as first:
        file_id = add_file(first, "registrations_202406_202407051430.csv")
    with StateStore.open(tmp_path) as second:
        assert second.file(file_id).status == "pending"
        versions = second._con.execute("SELECT version FROM quality.schema_version").fetchall()
        assert versions == [(SCHEMA_VERSION,)]


def test_a_store_from_a_newer_cpmds_is_refused(tmp_path: Path) -> None:
    with StateStore.open(tmp_path) as store:
        store._con.execute("INSERT INTO quality.schema_version VALUES (99, now())")
    with pytest.raises(StateStoreError, match="newer cpmds"):
        StateStore.open(tmp_path)


def test_reading_a_store_that_does_not_exist_says_so(tmp_path: Path) -> None:
    with pytest.raises(StateStoreError, match="no run has written one yet"):
        StateStore.open(tmp_path, read_only=True)


# -- one writer ----------------------------------------------------------------------------------


def test_a_second_writer_in_the_same_process_gets_a_clear_error(store: StateStore) -> None:
    home = store.path.parents[1]
    with pytest.raises(StateStoreBusyError, match="Only one writer at a time"):
        StateStore.open(home)
    with pytest.raises(StateStoreBusyError):
        StateStore.open(home, read_only=True)


def test_a_second_writer_in_another_process_gets_a_clear_error(store: StateStore) -> None:
    home = store.path.parents[1]
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from cpmds.state import StateStore, StateStoreBusyError
        try:
            StateStore.open(Path({str(home)!r}))
        except StateStoreBusyError as error:
            print("BUSY", error)
        else:
            print("OPENED")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.startswith("BUSY"), result.stdout + result.stderr
    assert "Only one writer at a time" in result.stdout


def test_readers_share_once_the_writer_has_gone(tmp_path: Path) -> None:
    with StateStore.open(tmp_path) as writer:
        add_file(writer, "registrations_202406_202407051430.csv")
    with (
        StateStore.open(tmp_path, read_only=True) as one,
        StateStore.open(tmp_path, read_only=True) as two,
    ):
        assert (
            one.known_paths()
            == two.known_paths()
            == {"sw/S12000036/registrations_202406_202407051430.csv"}
        )
        with pytest.raises(StateStoreBusyError):
            StateStore.open(tmp_path)


# -- load log ------------------------------------------------------------------------------------


def test_load_log_fields_are_filled(store: StateStore) -> None:
    store.begin_run("run-1", NOW)
    file_id = add_file(store, "registrations_202406_202407051430.csv", org_folder="S12000015")
    store.update_file(file_id, "loaded", run_id="run-2", rows=10, error_rows=1, warning_rows=2)
    record = store.file(file_id)
    assert record.path == "sw/S12000015/registrations_202406_202407051430.csv"
    assert (record.partner, record.delivered_org, record.org) == ("sw", "S12000015", "S12000047")
    assert (record.dataset, record.period) == ("sw__registrations", 202406)
    assert record.submission == dt.datetime(2024, 7, 5, 14, 30)
    assert (record.size, record.sha256, record.arrived) == (10, "a" * 64, NOW)
    assert (record.status, record.rows, record.error_rows, record.warning_rows) == (
        "loaded",
        10,
        1,
        2,
    )
    assert (record.run_id, record.decided_run_id) == ("run-1", "run-2")
    assert record.delivery() is not None and record.delivery().extension == "csv"


def test_only_pending_files_are_decided_and_only_as_loaded_or_quarantined(
    store: StateStore,
) -> None:
    file_id = add_file(store, "registrations_202406_202407051430.csv")
    with pytest.raises(ValueError, match="loaded or quarantined"):
        store.update_file(file_id, "superseded", run_id="r")  # type: ignore[arg-type]
    store.update_file(file_id, "quarantined", "too_many_error_rows", run_id="r")
    with pytest.raises(StateStoreError, match="not pending"):
        store.update_file(file_id, "loaded", run_id="r")
    assert store.file(file_id).status == "quarantined"
    assert [f.file_id for f in store.quarantined_files()] == [file_id]


def test_delivered_before_compares_the_whole_delivery_key(store: StateStore) -> None:
    add_file(store, "registrations_202406_202407051430.csv", sha256="b" * 64)
    assert store.delivered_before("sw", "S12000036", "sw__registrations", 202406, "b" * 64)
    # Identical bytes (a nil return, say) of another month or another sender are not duplicates.
    assert not store.delivered_before("sw", "S12000036", "sw__registrations", 202405, "b" * 64)
    assert not store.delivered_before("sw", "S12000049", "sw__registrations", 202406, "b" * 64)
    assert not store.delivered_before("sw", "S12000036", "sw__registrations", 202406, "c" * 64)


def test_file_paths_are_values_not_sql(store: StateStore) -> None:
    hostile = "sw/S12000036/x'); DROP TABLE quality.load_log; --.csv"
    file_id = store.new_file_id()
    store.record_files([NewFile(file_id, hostile, NOW, "r", "rejected", reason="bad_file_name")])
    assert store.file(file_id).path == hostile
    assert hostile in store.known_paths()


# -- landing: whole files or nothing -------------------------------------------------------------


def test_write_landing_writes_every_row_of_each_file(store: StateStore) -> None:
    first = add_file(store, "registrations_202405_202406051430.csv")
    second = add_file(store, "registrations_202406_202407051430.csv")
    written = store.write_landing(REGISTRATIONS.id, {first: protected(3), second: protected(0)})
    assert written == 3
    frame = store.landing_frame(REGISTRATIONS.id, current_only=False)
    assert frame["_file_id"].to_list() == [first] * 3
    assert frame["_row"].to_list() == [2, 3, 4]
    assert frame["concerns"].to_list() == [["NEG", "DA"]] * 3
    assert frame["registration_id"][0] == PSEUDONYMISER.pseudonym(
        "record_ref", "R0", "sw", "S12000036"
    )


def test_writing_a_file_again_replaces_its_rows(store: StateStore) -> None:
    file_id = add_file(store, "registrations_202406_202407051430.csv")
    store.write_landing(REGISTRATIONS.id, {file_id: protected(5)})
    store.write_landing(REGISTRATIONS.id, {file_id: protected(2)})
    assert landed(store, file_id) == 2


class _FailingInsert:
    """The store's connection, but every INSERT into a landing table fails."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self._connection = connection

    def execute(self, query: str, *args, **kwargs):
        if query.startswith("INSERT INTO landing."):
            raise RuntimeError("disk full")
        return self._connection.execute(query, *args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._connection, name)


def test_an_error_mid_batch_leaves_nothing_of_the_batch(store: StateStore) -> None:
    kept = add_file(store, "registrations_202404_202405051430.csv")
    store.write_landing(REGISTRATIONS.id, {kept: protected(4)})
    rewritten = add_file(store, "registrations_202405_202406051430.csv")
    store.write_landing(REGISTRATIONS.id, {rewritten: protected(3)})
    new = add_file(store, "registrations_202406_202407051430.csv")

    real = store._con
    store._con = _FailingInsert(real)  # type: ignore[assignment]
    with pytest.raises(RuntimeError, match="disk full"):
        store.write_landing(REGISTRATIONS.id, {rewritten: protected(6), new: protected(5)})
    store._con = real

    assert landed(store, kept) == 4
    assert landed(store, rewritten) == 3  # its delete was rolled back with the failed insert
    assert landed(store, new) == 0


_KILLED_MID_WRITE = """
import sys, time
from pathlib import Path
import polars as pl
from cpmds.state import StateStore
sys.path.insert(0, {tests!r})
from test_state_store import add_file, protected

class PausingCommit:
    def __init__(self, connection):
        self._connection = connection
    def commit(self):
        print("WRITTEN, NOT COMMITTED", flush=True)
        time.sleep(60)
    def __getattr__(self, name):
        return getattr(self._connection, name)

store = StateStore.open(Path({home!r}))
file_id = add_file(store, "registrations_202406_202407051430.csv")
print(file_id, flush=True)
store._con = PausingCommit(store._con)
store.write_landing("sw__registrations", {{file_id: protected(20_000)}})
"""


def test_a_process_killed_mid_write_leaves_no_half_file(tmp_path: Path) -> None:
    script = _KILLED_MID_WRITE.format(home=str(tmp_path), tests=str(REPO / "tests"))
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        assert child.stdout is not None
        file_id = int(child.stdout.readline())
        assert child.stdout.readline().strip() == "WRITTEN, NOT COMMITTED"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    with StateStore.open(tmp_path) as reopened:
        assert reopened.file(file_id).status == "pending"
        assert landed(reopened, file_id) == 0
        # The next run completes: the same file lands whole.
        reopened.write_landing(REGISTRATIONS.id, {file_id: protected(7)})
        assert landed(reopened, file_id) == 7


def test_write_landing_takes_protected_frames_only(store: StateStore) -> None:
    file_id = add_file(store, "registrations_202406_202407051430.csv")
    with pytest.raises(TypeError, match=r"Pseudonymiser\.protect"):
        store.write_landing(REGISTRATIONS.id, {file_id: registration_rows(2)})  # type: ignore[dict-item]
    tampered = protected(2)
    object.__setattr__(
        tampered, "frame", tampered.frame.with_columns(pl.lit("C1").alias("child_id"))
    )
    with pytest.raises(UnprotectedFrameError):
        store.write_landing(REGISTRATIONS.id, {file_id: tampered})
    with pytest.raises(ValueError, match="given for"):
        store.write_landing(CHILDREN.id, {file_id: protected(2)})
    assert landed(store, file_id) == 0


def test_write_landing_refuses_files_that_are_not_pending(store: StateStore) -> None:
    duplicate = add_file(store, "registrations_202406_202407051430.csv", status="duplicate")
    with pytest.raises(StateStoreError, match="not pending"):
        store.write_landing(REGISTRATIONS.id, {duplicate: protected(2)})
    with pytest.raises(StateStoreError, match="not pending"):
        store.write_landing(REGISTRATIONS.id, {12345: protected(2)})


def test_rows_under_another_key_are_refused_until_a_rebuild(store: StateStore) -> None:
    first = add_file(store, "registrations_202405_202406051430.csv")
    store.write_landing(REGISTRATIONS.id, {first: protected(2)})
    store.update_file(first, "loaded", run_id="r1", rows=2)
    second = add_file(store, "registrations_202406_202407051430.csv")
    rotated = Pseudonymiser(bytes(range(100, 132)))
    under_new_key = rotated.protect(registration_rows(2), REGISTRATIONS, "sw", "S12000036")
    with pytest.raises(PseudonymKeyMismatchError, match="another key"):
        store.write_landing(REGISTRATIONS.id, {second: under_new_key})

    assert store.reset_for_rebuild() == 2
    assert landed(store, first) == 0
    assert store.file(first).status == "pending"
    assert store.file(first).arrived == NOW
    store.write_landing(REGISTRATIONS.id, {first: under_new_key, second: under_new_key})
    assert landed(store, first) == landed(store, second) == 2


def test_a_rebuild_of_some_periods_keeps_the_others(store: StateStore) -> None:
    may = add_file(store, "registrations_202405_202406051430.csv")
    june = add_file(store, "registrations_202406_202407051430.csv")
    copy = add_file(
        store, "registrations_202406_202407091430.csv", status="duplicate", duplicate_of=june
    )
    store.write_landing(REGISTRATIONS.id, {may: protected(2), june: protected(3)})
    store.update_files(
        [FileDecision(may, "loaded", rows=2), FileDecision(june, "loaded", rows=3)], run_id="r1"
    )
    assert store.reset_for_rebuild(202406, 202406) == 1
    assert (store.file(may).status, landed(store, may)) == ("loaded", 2)
    assert (store.file(june).status, landed(store, june)) == ("pending", 0)
    assert store.file(copy).status == "duplicate"


# -- supersession --------------------------------------------------------------------------------


def _load(store: StateStore, file_id: int, run_id: str = "run-1") -> None:
    store.write_landing(REGISTRATIONS.id, {file_id: protected(1)})
    store.update_file(file_id, "loaded", run_id=run_id, rows=1)


def test_the_latest_loaded_submission_supersedes_the_earlier_ones(store: StateStore) -> None:
    first = add_file(store, "registrations_202406_202407051430.csv", sha256="1" * 64)
    second = add_file(store, "registrations_202406_202407101430.csv", sha256="2" * 64)
    other_month = add_file(store, "registrations_202405_202406051430.csv", sha256="3" * 64)
    for file_id in (first, second, other_month):
        _load(store, file_id)
    changes = store.apply_supersession("run-1")
    assert [(c.file_id, c.before, c.after, c.superseded_by) for c in changes] == [
        (first, "loaded", "superseded", second)
    ]
    assert {f.file_id for f in store.current_files()} == {second, other_month}
    assert store.file(first).decided_run_id == "run-1"
    assert store.apply_supersession("run-2") == []
    current_rows = store.landing_frame(REGISTRATIONS.id)
    assert set(current_rows["_file_id"]) == {second, other_month}


def test_a_quarantined_correction_supersedes_nothing(store: StateStore) -> None:
    good = add_file(store, "registrations_202406_202407051430.csv", sha256="1" * 64)
    _load(store, good)
    correction = add_file(store, "registrations_202406_202407101430.csv", sha256="2" * 64)
    store.update_file(correction, "quarantined", "too_many_error_rows", run_id="run-2")
    assert store.apply_supersession("run-2") == []
    assert [f.file_id for f in store.current_files()] == [good]


def test_a_file_under_a_retired_council_code_supersedes_the_current_code_s_file(
    store: StateStore,
) -> None:
    current = add_file(
        store, "registrations_202406_202407051430.csv", sha256="1" * 64, org_folder="S12000047"
    )
    retired = add_file(
        store, "registrations_202406_202407101430.csv", sha256="2" * 64, org_folder="S12000015"
    )
    _load(store, current)
    _load(store, retired)
    store.apply_supersession("run-1")
    assert [f.file_id for f in store.current_files()] == [retired]


def test_resending_earlier_bytes_with_a_later_stamp_makes_them_current_again(
    store: StateStore,
) -> None:
    first = add_file(store, "registrations_202406_202407051430.csv", sha256="1" * 64)
    second = add_file(store, "registrations_202406_202407101430.csv", sha256="2" * 64)
    _load(store, first)
    _load(store, second)
    store.apply_supersession("run-1")
    add_file(
        store,
        "registrations_202406_202407151430.csv",
        sha256="1" * 64,
        status="duplicate",
        duplicate_of=first,
    )
    changes = store.apply_supersession("run-2")
    assert {(c.file_id, c.after) for c in changes} == {(first, "loaded"), (second, "superseded")}
    assert [f.file_id for f in store.current_files()] == [first]


# -- runs and quality history --------------------------------------------------------------------


def test_runs_are_recorded_with_their_file_counts(store: StateStore) -> None:
    store.begin_run("run-1", NOW)
    loaded = add_file(store, "registrations_202406_202407051430.csv", sha256="1" * 64)
    add_file(store, "registrations_202406_202407061430.csv", status="duplicate", duplicate_of=1)
    _load(store, loaded)
    record = store.finish_run("run-1", NOW + dt.timedelta(minutes=3), published=True)
    assert (record.status, record.published, record.files_new, record.files_loaded) == (
        "finished",
        True,
        2,
        1,
    )
    assert (record.files_duplicate, record.files_pending, record.rows_loaded) == (1, 0, 1)

    store.begin_run("run-2", NOW + dt.timedelta(days=1))
    store.begin_run("run-3", NOW + dt.timedelta(days=2))  # run-2 died without finishing
    runs = store.last_runs(5)
    assert [(r.run_id, r.status) for r in runs] == [
        ("run-3", "running"),
        ("run-2", "interrupted"),
        ("run-1", "finished"),
    ]
    with pytest.raises(StateStoreError, match="used already"):
        store.begin_run("run-1", NOW)


def test_row_failures_carry_fixed_fields_and_the_path_from_the_load_log(
    store: StateStore,
) -> None:
    file_id = add_file(store, "registrations_202406_202407051430.csv")
    failures = pl.DataFrame(
        {
            "run_id": ["run-1"],
            "file_id": [file_id],
            "dataset": [REGISTRATIONS.id],
            "row": [7],
            "column": ["registration_date"],
            "rule": ["SW-REG-004"],
            "severity": ["error"],
            "message": ["the date is not a date"],
        }
    )
    assert store.record_row_failures(failures) == 1
    stored = store._con.execute(
        'SELECT path, row, "column", rule FROM quality.row_failures'
    ).fetchall()
    assert stored == [
        ("sw/S12000036/registrations_202406_202407051430.csv", 7, "registration_date", "SW-REG-004")
    ]
    with pytest.raises(ValueError, match="exactly the columns"):
        store.record_row_failures(failures.with_columns(pl.lit("C001").alias("value")))
    with pytest.raises(StateStoreError, match="no file"):
        store.record_row_failures(failures.with_columns(pl.lit(999).alias("file_id")))
    assert list(ROW_FAILURE_COLUMNS) == list(failures.columns)


def test_gate_results_keep_counts_and_details_as_json(store: StateStore) -> None:
    result = GateResult(
        run_id="run-1",
        gate="file_contract",
        suite="sw__registrations.file",
        partner="sw",
        dataset="sw__registrations",
        passed=False,
        files_checked=3,
        files_failed=1,
        details={"reasons": {"undecodable": 1}},
    )
    assert store.record_gate_results([result]) == 1
    (row,) = store._con.execute(
        "SELECT passed, files_checked, files_failed, details FROM quality.gate_results"
    ).fetchall()
    assert row[:3] == (False, 3, 1)
    assert json.loads(row[3]) == {"reasons": {"undecodable": 1}}
