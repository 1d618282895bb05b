"""The landing-zone writer, checked on tiny hand-made histories read back with plain Python/Polars.

The loader (cpmds.ingest) is deliberately not used: these tests read the files the way the contract
describes them, so that the writer's reading of the contract is checked on its own.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import hashlib
import io
import json
import re
from dataclasses import replace
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from cpmds.contract import load_contract
from cpmds.synthetic.options import GenerateOptions
from cpmds.synthetic.writer import DEFAULT_TUNING, Tuning, write_landing_zone

CONTRACT = load_contract()
FORMATS = CONTRACT.formats
EDINBURGH, FIFE, FIFE_RETIRED = "S12000036", "S12000047", "S12000015"
LOTHIAN = "S08000024"
FIRST, LAST = 202402, 202407
# No corrections, deletions, retired folders or late files: content tests see the history plainly.
QUIET = replace(
    DEFAULT_TUNING,
    correction_share=0.0,
    deletion_share=0.0,
    retired_folder_share=0.0,
    retired_code_share=0.0,
    late_share=0.0,
)
ALL_DEFECT_KINDS = {
    "missing_month",
    "missing_required_column",
    "undecodable",
    "mostly_bad_rows",
    "bad_code",
    "impossible_date",
    "date_order",
    "invalid_chi",
    "duplicate_key",
    "unparseable_name",
    "unknown_org",
    "duplicate_delivery",
}

# -- a tiny history -------------------------------------------------------------------------------

DTYPES = {
    "text": pl.Utf8,
    "date": pl.Date,
    "bool": pl.Boolean,
    "code": pl.Utf8,
    "codes": pl.List(pl.Utf8),
    "integer": pl.Int64,
}


def chi(day: int, month: int, year: int, serial: int) -> str:
    """A CHI with a valid check digit (serial keeps the check digit from being 10)."""
    for number in range(serial, serial + 20):
        first_nine = f"{day:02d}{month:02d}{year % 100:02d}{number % 1000:03d}"
        total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
        check = 11 - total % 11
        if check != 10:
            return first_nine + str(0 if check == 11 else check)
    raise AssertionError("no valid CHI")


def frame(dataset_id: str, rows: list[dict]) -> pl.DataFrame:
    dataset = CONTRACT.dataset_by_id[dataset_id]
    schema = {column.name: DTYPES[column.type] for column in dataset.columns}
    schema |= {"_org": pl.Utf8, "_period": pl.Int64}
    return pl.DataFrame([{name: row.get(name) for name in schema} for row in rows], schema=schema)


def registration(rid, org, period, child, start, end=None, reason=None):
    return {
        "registration_id": rid,
        "child_id": child,
        "registration_date": start,
        "deregistration_date": end,
        "deregistration_reason": reason,
        "concerns": ["NEG", "DA"],
        "_org": org,
        "_period": period,
    }


def child(cid, org, period, born, sex="F"):
    return {
        "child_id": cid,
        "chi": chi(born.day, born.month, born.year, 100 + len(cid)),
        "date_of_birth": born,
        "sex": sex,
        "ethnicity": "WS",
        "disability": False,
        "postcode": "EH1 1AA",
        "_org": org,
        "_period": period,
    }


def tiny_history() -> dict[str, pl.DataFrame]:
    d = dt.date
    registrations = [
        registration("R1", EDINBURGH, 202312, "C1", d(2023, 12, 5)),  # open before the range
        registration("R2", EDINBURGH, 202310, "C2", d(2023, 10, 2)),
        registration("R2", EDINBURGH, 202311, "C2", d(2023, 10, 2), d(2023, 11, 20), "RR"),
        registration("R3", EDINBURGH, 202403, "C3", d(2024, 3, 10)),
        registration("R4", EDINBURGH, 202402, "C1", d(2024, 2, 14)),
        registration("R4", EDINBURGH, 202404, "C1", d(2024, 2, 14), d(2024, 4, 3), "RR"),
        registration("R5", FIFE, 202401, "F1", d(2024, 1, 9)),  # Fife's baseline
        registration("R6", EDINBURGH, 202409, "C4", d(2024, 9, 2)),  # after the range
        registration("R7", EDINBURGH, 202405, "C5", d(2024, 5, 6)),
        registration("R8", EDINBURGH, 202404, "C6", d(2024, 4, 16)),
    ]
    # Enough rows in the busy months for a few bad rows to stay under the error threshold.
    registrations += [
        registration(
            f"R{100 + n}", EDINBURGH, 202402 + n % 4, f"C{100 + n % 7}", d(2024, 2 + n % 4, 3)
        )
        for n in range(48)
    ]
    children = [
        child("C1", EDINBURGH, 202311, d(2015, 3, 1)),
        child("C2", EDINBURGH, 202310, d(2012, 6, 2), "M"),
        child("C3", EDINBURGH, 202403, d(2019, 1, 30)),
        child("C5", EDINBURGH, 202312, d(2020, 8, 8)),  # known before the range only
        child("C6", EDINBURGH, 202406, d(2021, 9, 9), "M"),  # dated after the month naming it
        child("F1", FIFE, 202312, d(2016, 11, 11)),
        *(child(f"C{100 + n}", EDINBURGH, 202402, d(2014, 1 + n, 5)) for n in range(7)),
    ]
    concerns = [
        {
            "concern_id": f"K{n}",
            "child_id": f"C{100 + n % 7}",
            "received_date": d(2024, 2 + n % 5, 1 + n % 27),
            "source": ["POL", "HEA", "EDU", "SW"][n % 4],
            "outcome": None if n % 3 else "NFA",
            "_org": EDINBURGH,
            "_period": 202402 + n % 5,
        }
        for n in range(40)
    ]
    police = [
        {
            "report_id": f"P{n}",
            "report_date": d(2024, 2 + n % 4, 10),
            "council_code": [EDINBURGH, FIFE][n % 2],
            "chi": chi(1 + n % 28, 1 + n % 12, 2015, 200 + n),
            "date_of_birth": d(2015, 1 + n % 12, 1 + n % 28),
            "sex": ["M", "F", "U"][n % 3],
            "concern_types": [["DA"], ["NEG", "MIS"]][n % 2],
            "shared_with_sw": n % 2 == 0,
            "_org": "PS",
            "_period": 202402 + n % 4,  # nothing in June and July: nil returns
        }
        for n in range(60)
    ]
    medicals = [
        {
            "exam_id": f"M{n}",
            "chi": chi(3, 4, 2018, 300 + n),
            "exam_date": d(2024, 3, 1 + n),
            "council_code": EDINBURGH,
            "exam_type": "JPF",
            "ird_linked": True,
            "_org": LOTHIAN,
            "_period": 202403,
        }
        for n in range(5)
    ]
    attendance = [
        {
            "pupil_id": f"SCN{n:05d}",
            "chi": chi(1 + n % 28, 2, 2012, 400 + n),
            "sessions_possible": 380,
            "sessions_attended": 300 + n,
            "exclusions": n % 2,
            "_org": EDINBURGH,
            "_period": 202407,
        }
        for n in range(30)
    ]
    return {
        "sw__registrations": frame("sw__registrations", registrations),
        "sw__children": frame("sw__children", children),
        "sw__concerns": frame("sw__concerns", concerns),
        "police__concern_reports": frame("police__concern_reports", police),
        "health__cp_medicals": frame("health__cp_medicals", medicals),
        "education__attendance": frame("education__attendance", attendance),
    }


HISTORY = tiny_history()


def write(tmp_path: Path, name: str = "raw", tuning: Tuning = QUIET, **changes):
    options = GenerateOptions(
        out=tmp_path / name, seed=changes.pop("seed", 5), period_from=FIRST, period_to=LAST
    )
    options = replace(options, **changes)
    return options, write_landing_zone(HISTORY, options, progress=False, tuning=tuning)


# -- reading files back, as the contract describes them -----------------------------------------

NAME = FORMATS.file_name.regex


def normalised(header: str) -> str:
    folded = header.lower()
    for character in FORMATS.header_ignored_characters:
        folded = folded.replace(character, "")
    return folded


CANONICAL = {
    normalised(name): name
    for name in {c.name for d in CONTRACT.datasets for c in d.columns}
    | {FORMATS.deletion_column, "team"}
}


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("windows-1252")


def read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    """Canonical header names and the rows as text ('' for an empty cell)."""
    if path.suffix == ".xlsx":
        sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        cells = [
            ["" if value is None else _excel_text(value) for value in row]
            for row in sheet.iter_rows(values_only=True)
        ]
    else:
        cells = list(csv.reader(io.StringIO(decode(path.read_bytes()), newline="")))
    header, *rows = cells
    return [CANONICAL.get(normalised(name), name) for name in header], rows


def _excel_text(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d")
    return str(value)


def records(path: Path) -> list[dict[str, str]]:
    header, rows = read_table(path)
    return [dict(zip(header, row, strict=True)) for row in rows]


def is_missing(value: str) -> bool:
    return value in FORMATS.missing_tokens


def deliveries(root: Path) -> list[tuple[str, str, str, int, str, Path]]:
    """(partner, org folder, dataset, period, stamp, path) of every well-named file."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        partner, org, name = path.relative_to(root).parts
        match = NAME.match(name)
        if match:
            found.append(
                (partner, org, match["dataset"], int(match["period"]), match["submission"], path)
            )
    return found


