"""A run killed part-way leaves the published warehouse as it was and the next run completes; an
analyst reading the published file throughout a load never sees an error or a half-built table
(pipeline.md, Operations; the publication issue's acceptance).

`cpmds run` runs as a child process here, so it can be killed with SIGKILL like a machine losing
power would stop it, at two points: while files are being ingested, and while dbt builds.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from multiprocessing import get_context
from pathlib import Path

import duckdb
import pytest

from cpmds.publish.atomic import published_path
from cpmds.state import StateStore
from cpmds.synthetic import GenerateOptions, generate

KEY = "fedcba9876543210" * 4


def cpmds_run(raw: Path, home: Path) -> subprocess.Popen:
    environment = {**os.environ, "CPMDS_PSEUDONYM_KEY": KEY}
    command = Path(sys.executable).parent / "cpmds"  # the console script beside this Python
    return subprocess.Popen(
        [str(command), "run", "--raw", str(raw), "--home", str(home)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def add_months(raw: Path, period_from: int, period_to: int, seed: int) -> None:
    """More files in the landing zone: the next run has something new to load and publish."""
    scratch = raw.parent / f"more-{period_from}"
    options = GenerateOptions.build(
        out=scratch, seed=seed, councils=1, period_from=period_from, period_to=period_to, scale=0.3
    )
    generate(options, progress=False)
    for path in scratch.rglob("*"):
        if path.is_file():
            target = raw / path.relative_to(scratch)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                path.replace(target)


@pytest.fixture(scope="module")
def zone(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("resilience")
    raw, home = base / "raw", base / "home"
    generate(
        GenerateOptions.build(
            out=raw, seed=3, councils=1, period_from=202401, period_to=202403, scale=0.3
        ),
        progress=False,
    )
    process = cpmds_run(raw, home)
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output
    assert published_path(home).is_file()
    return raw, home


def kill_when(process: subprocess.Popen, ready, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, "the run ended before the point to kill it at"
        assert time.monotonic() < deadline, "the run never reached the point to kill it at"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)


def printed(process: subprocess.Popen, marker: str):
    """True once the run has printed a progress line holding ``marker`` (reads as it goes)."""
    assert process.stdout is not None
    os.set_blocking(process.stdout.fileno(), False)
    seen: list[str] = []

    def ready() -> bool:
        line = process.stdout.readline()
        while line:
            seen.append(line)
            line = process.stdout.readline()
        return any(marker in line for line in seen)

    return ready


def building(home: Path) -> bool:
    return any((home / "warehouse" / "build").rglob("dbt.log"))


KILL_POINTS = {
    "ingest": "land:",  # printed when the files are logged and ingest begins
    "dbt": None,  # dbt has started writing its log
    "publish": "publication:",  # disclosure control done; the publish step is starting
}


@pytest.mark.parametrize(
    ("point", "months"),
    [("ingest", (202404, 202404)), ("dbt", (202405, 202405)), ("publish", (202407, 202407))],
)
def test_a_killed_run_leaves_the_published_file_and_the_next_run_publishes(zone, point, months):
    raw, home = zone
    before = sha256(published_path(home))
    add_months(raw, *months, seed=months[0] % 97)
    for build in (home / "warehouse" / "build").glob("*/dbt/dbt.log"):
        build.unlink()  # so that `building` sees this run's dbt, not an earlier one's
    process = cpmds_run(raw, home)
    marker = KILL_POINTS[point]
    kill_when(process, printed(process, marker) if marker else lambda: building(home))
    assert process.returncode == -signal.SIGKILL
    if point != "publish":
        assert sha256(published_path(home)) == before
    # Killed while publishing, the file is the old one or the new one whole, never a mixture.
    with duckdb.connect(str(published_path(home)), read_only=True) as connection:
        assert connection.execute("select count(*) from marts.indicator_values").fetchone()[0]
        assert connection.execute("select count(*) from publication.indicator_values").fetchone()[0]
    process = cpmds_run(raw, home)
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output
    assert sha256(published_path(home)) != before  # the new month is published (by one of them)
    with StateStore.open(home, read_only=True) as store:
        statuses = [run.status for run in store.last_runs(3)]
    assert statuses[0] == "finished"
    assert "interrupted" in statuses or point == "publish"  # it may have finished publishing


def read_in_a_loop(path: str, stop, results) -> None:
    """An analyst: open the published file read-only, read a table whole, close; again."""
    reads, errors = 0, []
    while not stop.is_set():
        try:
            with duckdb.connect(path, read_only=True) as connection:
                rows = connection.execute("select count(*) from marts.indicator_values").fetchone()
                keys = connection.execute(
                    "select count(*) from publication.indicator_values"
                ).fetchone()
                if rows[0] == 0 or rows[0] != keys[0]:
                    errors.append(f"a half-built warehouse: {rows[0]} vs {keys[0]} rows")
            reads += 1
        except Exception as error:
            errors.append(repr(error))
        time.sleep(0.01)
    results.put((reads, errors))


def test_an_analyst_reads_the_published_file_throughout_a_load(zone):
    raw, home = zone
    add_months(raw, 202406, 202406, seed=61)
    context = get_context("spawn")
    stop, results = context.Event(), context.Queue()
    reader = context.Process(target=read_in_a_loop, args=(str(published_path(home)), stop, results))
    reader.start()
    try:
        before = sha256(published_path(home))
        process = cpmds_run(raw, home)
        output, _ = process.communicate(timeout=600)
        assert process.returncode == 0, output
        assert sha256(published_path(home)) != before
    finally:
        stop.set()
        reads, errors = results.get(timeout=60)
        reader.join(timeout=60)
    assert reads > 10 and not errors, errors[:3]
