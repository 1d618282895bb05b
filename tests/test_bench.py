"""`cpmds bench` at a tiny scale: every stage of the cold run measured, the three scenarios, the
floors and the versions in ``<home>/bench.json``; nothing of the scratch zone left behind."""

from __future__ import annotations

import json

from click.testing import CliRunner

from cpmds.cli import main
from cpmds.pipeline.timing import STAGES


def test_the_bench_writes_every_stage_with_a_positive_figure(tmp_path, monkeypatch):
    monkeypatch.delenv("CPMDS_ALWAYS_BUILD", raising=False)
    home = tmp_path / "home"
    result = CliRunner().invoke(
        main,
        ["bench", "--scale", "0.1", "--years", "1", "--councils", "1", "--home", str(home)],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads((home / "bench.json").read_text())
    cold, nightly, unchanged = figures["scenarios"]
    assert [s["name"] for s in figures["scenarios"]] == [
        "cold full backfill",
        "nightly: one new month",
        "no-change re-run",
    ]
    assert [stage["stage"] for stage in cold["stages"]] == list(STAGES)
    assert all(stage["seconds"] > 0 for stage in cold["stages"]), cold["stages"]
    assert all(s["wall_seconds"] > 0 and s["peak_mib"] > 0 for s in figures["scenarios"])
    assert all(s["exit_code"] == 0 for s in figures["scenarios"])
    # the new month is loaded on top of the published build; the re-run has nothing new
    assert cold["build_start"].startswith("empty")
    assert nightly["build_start"].startswith("from the last published build")
    assert unchanged["build_start"].startswith("skipped")
    assert next(s for s in nightly["stages"] if s["stage"] == "ingest")["rows"] > 0
    assert all(s["rows"] == 0 for s in unchanged["stages"] if s["stage"] != "report")
    assert next(s for s in unchanged["stages"] if s["stage"] == "dbt build")["seconds"] == 0
    floors = figures["floors"]
    assert floors["ingest_read_seconds"] > 0 and floors["publish_copy_seconds"] > 0
    assert figures["ratios"]["ingest_vs_read_floor"] > 0
    assert figures["cores"] >= 1 and figures["versions"]["duckdb"]
    assert "cold full backfill" in result.output and "Floors" in result.output
    assert [path.name for path in home.iterdir()] == ["bench.json"]