def files_of(root: Path, dataset_id: str, org: str) -> dict[int, Path]:
    """Period -> the latest file of one sender's dataset."""
    partner, dataset = dataset_id.split("__")
    latest: dict[int, tuple[str, Path]] = {}
    for p, o, d, period, stamp, path in deliveries(root):
        if (p, o, d) == (partner, org, dataset) and stamp > latest.get(period, ("", path))[0]:
            latest[period] = (stamp, path)
    return {period: path for period, (_, path) in sorted(latest.items())}


def parse_date(text: str) -> dt.date | None:
    text = text.removesuffix(str(FORMATS.dates["accepted_time_suffix"]))
    for date_format in FORMATS.date_formats:
        try:
            return dt.datetime.strptime(text, date_format).date()
        except ValueError:
            continue
    return None


def parses_as_date(text: str) -> bool:
    return parse_date(text) is not None


def dataset_of(relative_path: str):
    partner, _, name = relative_path.split("/")
    match = NAME.match(name)
    assert match is not None
    return CONTRACT.dataset(partner, match["dataset"])


def code_lookup(relative_path: str, column: str) -> dict[str, str]:
    code_list = dataset_of(relative_path).column_map[column].code_list
    assert code_list is not None
    return CONTRACT.code_list_by_id[code_list].lookup


