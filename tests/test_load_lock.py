"""One load at a time (pipeline.md, Operations): a second load started while one holds the home's
load lock waits for it, says so, writes nothing meanwhile, and then loads; it never fails or
interleaves with the first."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from cpmds.pipeline.load_lock import holding_load_lock
from cpmds.state import StateStore, state_path
from cpmds.synthetic import GenerateOptions, generate

KEY = "0123456789abcdef" * 4
WAITING = "this one waits for it to finish"


def wait_for(condition, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.2)


def test_a_second_holder_waits_for_the_first_and_is_told_who_holds_it(tmp_path):
    first_in, release, second_in = threading.Event(), threading.Event(), threading.Event()
    told: list[str] = []

    def first() -> None:
        with holding_load_lock(tmp_path, "the-first-run"):
            first_in.set()
            release.wait()

    def second() -> None:
        with holding_load_lock(tmp_path, "the-second-run", on_wait=told.append):
            second_in.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    first_in.wait()
    threads[1].start()
    wait_for(lambda: told)
    assert not second_in.is_set()
    assert "the-first-run" in told[0] and str(os.getpid()) in told[0]
    release.set()
    for thread in threads:
        thread.join()
    assert second_in.is_set()


def test_a_second_cpmds_run_waits_for_the_load_in_progress_then_loads(tmp_path):
    raw, home = tmp_path / "raw", tmp_path / "home"
    options = GenerateOptions.build(
        out=raw, seed=2, councils=1, period_from=202401, period_to=202401, scale=0.3
    )
    generate(options, progress=False)
    lines: list[str] = []
    with holding_load_lock(home, "a-load-in-progress"):
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "cpmds"),
                "run",
                "--raw",
                str(raw),
                "--home",
                str(home),
            ],
            env={**os.environ, "CPMDS_PSEUDONYM_KEY": KEY},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
        reader.start()
        wait_for(lambda: any(WAITING in line for line in lines) or process.poll() is not None)
        assert process.poll() is None, "".join(lines)
        assert any("a-load-in-progress" in line for line in lines)
        assert not state_path(home).exists()  # nothing written while it waits
    assert process.wait(timeout=600) == 0, "".join(lines)
    reader.join()
    with StateStore.open(home, read_only=True) as store:
        (run,) = store.last_runs(5)
        assert run.status == "finished" and run.files_loaded > 0
