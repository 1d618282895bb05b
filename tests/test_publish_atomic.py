"""Publishing a build is one rename: readers never see a half-written file, a failure leaves the
published file byte-identical, the same content publishes nothing, one publisher at a time."""

from __future__ import annotations

import hashlib
import multiprocessing
from pathlib import Path

import duckdb
import pytest

from cpmds.publish.atomic import (
    LOCK_FILE,
    PublishBusyError,
    content_digest,
    publish_build,
    published_path,
)
from cpmds.state.lock import StoreLock


def make_build(path: Path, values: list[tuple[str, int]], run_id: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts")
        connection.execute(
            "create table marts.indicator_values (indicator_id varchar, numerator bigint, "
            "run_id varchar)"
        )
        connection.executemany(
            "insert into marts.indicator_values values (?, ?, ?)",
            [(indicator, count, run_id) for indicator, count in values],
        )
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_build_replaces_the_published_file_while_a_reader_keeps_its_own(tmp_path):
    home = tmp_path / "home"
    first = publish_build(make_build(tmp_path / "b1" / "cpmds.duckdb", [("MDS01", 5)], "r1"), home)
    assert first.changed and first.path == published_path(home)
    reader = duckdb.connect(str(first.path), read_only=True)
    second = publish_build(make_build(tmp_path / "b2" / "cpmds.duckdb", [("MDS01", 7)], "r2"), home)
    assert second.changed
    # the analyst's open connection still reads the file it opened; a new one reads the new file
    assert reader.execute("select numerator from marts.indicator_values").fetchall() == [(5,)]
    reader.close()
    with duckdb.connect(str(second.path), read_only=True) as fresh:
        assert fresh.execute("select numerator from marts.indicator_values").fetchall() == [(7,)]
    assert not (tmp_path / "b2" / "cpmds.duckdb").exists()  # moved, not copied


def test_the_same_content_publishes_nothing_and_leaves_the_file_byte_identical(tmp_path):
    home = tmp_path / "home"
    publish_build(make_build(tmp_path / "b1" / "cpmds.duckdb", [("MDS01", 5)], "run-1"), home)
    before = sha256(published_path(home))
    again = make_build(tmp_path / "b2" / "cpmds.duckdb", [("MDS01", 5)], "run-2")
    result = publish_build(again, home)
    assert not result.changed
    assert sha256(published_path(home)) == before
    assert content_digest(again) == content_digest(published_path(home))  # run_id aside


def test_a_failing_publish_leaves_the_published_file_as_it_was(tmp_path):
    home = tmp_path / "home"
    publish_build(make_build(tmp_path / "b1" / "cpmds.duckdb", [("MDS01", 5)], "r1"), home)
    before = sha256(published_path(home))
    broken = tmp_path / "b2" / "cpmds.duckdb"
    broken.parent.mkdir()
    duckdb.connect(str(broken)).close()  # a build without the marts
    with pytest.raises(duckdb.CatalogException):
        publish_build(broken, home)
    assert sha256(published_path(home)) == before


def _hold_lock(path: str, ready, release) -> None:
    lock = StoreLock(Path(path), exclusive=True)
    lock.acquire()
    ready.set()
    release.wait(10)


def test_one_publisher_at_a_time_and_a_dead_holder_frees_the_lock(tmp_path):
    home = tmp_path / "home"
    (home / "warehouse").mkdir(parents=True)
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(
        target=_hold_lock, args=(str(home / "warehouse" / LOCK_FILE), ready, release)
    )
    holder.start()
    assert ready.wait(30)
    build = make_build(tmp_path / "b1" / "cpmds.duckdb", [("MDS01", 5)], "r1")
    with pytest.raises(PublishBusyError, match="another run is publishing"):
        publish_build(build, home)
    holder.kill()  # a crashed holder: the operating system releases its lock
    holder.join()
    assert publish_build(build, home).changed