def chi_is_valid(text: str) -> bool:
    digits = re.sub(r"[ -]", "", text).zfill(10)
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    return check != 10 and int(digits[9]) == (0 if check == 11 else check)


def period_end(period: int) -> dt.date:
    year, month = divmod(period, 100)
    return dt.date(year, month, calendar.monthrange(year, month)[1])


# -- layout ---------------------------------------------------------------------------------------


def test_one_file_per_sender_and_period_named_by_the_grammar(tmp_path):
    options, result = write(tmp_path)
    root = options.out
    every_file = [p for p in root.rglob("*") if p.is_file()]
    assert all(NAME.match(p.name) for p in every_file)
    assert all(len(p.relative_to(root).parts) == 3 for p in every_file)
    found = {(p, o, d, period) for p, o, d, period, _, _ in deliveries(root)}
    months = options.periods
    # Fife has no concern in the history, yet owes its monthly nil return of concerns: a council
    # that sends any social work dataset owes every expected one.
    expected = {
        ("sw", org, ds, m)
        for org in (EDINBURGH, FIFE)
        for ds in ("registrations", "children", "concerns")
        for m in months
    }
    expected |= {("police", "PS", "concern_reports", m) for m in months}
    expected |= {("health", LOTHIAN, "cp_medicals", m) for m in months}
    expected |= {("education", EDINBURGH, "attendance", 202407)}
    assert found == expected
    assert result.files == len(every_file) == len(expected)
    for partner, org, dataset, period, stamp, _ in deliveries(root):
        assert dataset in CONTRACT.partner_by_id[partner].datasets
        assert CONTRACT.org_allowed(partner, org)
        assert dt.datetime.strptime(stamp, "%Y%m%d%H%M").date() > period_end(period)


