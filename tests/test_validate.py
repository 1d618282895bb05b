"""`cpmds validate`, a partner's self-check: the pipeline's verdict and rule codes on every file,
Excel's row numbers in the report, no identifier in what it prints or writes, and the rule-code
table in raw/README.md kept fresh.

The pipeline's side is one load of a small generated landing zone with defects, through the
pipeline's own land and ingest stages (what the Dagster job's assets call; gates 1 and 2 are
decided there, so no dbt build is needed to know them).
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest
from click.testing import CliRunner
from identifiers import births_in, found_in, identifiers_in_input

from cpmds.cli import main
from cpmds.contract import load_contract
from cpmds.gates import load_rules
from cpmds.pipeline.stages import ingest_stage, land_stage, settle_stage
from cpmds.rule_table import END, START, write_rule_table
from cpmds.settings import Settings
from cpmds.state import StateStore, state_path
from cpmds.synthetic import GenerateOptions, generate
from cpmds.validate import validate

RULES = load_rules()
LOADS = {"loaded", "superseded"}  # a superseded file had loaded before a later one replaced it


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    """(landing zone, defects manifest, the pipeline's decision on each file by path)."""
    base = tmp_path_factory.mktemp("validate")
    options = GenerateOptions.build(
        out=base / "raw",
        seed=8,
        councils=1,
        period_from=202401,
        period_to=202403,
        scale=0.3,
        defects=True,
    )
    generate(options, progress=False)
    settings = Settings(raw=options.out, home=base / "home")
    run_id = "validate-test"
    land_stage(settings, run_id)
    for dataset in load_contract().datasets:
        ingest_stage(settings, dataset.id, run_id)
    settle_stage(settings, run_id)
    manifest = json.loads(options.manifest_path.read_text(encoding="utf-8"))
    return options.out, manifest, pipeline_decisions(settings)


def pipeline_decisions(settings: Settings) -> dict[str, dict]:
    """Path -> status, counts and every rule code the pipeline recorded for the file."""
    with StateStore.open(settings.home, read_only=True) as store:
        records = {record.file_id: record for record in store.files()}
    with duckdb.connect(str(state_path(settings.home)), read_only=True) as connection:
        failures = connection.execute("SELECT file_id, rule FROM quality.row_failures").fetchall()
    codes: dict[int, set[str]] = {file_id: set() for file_id in records}
    for file_id, rule in failures:
        codes[file_id].add(rule)
    decided = {}
    for file_id, record in records.items():
        reasons = {code.strip() for code in (record.reason or "").split(",") if code.strip()}
        decided[record.path] = {
            "file_id": file_id,
            "status": record.status,
            "rows": record.rows,
            "error_rows": record.error_rows or 0,
            "warning_rows": record.warning_rows or 0,
            "codes": codes[file_id] | reasons,
            "duplicate_of": record.duplicate_of,
        }
    return decided


def gated_decision(decisions: dict[str, dict], manifest_entry: dict) -> dict:
    """The pipeline's decision on the bytes of a manifest entry: a duplicate delivery is never
    gated (it is loaded once, as the file it repeats), so its original stands for it."""
    if manifest_entry["kind"] == "duplicate_delivery":
        return decisions[manifest_entry["copy_of"]]
    return decisions[manifest_entry["path"]]


def run_cli(*arguments: str):
    return CliRunner().invoke(main, ["validate", *arguments], catch_exceptions=False)


def report_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_defect_gets_the_pipelines_verdict_and_rule_codes(zone, tmp_path):
    raw, manifest, decisions = zone
    entries = [entry for entry in manifest["defects"] if entry["expected"] != "missing"]
    assert {entry["kind"] for entry in entries} >= {
        "missing_required_column", "undecodable", "mostly_bad_rows", "bad_code",
        "impossible_date", "date_order", "invalid_chi", "duplicate_key", "unparseable_name",
        "unknown_org", "duplicate_delivery",
    }  # fmt: skip
    for number, entry in enumerate(entries):
        pipeline = gated_decision(decisions, entry)
        report = tmp_path / f"report_{number}.csv"
        result = run_cli(str(raw / entry["path"]), "--report", str(report))
        found = report_rows(report)
        assert {row["rule"] for row in found} == pipeline["codes"], entry
        first_line = result.output.splitlines()[0]
        if pipeline["status"] == "quarantined":
            assert result.exit_code == 1 and "would be QUARANTINED" in first_line, entry
        elif pipeline["error_rows"]:
            assert pipeline["status"] in LOADS, entry
            assert result.exit_code == 1 and "would load WITHOUT" in first_line, entry
        else:
            assert pipeline["status"] in LOADS, entry
            assert result.exit_code == 0 and first_line.endswith("would load"), entry


def test_the_whole_zone_at_once_gets_the_pipelines_decisions(zone):
    """Gate 2 runs once per dataset over all the files given, as in the pipeline's batches."""
    raw, _, decisions = zone
    paths = sorted(path for path in raw.rglob("*") if path.is_file())
    validation = validate(paths)
    by_path = {file.path.relative_to(raw).as_posix(): file for file in validation.files}
    assert set(by_path) == set(decisions)
    for relative, file in by_path.items():
        pipeline = decisions[relative]
        if pipeline["status"] == "duplicate":  # never gated: judged as the file it repeats
            pipeline = next(
                d for d in decisions.values() if d["file_id"] == pipeline["duplicate_of"]
            )
        verdict = file.verdict
        assert (verdict.status == "quarantined") == (pipeline["status"] == "quarantined"), relative
        assert {finding["rule"] for finding in file.findings} == pipeline["codes"], relative
        if pipeline["rows"] is not None:
            assert (verdict.rows, verdict.error_rows, verdict.warning_rows) == (
                pipeline["rows"], pipeline["error_rows"], pipeline["warning_rows"],
            ), relative  # fmt: skip
    assert validation.exit_code == 1


def test_good_files_exit_0(zone):
    raw, manifest, decisions = zone
    defects = {entry["path"] for entry in manifest["defects"]}
    good = [
        raw / path
        for path, decided in sorted(decisions.items())
        if path not in defects and decided["status"] in LOADS and not decided["error_rows"]
    ]
    assert len(good) > 20
    result = run_cli(*map(str, good))
    assert result.exit_code == 0, result.output
    verdicts = [line for line in result.output.splitlines() if not line.startswith(" ")][:-1]
    assert len(verdicts) == len(good)
    assert all(line.endswith(": would load") for line in verdicts), result.output
    assert f"{len(good)} file(s): {len(good)} would load" in result.output


def test_as_checks_a_file_under_its_landing_zone_name(zone, tmp_path):
    raw, _, decisions = zone
    relative = next(
        path
        for path, decided in sorted(decisions.items())
        if path.startswith("sw/") and decided["status"] == "loaded" and not decided["error_rows"]
    )
    kept = tmp_path / "Downloads" / "june extract.csv"
    kept.parent.mkdir()
    shutil.copyfile(raw / relative, kept)

    elsewhere = run_cli(str(kept))
    assert elsewhere.exit_code == 1
    assert RULES.file_rule("bad_file_name").code in elsewhere.output
    assert "--as" in elsewhere.output  # says how to check it under its landing-zone name

    assert run_cli(str(kept), "--as", f"raw/{relative}").exit_code == 0
    assert run_cli(str(kept), "--as", relative).exit_code == 0
    partner, _, name = relative.split("/")
    moved = run_cli(str(kept), "--as", f"raw/{partner}/S12000999/{name}")
    assert moved.exit_code == 1
    assert RULES.file_rule("org_not_allowed").code in moved.output


@pytest.mark.parametrize(
    "arguments",
    [
        (),
        ("no/such/file.csv",),
        ("{good}", "{good}", "--as", "raw/{relative}"),
        ("{good}", "--report", "{tmp}/errors.txt"),
        ("{good}", "--report", "{tmp}/no/such/folder/errors.csv"),
        ("{tmp}",),
    ],
    ids=["no-file", "missing-file", "as-with-two-files", "report-format", "report-folder", "dir"],
)
def test_usage_errors_exit_2(zone, tmp_path, arguments):
    raw, _, decisions = zone
    relative = next(path for path, decided in sorted(decisions.items()) if decided["rows"])
    values = {"good": str(raw / relative), "relative": relative, "tmp": str(tmp_path)}
    result = run_cli(*(argument.format(**values) for argument in arguments))
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "errors.txt").exists()


