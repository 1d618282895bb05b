"""Hostile inputs beside good files: each gets a clear logged outcome, none stops the others.

The load runs as the real Dagster job over a landing zone holding one good file and every kind of
hostile delivery of pipeline.md and security.md.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from cpmds.gates import load_rules
from cpmds.pipeline.runner import run_load
from cpmds.settings import Settings
from cpmds.state import StateStore

RULES = load_rules()
HEADER = (
    "registration_id,child_id,registration_date,deregistration_date,deregistration_reason,"
    "concerns\n"
)
GOOD = HEADER + "R1,C1,2024-06-03,,,DA|NEG\nR2,C2,2024-06-10,,,NEG\n"
FOLDER = "sw/S12000036"


def name(period: str, stamp: str, extension: str = "csv") -> str:
    return f"{FOLDER}/registrations_{period}_{stamp}.{extension}"


def zip_bomb(path: Path) -> None:
    """A workbook whose zip directory declares a sheet far larger than the limit allows."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as workbook:
        workbook.writestr("[Content_Types].xml", "<Types/>")
        workbook.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * 5_000_000 + b"</a>")


@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    raw = base / "raw"
    (raw / FOLDER).mkdir(parents=True)
    outside = base / "outside.csv"
    outside.write_text(GOOD)
    files = {
        "good": name("202406", "202407051430"),
        "nil_return": name("202405", "202406051430"),
        "empty": name("202404", "202405051430"),
        "binary": name("202403", "202404051430"),
        "zip_bomb": name("202402", "202403051430", "xlsx"),
        "huge_cell": name("202401", "202402051430"),
        "formula": name("202312", "202401051430"),
        "shell": f"{FOLDER}/registrations_202311_202312051430.csv; rm -rf ~ $(id) `id`",
        "traversal_link": name("202310", "202311051430"),
    }
    (raw / files["good"]).write_text(GOOD)
    (raw / files["nil_return"]).write_text(HEADER)
    (raw / files["empty"]).write_bytes(b"")
    (raw / files["binary"]).write_bytes(bytes(range(256)) * 64)
    zip_bomb(raw / files["zip_bomb"])
    (raw / files["huge_cell"]).write_text(
        HEADER + "R9,C9,2024-01-03,,,DA" + "A" * 50_000_000 + "\n"
    )
    (raw / files["formula"]).write_text(
        HEADER + 'R5,"=HYPERLINK(""http://x"")",2023-12-04,,,DA\nR6,@C6,2023-12-05,,,NEG\n'
    )
    (raw / files["shell"]).write_text(GOOD)
    (raw / files["traversal_link"]).symlink_to(outside)
    settings = Settings(raw=raw, home=base / "home")
    outcome = run_load(settings)
    with StateStore.open(settings.home, read_only=True) as store:
        log = {record.path: record for record in store.files()}
    return outcome, files, log


def test_the_run_completes_and_the_good_file_loads(landed):
    outcome, files, log = landed
    assert outcome.exit_code == 0, outcome.describe()
    assert log[files["good"]].status == "loaded"
    assert log[files["good"]].rows == 2


def test_a_header_only_file_is_a_valid_nil_return(landed):
    _, files, log = landed
    assert (log[files["nil_return"]].status, log[files["nil_return"]].rows) == ("loaded", 0)


@pytest.mark.parametrize(
    ("which", "rule_kind"),
    [
        ("empty", "no_header_row"),
        ("binary", "undecodable"),
        ("zip_bomb", "xlsx_too_expanded"),
        ("huge_cell", "file_too_large"),
        ("shell", "bad_file_name"),
    ],
)
def test_each_hostile_file_is_quarantined_with_its_rule(landed, which, rule_kind):
    _, files, log = landed
    record = log[files[which]]
    assert record.status == "quarantined", (which, record.status, record.reason)
    codes = {code.strip() for code in (record.reason or "").split(",")}
    kinds = {RULES.by_code[code].kind for code in codes if code in RULES.by_code}
    assert rule_kind in kinds or (which == "huge_cell" and "cell_too_large" in kinds), (
        which,
        kinds,
    )


def test_a_link_out_of_the_landing_zone_is_refused_unread(landed):
    _, files, log = landed
    record = log[files["traversal_link"]]
    assert (record.status, record.reason, record.sha256) == ("rejected", "outside_root", None)


def test_formula_text_is_data(landed):
    _, files, log = landed
    record = log[files["formula"]]
    assert record.status == "loaded" and record.rows == 2
