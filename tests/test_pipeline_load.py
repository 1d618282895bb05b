"""`cpmds run` over a generated landing zone with defects: every file ends in one clear state.

The load runs as the real Dagster job on the home's own instance. Every file the defects manifest
lists ends as the manifest says, with the rule codes the registry gives its defect; every other file
is loaded with its data rows, less any rows the manifest says fail.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from cpmds.gates import load_rules
from cpmds.pipeline.runner import run_load
from cpmds.settings import Settings
from cpmds.state import StateStore, state_path
from cpmds.synthetic import GenerateOptions, generate

RULES = load_rules()

# How each kind of defect shows: the rule kind (and whose fields) that must be among the reasons.
FILE_RULE_OF_DEFECT = {
    "undecodable": "undecodable",
    "unparseable_name": "bad_file_name",
    "unknown_org": "org_not_allowed",
    "mostly_bad_rows": "too_many_error_rows",
}
ROW_RULE_OF_DEFECT = {
    "bad_code": "bad_code",
    "impossible_date": "bad_date",
    "date_order": "before_other",
    "invalid_chi": "chi_invalid",
    "duplicate_key": "key_not_unique",
}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> tuple[Settings, dict, Path]:
    base = tmp_path_factory.mktemp("load")
    options = GenerateOptions.build(
        out=base / "raw", seed=5, councils=3, period_from=202307, period_to=202406, defects=True
    )
    generate(options, progress=False)
    settings = Settings(raw=options.out, home=base / "home")
    outcome = run_load(settings)
    assert outcome.exit_code == 0, outcome.describe()
    manifest = json.loads(options.manifest_path.read_text())
    return settings, manifest, options.out


def load_log(settings: Settings) -> dict[str, dict]:
    with StateStore.open(settings.home, read_only=True) as store:
        return {record.path: record.__dict__ for record in store.files()}


def row_failures(settings: Settings) -> pl.DataFrame:
    with duckdb.connect(str(state_path(settings.home)), read_only=True) as connection:
        return connection.sql(
            'SELECT path, row, "column", rule, severity FROM quality.row_failures'
        ).pl()


def test_every_file_is_decided(loaded):
    settings, _, raw = loaded
    log = load_log(settings)
    on_disk = {p.relative_to(raw).as_posix() for p in raw.rglob("*") if p.is_file()}
    assert set(log) == on_disk
    assert {record["status"] for record in log.values()} <= {
        "loaded", "quarantined", "duplicate", "superseded",
    }  # fmt: skip


def test_defect_files_end_as_the_manifest_expects_with_their_rule_codes(loaded):
    settings, manifest, _ = loaded
    log = load_log(settings)
    for entry in manifest["defects"]:
        path, kind = entry["path"], entry["kind"]
        if entry["expected"] == "missing":
            assert path not in log
            continue
        record = log[path]
        expected = entry["expected"]
        status = record["status"]
        assert status == expected or (expected == "loaded" and status == "superseded"), entry
        reasons = set((record["reason"] or "").replace(" ", "").split(","))
        if kind in FILE_RULE_OF_DEFECT:
            assert RULES.file_rule(FILE_RULE_OF_DEFECT[kind]).code in reasons, (entry, reasons)
        if kind == "missing_required_column":
            dataset = record["dataset"]
            codes = {
                RULES.rule(dataset, "required_column_missing", [column]).code
                for column in entry["columns"]
            }
            assert codes <= reasons, (entry, reasons)
        if kind == "duplicate_delivery":
            assert record["duplicate_of"] is not None


def test_row_defects_are_recorded_at_their_rows_with_their_codes(loaded):
    settings, manifest, _ = loaded
    failures = row_failures(settings)
    log = load_log(settings)
    for entry in manifest["defects"]:
        if entry["kind"] not in ROW_RULE_OF_DEFECT:
            continue
        dataset = log[entry["path"]]["dataset"]
        rule = RULES.rule(dataset, ROW_RULE_OF_DEFECT[entry["kind"]], _fields(entry))
        found = failures.filter((pl.col("path") == entry["path"]) & (pl.col("rule") == rule.code))
        assert set(found["row"]) >= set(entry["rows"]), (entry, found)
        assert set(found["severity"]) == {entry["severity"]}


def test_good_files_load_every_row_that_passes(loaded):
    settings, manifest, raw = loaded
    defect_paths = {entry["path"] for entry in manifest["defects"]}
    log = load_log(settings)
    failures = row_failures(settings).filter(pl.col("severity") == "error")
    with duckdb.connect(str(state_path(settings.home)), read_only=True) as connection:
        for path, record in log.items():
            if record["status"] not in ("loaded", "superseded"):
                continue
            table = f"landing.{record['dataset']}"
            landed = connection.execute(
                f"SELECT count(*) FROM {table} WHERE _file_id = ?", [record["file_id"]]
            ).fetchall()[0][0]
            bad = failures.filter(pl.col("path") == path)["row"].n_unique()
            assert landed == record["rows"] - bad, path
            if path not in defect_paths:
                assert bad == 0, path
                assert landed == _data_rows(raw / path), path


def test_running_again_changes_nothing(loaded):
    settings, _, _ = loaded
    before = load_log(settings)
    outcome = run_load(settings)
    assert outcome.exit_code == 0
    after = load_log(settings)
    assert {p: (r["status"], r["rows"]) for p, r in after.items()} == {
        p: (r["status"], r["rows"]) for p, r in before.items()
    }


def test_gate_results_and_runs_are_recorded(loaded):
    settings, _, _ = loaded
    with duckdb.connect(str(state_path(settings.home)), read_only=True) as connection:
        gates = connection.sql("SELECT gate, dataset, passed FROM quality.gate_results").pl()
        runs = connection.sql("SELECT status, published FROM quality.runs").pl()
    assert set(gates["gate"]) == {"gate_file", "gate_rows"}
    assert gates["passed"].all()
    assert set(runs["status"]) == {"finished"}


def _fields(entry: dict) -> list[str]:
    if entry["kind"] == "duplicate_key":
        return entry["columns"]
    if entry["kind"] == "date_order":
        return entry["columns"][:2]
    return entry["columns"][:1]


def _data_rows(path: Path) -> int:
    if path.suffix == ".xlsx":
        return pl.read_excel(path, engine="calamine").height
    text = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            decoded = text.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    return pl.read_csv(decoded.encode(), infer_schema=False).height
