"""A run with nothing new to build skips the build and everything after it (the no-change re-run
in seconds), and any change to the files or the code builds again."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import duckdb
import pytest

from cpmds.pipeline.runner import run_load
from cpmds.pipeline.stages import NOTHING_NEW
from cpmds.pipeline.unchanged import build_fingerprint
from cpmds.publish.atomic import published_path
from cpmds.settings import Settings
from cpmds.state import StateStore
from cpmds.synthetic import GenerateOptions, generate
from cpmds.transform.build import warehouse_build

KEY = "0f1e2d3c4b5a6978" * 4


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> Settings:
    base = tmp_path_factory.mktemp("no-change")
    options = GenerateOptions.build(
        out=base / "raw", seed=5, councils=1, period_from=202404, period_to=202405, scale=0.3
    )
    generate(options, progress=False)
    os.environ["CPMDS_PSEUDONYM_KEY"] = KEY
    settings = Settings(raw=options.out, home=base / "home")
    first = run_load(settings)
    assert first.exit_code == 0 and first.published is not None, first.describe()
    return settings


def last_run(settings: Settings):
    with StateStore.open(settings.home, read_only=True) as store:
        return store.last_runs(1)[0]


def test_a_rerun_over_the_same_files_builds_nothing_and_publishes_nothing(
    loaded, monkeypatch, caplog
):
    monkeypatch.delenv("CPMDS_ALWAYS_BUILD", raising=False)
    before = published_path(loaded.home).resolve()
    with caplog.at_level(logging.WARNING):
        again = run_load(loaded)
    # the checks on a build skipped on purpose gave no result: that is no news to the reader
    assert not [r for r in caplog.records if "emitted no result" in r.getMessage()]
    assert again.exit_code == 0 and again.published is None
    assert not warehouse_build(loaded, again.run_id).path.exists()  # dbt never ran
    assert published_path(loaded.home).resolve() == before
    record = last_run(loaded)
    assert record.run_id == again.run_id and record.why_not == NOTHING_NEW


def test_a_change_in_the_code_builds_again(loaded, monkeypatch):
    monkeypatch.setattr("cpmds.pipeline.unchanged.code_digest", lambda: "another version")
    again = run_load(loaded)
    assert again.exit_code == 0
    assert warehouse_build(loaded, again.run_id).path.exists() or again.published is not None


def test_a_new_file_builds_and_publishes_again(loaded, tmp_path):
    fingerprint = build_fingerprint(loaded.home)
    more = GenerateOptions.build(
        out=tmp_path / "more", seed=6, councils=1, period_from=202406, period_to=202406, scale=0.3
    )
    generate(more, progress=False)
    for path in Path(more.out).rglob("*"):
        target = loaded.raw / path.relative_to(more.out)
        if path.is_file() and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            path.replace(target)
    again = run_load(loaded)
    assert again.exit_code == 0 and again.published is not None, again.describe()
    assert build_fingerprint(loaded.home) != fingerprint
    with duckdb.connect(str(published_path(loaded.home)), read_only=True) as connection:
        runs = connection.execute(
            "select count(distinct run_id) from marts.indicator_values"
        ).fetchone()
    assert runs == (1,)