def bad_children_rows(raw: Path, decisions: dict) -> tuple[str, list[list[str]], int]:
    """A loaded children file as rows of cells (header first), and the index of the sex column."""
    relative = next(
        path
        for path, decided in sorted(decisions.items())
        if "/children_" in path and path.endswith(".csv") and decided["status"] in LOADS
        and (decided["rows"] or 0) >= 6 and not decided["error_rows"]
    )  # fmt: skip
    data = (raw / relative).read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("windows-1252")  # a sender's own encoding; rewritten as UTF-8
    rows = [row for row in csv.reader(text.splitlines()) if row]
    return relative, rows, [name.lower() for name in rows[0]].index("sex")


def test_the_report_gives_the_rows_a_person_sees_in_excel(zone, tmp_path):
    """A blank line and a bad code after it, in a CSV and in a workbook: the report names the row
    Excel shows (the header is row 1); the xlsx report says the same."""
    raw, _, decisions = zone
    relative, rows, sex = bad_children_rows(raw, decisions)
    rows[4][sex] = "zz"  # data row 4: Excel row 5 as written, row 6 after the blank line below
    rows.insert(2, [""] * len(rows[0]))
    partner, org, name = relative.split("/")
    folder = tmp_path / partner / org
    folder.mkdir(parents=True)
    as_csv = folder / name
    with as_csv.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(
            [[] if not any(row) else row for row in rows]
        )
    as_xlsx = as_csv.with_suffix(".xlsx")
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append([cell or None for cell in row])
    workbook.save(as_xlsx)
    (bad_cell,) = [c for line in workbook.active.iter_rows() for c in line if c.value == "zz"]
    assert bad_cell.row == 6

    code = RULES.rule(f"{partner}__children", "bad_code", ["sex"]).code
    for checked in (as_csv, as_xlsx):
        report = tmp_path / f"{checked.suffix[1:]}_report.xlsx"
        assert run_cli(str(checked), "--report", str(report)).exit_code == 1
        sheet = openpyxl.load_workbook(report).active
        header = [cell.value for cell in sheet[1]]
        assert header == ["file", "row", "column", "rule", "severity", "message"]
        found = [
            dict(zip(header, row, strict=True)) for row in sheet.iter_rows(2, values_only=True)
        ]
        (bad,) = [row for row in found if row["rule"] == code]
        assert (bad["row"], bad["column"], bad["severity"]) == (bad_cell.row, "sex", "error")
        assert bad["file"] == str(checked)

    csv_report = tmp_path / "rows.csv"
    run_cli(str(as_csv), "--report", str(csv_report))
    (bad,) = [row for row in report_rows(csv_report) if row["rule"] == code]
    assert bad["row"] == str(bad_cell.row)