def test_rows_total_is_what_the_files_hold(tmp_path):
    options, result = write(tmp_path)
    assert result.rows == sum(len(read_table(path)[1]) for *_, path in deliveries(options.out))
    assert result.manifest is None and not options.manifest_path.exists()


def test_a_month_without_records_is_a_header_only_nil_return(tmp_path):
    options, _ = write(tmp_path)
    nil = files_of(options.out, "police__concern_reports", "PS")[202406]
    header, rows = read_table(nil)
    assert rows == []
    assert "report_id" in header
    assert len(decode(nil.read_bytes()).splitlines()) == 1


def test_versions_after_the_range_are_dropped(tmp_path):
    options, _ = write(tmp_path)
    files = files_of(options.out, "sw__registrations", EDINBURGH)
    assert all("R6" not in {r["registration_id"] for r in records(p)} for p in files.values())


# -- baseline and children ------------------------------------------------------------------------


def registration_ids(path: Path) -> set[str]:
    return {row["registration_id"] for row in records(path)}


def test_open_records_are_in_the_first_file_only(tmp_path):
    options, _ = write(tmp_path)
    edinburgh = files_of(options.out, "sw__registrations", EDINBURGH)
    fife = files_of(options.out, "sw__registrations", FIFE)
    assert "R1" in registration_ids(edinburgh[FIRST])
    assert all(
        "R1" not in registration_ids(p) for period, p in edinburgh.items() if period != FIRST
    )
    assert all("R2" not in registration_ids(p) for p in edinburgh.values())  # closed before
    assert "R5" in registration_ids(fife[FIRST])
    assert [period for period, p in edinburgh.items() if "R4" in registration_ids(p)] == [
        202402,
        202404,
    ]


def test_every_named_child_is_listed_by_then(tmp_path):
    options, _ = write(tmp_path)
    for org in (EDINBURGH, FIFE):
        children = files_of(options.out, "sw__children", org)
        listed: set[str] = set()
        for period in options.periods:
            listed |= {row["child_id"] for row in records(children[period])}
            for dataset_id in ("sw__registrations", "sw__concerns"):
                path = files_of(options.out, dataset_id, org).get(period)
                named = {row["child_id"] for row in records(path)} if path else set()
                assert named <= listed, (org, period, dataset_id, named - listed)
    edinburgh = files_of(options.out, "sw__children", EDINBURGH)
    assert "C1" in {row["child_id"] for row in records(edinburgh[FIRST])}  # named by the baseline
    assert "C5" in {row["child_id"] for row in records(edinburgh[202405])}
    assert "C6" in {row["child_id"] for row in records(edinburgh[202404])}
    assert "F1" in {
        row["child_id"] for row in records(files_of(options.out, "sw__children", FIFE)[FIRST])
    }


# -- stamps ---------------------------------------------------------------------------------------


def stamps(root: Path) -> list[tuple[str, int, dt.datetime]]:
    return [
        (f"{p}__{d}", period, dt.datetime.strptime(stamp, "%Y%m%d%H%M"))
        for p, _, d, period, stamp, _ in deliveries(root)
    ]