def test_no_identifier_in_what_it_prints_or_writes(zone, tmp_path):
    raw, _, _ = zone
    tokens, births = identifiers_in_input(raw)
    assert len(tokens) > 100 and births  # the scan has something to find
    paths = [str(path) for path in sorted(raw.rglob("*")) if path.is_file()]
    texts = []
    for kind in ("csv", "xlsx"):
        report = tmp_path / f"errors.{kind}"
        result = run_cli(*paths, "--report", str(report))
        assert result.exit_code == 1
        texts.append(result.output)
        if kind == "csv":
            texts.append(report.read_text(encoding="utf-8"))
        else:
            sheet = openpyxl.load_workbook(report).active
            cells = [str(cell) for row in sheet.iter_rows(values_only=True) for cell in row]
            assert len(cells) > 6 * 10
            texts.append("\n".join(cells))
    for text in texts:
        assert not found_in(text, tokens)
        assert not births_in(text, births)


def test_the_rule_table_in_raw_readme_is_fresh_and_complete():
    assert write_rule_table(check=True) == []  # else: run `cpmds docs`
    page = Path(__file__).parents[1].joinpath("raw/README.md").read_text(encoding="utf-8")
    table = page.split(START, 1)[1].split(END, 1)[0]
    for rule in RULES.rules:
        assert f"| `{rule.code}` |" in table, rule.code


def test_a_stale_rule_table_is_reported_and_rewritten(tmp_path):
    readme = tmp_path / "raw" / "README.md"
    readme.parent.mkdir()
    readme.write_text(f"# Partners\n\nintro\n\n{START}\nold table\n{END}\n\nafter\n")
    assert write_rule_table(check=True, root=tmp_path) == [readme]
    assert "old table" in readme.read_text(encoding="utf-8")  # check writes nothing
    assert write_rule_table(root=tmp_path) == [readme]
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# Partners\n\nintro\n\n") and text.endswith(f"{END}\n\nafter\n")
    assert "old table" not in text and "`FILE-001`" in text
    assert write_rule_table(check=True, root=tmp_path) == []