def due(dataset_id: str, period: int) -> dt.date:
    dataset = CONTRACT.dataset_by_id[dataset_id]
    if dataset.due is None:
        return period_end(period) + dt.timedelta(days=FORMATS.monthly_due_days)
    return dt.date(period // 100, dataset.due.month, dataset.due.day)


def test_files_are_on_time_in_working_hours_unless_late(tmp_path):
    options, _ = write(tmp_path)
    for dataset_id, period, stamp in stamps(options.out):
        assert period_end(period) < stamp.date() <= due(dataset_id, period)
        assert 8 <= stamp.hour <= 17 and stamp.weekday() < 5
    late, _ = write(tmp_path, "late", replace(QUIET, late_share=1.0))
    assert all(stamp.date() > due(ds, period) for ds, period, stamp in stamps(late.out))


# -- life events ----------------------------------------------------------------------------------


def test_a_corrected_file_supersedes_one_with_an_entry_made_in_error(tmp_path):
    options, _ = write(tmp_path, tuning=replace(QUIET, correction_share=1.0))
    by_slot: dict[tuple, list[tuple[str, Path]]] = {}
    for partner, org, dataset, period, stamp, path in deliveries(options.out):
        by_slot.setdefault((partner, org, dataset, period), []).append((stamp, path))
    pairs = [sorted(files) for files in by_slot.values() if len(files) == 2]
    assert len(pairs) >= 10
    for (first_stamp, first), (second_stamp, second) in pairs:
        assert first_stamp < second_stamp
        _, mistaken = read_table(first)
        header, corrected = read_table(second)
        assert len(mistaken) == len(corrected) + 1
        spurious = [row for row in mistaken if row not in corrected]
        assert len(spurious) == 1
        assert [row for row in mistaken if row is not spurious[0]] == corrected
        key = spurious[0][0] if header[0] in ("registration_id", "child_id") else None
        if key is not None:  # the entry made in error is under a key the history never used
            assert key not in set(HISTORY[f"{first.parts[-3]}__{dataset}"].to_series(0))


def test_a_spurious_record_is_deleted_in_the_next_month(tmp_path):
    tuning = replace(QUIET, deletion_share=1.0, deletion_capable_senders=1.0)
    options, _ = write(tmp_path, tuning=tuning)
    true_tokens = {token.lower() for token in FORMATS.booleans["true"]}
    files = files_of(options.out, "sw__registrations", EDINBURGH)
    deleted_seen = 0
    for period, path in files.items():
        rows = records(path)
        assert all("deleted" in row for row in rows)
        deleted = [row["registration_id"] for row in rows if row["deleted"].lower() in true_tokens]
        for key in deleted:
            previous = [p for p in options.periods if p < period][-1]
            assert key in registration_ids(files[previous])
            assert all(
                key not in registration_ids(files[p]) for p in options.periods if p < previous
            )
            assert key not in set(HISTORY["sw__registrations"]["registration_id"])
        deleted_seen += len(deleted)
    assert deleted_seen >= 2  # a month taken by a deletion is not the source of another


def test_no_deleted_column_for_senders_outside_the_subset(tmp_path):
    tuning = replace(QUIET, deletion_share=1.0, deletion_capable_senders=0.0)
    options, _ = write(tmp_path, tuning=tuning)
    assert all("deleted" not in read_table(path)[0] for *_, path in deliveries(options.out))


def test_retired_council_codes_as_folders_and_values(tmp_path):
    tuning = replace(QUIET, retired_folder_share=1.0, retired_code_share=1.0)
    options, _ = write(tmp_path, tuning=tuning)
    assert files_of(options.out, "sw__registrations", FIFE_RETIRED)
    assert not files_of(options.out, "sw__registrations", FIFE)
    councils = {
        row["council_code"]
        for path in files_of(options.out, "police__concern_reports", "PS").values()
        for row in records(path)
    }
    assert councils == {EDINBURGH, FIFE_RETIRED}


# -- styles ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_style_stays_inside_the_contract(tmp_path, seed):
    options, _ = write(tmp_path, tuning=DEFAULT_TUNING, seed=seed)
    booleans = {t.lower() for t in (*FORMATS.booleans["true"], *FORMATS.booleans["false"])}
    for partner, _, dataset_name, _, _, path in deliveries(options.out):
        dataset = CONTRACT.dataset(partner, dataset_name)
        header, rows = read_table(path)
        assert set(dataset.required_columns) <= set(header)
        assert set(header) <= {*dataset.column_names, FORMATS.deletion_column, "team"}
        for row in rows:
            for name, value in zip(header, row, strict=True):
                column = dataset.column_map.get(name)
                if column is None or is_missing(value):
                    assert column is None or not column.required
                    continue
                if column.type == "date":
                    assert parses_as_date(value), (path, name, value)
                elif column.type == "bool":
                    assert value.lower() in booleans
                elif column.type in ("code", "codes"):
                    lookup = CONTRACT.code_list_by_id[column.code_list].lookup
                    parts = re.split(r"[|;]", value) if column.type == "codes" else [value]
                    assert all(part.upper() in lookup for part in parts), (path, name, value)
                elif column.identifier == "chi":
                    assert chi_is_valid(value), (path, name, value)


def test_windows_1252_senders_write_non_ascii_with_crlf(tmp_path):
    tuning = replace(QUIET, encoding_weights=(("windows-1252", 1.0),), xlsx_share_by_org_kind=())
    options, _ = write(tmp_path, tuning=tuning)
    files_with_rows = 0
    for *_, path in deliveries(options.out):
        data = path.read_bytes()
        text = data.decode("windows-1252")
        assert "\n" not in text.replace("\r\n", "")
        assert "team" in read_table(path)[0]
        if len(text.splitlines()) > 1:
            files_with_rows += 1
            assert any(ord(character) > 127 for character in text)
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")
    assert files_with_rows > 10


def test_health_boards_send_workbooks_with_real_dates(tmp_path):
    tuning = replace(QUIET, xlsx_share_by_org_kind=(("health_board", 1.0),))
    options, _ = write(tmp_path, tuning=tuning)
    workbook = files_of(options.out, "health__cp_medicals", LOTHIAN)[202403]
    assert workbook.suffix == ".xlsx"
    sheet = openpyxl.load_workbook(workbook).worksheets[0]
    header = [CANONICAL.get(normalised(cell.value)) for cell in sheet[1]]
    dates = [row[header.index("exam_date")].value for row in sheet.iter_rows(min_row=2)]
    assert len(dates) == 5 and all(isinstance(value, dt.datetime) for value in dates)


# -- determinism ----------------------------------------------------------------------------------


def fingerprint(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_the_same_history_and_options_give_the_same_bytes(tmp_path):
    first, _ = write(tmp_path / "a", tuning=DEFAULT_TUNING, defects=True)
    second, _ = write(tmp_path / "b", tuning=DEFAULT_TUNING, defects=True)
    assert fingerprint(first.out) == fingerprint(second.out)
    assert any(path.endswith(".xlsx") for path in fingerprint(first.out))
    assert first.manifest_path.read_bytes() == second.manifest_path.read_bytes()
    other, _ = write(tmp_path / "c", tuning=DEFAULT_TUNING, defects=True, seed=6)
    assert fingerprint(other.out) != fingerprint(first.out)


def test_refuses_to_write_into_a_non_empty_directory(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        write(tmp_path)
    assert (tmp_path / "raw" / "keep.txt").read_text() == "mine"


def test_the_writer_never_imports_the_loader():
    import cpmds.synthetic.writer as writer

    sources = Path(writer.__file__).parent.glob("*.py")
    assert not any("cpmds.ingest" in path.read_text(encoding="utf-8") for path in sources)


# -- defects --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def defective(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("defects")
    options, result = write(tmp_path, tuning=DEFAULT_TUNING, defects=True)
    manifest = json.loads(options.manifest_path.read_text(encoding="utf-8"))
    return options, result, {entry["kind"]: entry for entry in manifest["defects"]}


def cell(entry: dict, root: Path, column: str | None = None, row: int | None = None) -> str:
    header, rows = read_table(root / entry["path"])
    return rows[(row or entry["rows"][0]) - 2][header.index(column or entry["columns"][0])]


def test_the_manifest_sits_beside_the_landing_zone_and_lists_every_kind(defective):
    options, result, entries = defective
    assert result.manifest == options.manifest_path
    assert options.manifest_path.parent == options.out.parent
    assert set(entries) == ALL_DEFECT_KINDS
    for kind, entry in entries.items():
        exists = (options.out / entry["path"]).is_file()
        assert exists == (kind != "missing_month"), kind
        for linked in ("replaced_by", "copy_of"):
            if linked in entry:
                assert (options.out / entry[linked]).is_file()


def test_the_missing_month_was_never_sent(defective):
    options, _, entries = defective
    partner, org, name = entries["missing_month"]["path"].split("/")
    match = NAME.match(name)
    assert match is not None
    assert not [
        path
        for p, o, d, period, _, path in deliveries(options.out)
        if (p, o, d, period) == (partner, org, match["dataset"], int(match["period"]))
    ]


def test_file_level_defects_are_really_broken(defective):
    options, _, entries = defective
    root = options.out
    missing = entries["missing_required_column"]
    assert missing["columns"][0] not in read_table(root / missing["path"])[0]
    assert missing["columns"][0] in read_table(root / missing["replaced_by"])[0]
    assert missing["replaced_by"] > missing["path"]  # same folder and name, later stamp

    garbled = (root / entries["undecodable"]["path"]).read_bytes()
    for encoding in ("utf-8", "cp1252"):
        with pytest.raises(UnicodeDecodeError):
            garbled.decode(encoding)

    mostly = entries["mostly_bad_rows"]
    _, rows = read_table(root / mostly["path"])
    assert len(mostly["rows"]) > len(rows) / 2
    lookup = code_lookup(mostly["path"], mostly["columns"][0])
    assert all(cell(mostly, root, row=row).upper() not in lookup for row in mostly["rows"])


def test_row_defects_are_where_the_manifest_says(defective):
    options, _, entries = defective
    root = options.out
    assert all(
        entries[k]["severity"] == "error" for k in ("bad_code", "impossible_date", "date_order")
    )

    bad = entries["bad_code"]
    assert cell(bad, root).upper() not in code_lookup(bad["path"], bad["columns"][0])

    impossible = entries["impossible_date"]
    assert "31" in cell(impossible, root) and not parses_as_date(cell(impossible, root))

    order = entries["date_order"]
    ends, starts = (parse_date(cell(order, root, column=name)) for name in order["columns"])
    assert ends is not None and starts is not None and ends < starts

    invalid = entries["invalid_chi"]
    assert invalid["severity"] == "warning" and invalid["expected"] == "loaded"
    assert invalid["real_row"] is True
    assert not chi_is_valid(cell(invalid, root))

    duplicate = entries["duplicate_key"]
    header, rows = read_table(root / duplicate["path"])
    first, second = (rows[row - 2] for row in duplicate["rows"])
    assert [first[header.index(k)] for k in duplicate["columns"]] == [
        second[header.index(k)] for k in duplicate["columns"]
    ]


def test_extra_files_copy_real_deliveries(defective):
    options, _, entries = defective
    root = options.out
    for kind in ("unparseable_name", "unknown_org", "duplicate_delivery"):
        entry = entries[kind]
        assert (root / entry["path"]).read_bytes() == (root / entry["copy_of"]).read_bytes()
    assert NAME.match(entries["unparseable_name"]["path"].split("/")[-1]) is None
    partner, org, _ = entries["unknown_org"]["path"].split("/")
    assert not CONTRACT.org_allowed(partner, org)
    assert entries["duplicate_delivery"]["path"] > entries["duplicate_delivery"]["copy_of"]
    expected = {kind: entry["expected"] for kind, entry in entries.items()}
    assert expected["duplicate_delivery"] == "duplicate"
    assert expected["unparseable_name"] == "quarantined"
    assert expected["missing_month"] == "missing"


def test_no_defects_without_the_option(tmp_path):
    options, result = write(tmp_path, tuning=DEFAULT_TUNING)
    assert result.manifest is None and not options.manifest_path.exists()
    names = [p.name for p in options.out.rglob("*") if p.is_file()]
    assert all(NAME.match(name) for name in names)
    assert {p.parent.name for p in options.out.rglob("*.csv")} <= {
        EDINBURGH,
        FIFE,
        FIFE_RETIRED,
        "PS",
        LOTHIAN,
    }
