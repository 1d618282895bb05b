"""Running gates 1 and 2: a test per rule code, hostile inputs, attribution, the file decision.

The table-driven test enumerates the registry, so a rule without a case here fails. Each rule gets
a good input that passes and a bad one built from the contract by breaking one field of a good row
(or one thing about a good file). Row cases of a dataset run as one batch, a file per case, the
way the pipeline runs them; file cases likewise run through one call of ``gate_files``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from cpmds.contract import Contract, Dataset, load_contract
from cpmds.gates import (
    ROW_FAILURE_SCHEMA,
    TYPING_FAILURE_SCHEMA,
    FileGate,
    Finding,
    SuiteError,
    check_file_before_reading,
    check_strings,
    decide,
    gate_files,
    gate_rows_batch,
    load_rules,
    rule_for_problem,
    run_gate_rows,
    typing_failure_rules,
)
from cpmds.gates.derive import code_conditions
from cpmds.gates.gate_rows import gate_rows_batch_of
from cpmds.gates.gx_runner import _index_of_failures, run_suite
from cpmds.gates.registry import Rule
from cpmds.gates.suites import suite_path
from cpmds.ingest import normalise_frames
from cpmds.ingest.chi import VALID_SUFFIX
from cpmds.ingest.normalise import normalise_batch

CONTRACT = load_contract()
REGISTRY = load_rules()
DELETION = CONTRACT.formats.deletion_column
REGISTRATIONS = CONTRACT.dataset_by_id["sw__registrations"]
SUBMITTED = dt.date(2024, 7, 5)
GOOD_DATE = dt.date(2024, 6, 1)
VALID_CHI = "0101011237"
INVALID_CHI = "0101011230"  # the check digit should be 7
SECRET = "SECRET"  # every free-text value in the cases starts with this: none may be reported
BAD_VALUES = ("2024-13-45", "1899-12-31", "2024-07-06", "2024-05-31", "maybe", "twelve", "ZZQ")


# ---------------------------------------------------------------------------------------------
# Row cases, built from the contract


def good_row(dataset: Dataset) -> dict[str, str]:
    """A row of strings that every rule of ``dataset`` accepts."""
    row: dict[str, str] = {}
    # Codes allowed only with some value of another column are chosen once that value is.
    conditioned = [c for c in dataset.columns if c.code_list and code_conditions(CONTRACT, c)]
    for column in [c for c in dataset.columns if c not in conditioned] + conditioned:
        if column.identifier == "chi":
            row[column.name] = VALID_CHI
        elif column.type == "text":
            row[column.name] = f"{SECRET}-{column.name}"
        elif column.type == "date":
            row[column.name] = GOOD_DATE.isoformat()
        elif column.type == "bool":
            row[column.name] = "Y"
        elif column.type == "integer":
            row[column.name] = str(column.min if column.min is not None else 0)
        elif column.type == "codes":
            row[column.name] = CONTRACT.allowed_codes(column)[0]
        else:
            conditions = code_conditions(CONTRACT, column)
            row[column.name] = next(
                code
                for code in CONTRACT.allowed_codes(column)
                if all(
                    code not in allowed or row[other] in allowed[code]
                    for other, allowed in conditions.items()
                )
            )
    row[DELETION] = "N"
    return {name: row[name] for name in (*dataset.column_names, DELETION)}


def _day(date: dt.date, days: int) -> str:
    return (date + dt.timedelta(days=days)).isoformat()


def row_case(rule: Rule) -> tuple[list[dict[str, str]], set[str]]:
    """Rows breaking ``rule`` and the codes they must fail with: the rule's, and those a bad date
    cannot help breaking too (a date after the submission is after the dates that follow it)."""
    dataset = CONTRACT.dataset_by_id[rule.dataset]
    row = good_row(dataset)
    name = rule.column
    assert name is not None
    expected = {rule.code}
    kind = rule.kind
    if kind in ("required_missing", "required_with_missing"):
        row[name] = ""
    elif kind == "bad_date":
        row[name] = "2024-13-45"
    elif kind == "date_too_early":
        row[name] = _day(CONTRACT.formats.earliest_date, -1)
        if dataset.column_map[name].not_before:
            other = dataset.column_map[name].not_before
            expected.add(REGISTRY.rule(dataset.id, "before_other", (name, other)).code)
    elif kind == "date_after_submission":
        row[name] = _day(SUBMITTED, 1)
        for later in dataset.columns:
            if later.not_before == name:
                pair = (later.name, name)
                expected.add(REGISTRY.rule(dataset.id, "before_other", pair).code)
    elif kind == "before_other":
        row[name] = _day(GOOD_DATE, -1)
    elif kind == "bad_bool":
        row[name] = "maybe"
    elif kind == "bad_integer":
        row[name] = "twelve"
    elif kind == "out_of_range":
        column = dataset.column_map[name]
        row[name] = str(column.min - 1) if column.min is not None else str(column.max + 1)
    elif kind == "above_other":
        row[name] = str(int(row[rule.fields[1]]) + 1)
    elif kind == "bad_code":
        row[name] = "ZZQ"
    elif kind == "code_not_allowed_for":
        other = rule.fields[1]
        allowed_with = code_conditions(CONTRACT, dataset.column_map[name])[other]
        value, code = next(
            (value, code)
            for value in CONTRACT.allowed_codes(dataset.column_map[other])
            for code, values in allowed_with.items()
            if value not in values
        )
        row[other], row[name] = value, code
    elif kind == "chi_invalid":
        row[name] = INVALID_CHI
    elif kind == "key_not_unique":
        return [row, dict(row)], expected
    else:
        raise KeyError(f"no row case for rule kind {kind}: add one")
    return [row], expected


def _strings(rows: list[dict[str, str]], dataset: Dataset) -> pl.DataFrame:
    names = (*dataset.column_names, DELETION)
    frame = pl.DataFrame(rows, schema=dict.fromkeys(names, pl.Utf8), orient="row")
    return frame.with_row_index("_row", offset=2).with_columns(pl.col("_row").cast(pl.Int64))


@dataclass(frozen=True)
class RowOutcome:
    expected: set[str]
    failures: pl.DataFrame
    good_failures: pl.DataFrame


def _gate_rows(dataset: Dataset, cases: list[list[dict[str, str]]]) -> list[pl.DataFrame]:
    """Gate 2 over ``cases`` as one batch, a file per case; each file's failures."""
    frames = [(_strings(rows, dataset), SUBMITTED) for rows in cases]
    normalised = normalise_frames(frames, dataset, CONTRACT)
    batch, typing = gate_rows_batch(
        [(index, SUBMITTED, result) for index, result in enumerate(normalised)]
    )
    failures = run_gate_rows(dataset, batch, typing, CONTRACT, REGISTRY)
    return [failures.filter(pl.col("_file") == index) for index in range(len(cases))]


@pytest.fixture(scope="module")
def row_outcomes() -> dict[str, RowOutcome]:
    outcomes = {}
    for dataset in CONTRACT.datasets:
        rules = REGISTRY.for_dataset(dataset.id, "rows")
        cases = [row_case(rule) for rule in rules]
        good, *bad = _gate_rows(dataset, [[good_row(dataset)]] + [rows for rows, _ in cases])
        for rule, (_, expected), failures in zip(rules, cases, bad, strict=True):
            outcomes[rule.code] = RowOutcome(expected, failures, good)
    return outcomes


# ---------------------------------------------------------------------------------------------
# File cases, in a landing zone


ORG_BY_KIND = {"council": "S12000036", "health_board": "S08000024", "charity": "SC005336"}


def org_of(dataset: Dataset) -> str:
    rule = CONTRACT.partner_by_id[dataset.partner].org
    return rule.code if rule.kind == "fixed" else ORG_BY_KIND[rule.kind]  # type: ignore[return-value]


def submission(stamp: int) -> str:
    """A distinct, valid submission stamp per file of a landing zone."""
    return (dt.datetime(2024, 7, 5) + dt.timedelta(minutes=stamp)).strftime("%Y%m%d%H%M")


def file_name(dataset: Dataset, stamp: int, extension: str = "csv") -> str:
    period = f"2024{dataset.period_month or 6:02d}"
    return f"{dataset.dataset}_{period}_{submission(stamp)}.{extension}"


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    lines = [",".join(header), *(",".join(row) for row in rows)]
    return ("\n".join(lines) + "\n").encode()


def good_csv(dataset: Dataset, drop: str | None = None) -> bytes:
    row = {k: v for k, v in good_row(dataset).items() if k != drop}
    return csv_bytes(list(row), [list(row.values())])


def ratio_bomb() -> bytes:
    """A real workbook-shaped zip whose one member inflates 2 MB of zeros from a few KB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * 2_000_000)
    return buffer.getvalue()


def forged_bomb() -> bytes:
    """A tiny zip whose central directory declares a 4 GB member: refused on the declaration."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<sheetData/>")
    data = bytearray(buffer.getvalue())
    entry = data.index(b"PK\x01\x02")
    data[entry + 24 : entry + 28] = (0xFFFFFFF0).to_bytes(4, "little")  # uncompressed size
    return bytes(data)


class LandingZone:
    def __init__(self, root: Path) -> None:
        self.root = root / "raw"
        self.root.mkdir(parents=True)
        self.outside = root / "outside"
        self.outside.mkdir()
        self.stamp = 0

    def next_stamp(self) -> int:
        self.stamp += 1
        return self.stamp

    def add(self, relative: str, content: bytes) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return Path(relative)

    def registrations(self, content: bytes, extension: str = "csv") -> Path:
        name = file_name(REGISTRATIONS, self.next_stamp(), extension)
        return self.add(f"sw/S12000036/{name}", content)

    def symlink_outside(self) -> Path:
        target = self.outside / "elsewhere.csv"
        target.write_bytes(good_csv(REGISTRATIONS))
        relative = Path("sw/S12000036") / file_name(REGISTRATIONS, self.next_stamp())
        (self.root / relative).parent.mkdir(parents=True, exist_ok=True)
        (self.root / relative).symlink_to(target)
        return relative

    def pipe(self) -> Path:
        relative = Path("sw/S12000036") / file_name(REGISTRATIONS, self.next_stamp())
        (self.root / relative).parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(self.root / relative)  # reading it would wait for a writer for ever
        return relative

    def too_large(self) -> Path:
        relative = self.registrations(b"")
        with (self.root / relative).open("r+b") as handle:
            handle.truncate(CONTRACT.formats.limits.file_bytes + 1)  # sparse: costs no disk
        return relative


def file_case(zone: LandingZone, rule: Rule) -> Path:
    """A file in ``zone`` breaking file rule ``rule`` (and nothing else)."""
    if rule.dataset is not None:
        assert rule.kind == "required_column_missing", rule.kind
        dataset = CONTRACT.dataset_by_id[rule.dataset]
        name = file_name(dataset, zone.next_stamp())
        return zone.add(
            f"{dataset.partner}/{org_of(dataset)}/{name}", good_csv(dataset, rule.column)
        )
    good = good_csv(REGISTRATIONS)
    header, row = (line.split(",") for line in good.decode().splitlines())
    stamp = submission(zone.next_stamp())

    def named(dataset: str, period: str = "202406") -> str:
        return f"{dataset}_{period}_{stamp}.csv"

    builders = {
        "outside_root": zone.symlink_outside,
        "bad_layout": lambda: zone.add(f"sw/{named('registrations')}", good),
        "bad_file_name": lambda: zone.add("sw/S12000036/$(rm -rf x);.csv", good),
        "unknown_partner": lambda: zone.add(f"nobody/S12000036/{named('registrations')}", good),
        "unknown_dataset": lambda: zone.add(f"sw/S12000036/{named('offences')}", good),
        "org_not_allowed": lambda: zone.add(f"sw/S08000024/{named('registrations')}", good),
        "bad_period": lambda: zone.add(f"sw/S12000036/{named('registrations', '202413')}", good),
        "wrong_period_month": lambda: zone.add(
            f"education/S12000036/{named('attendance', '202406')}",
            good_csv(CONTRACT.dataset_by_id["education__attendance"]),
        ),
        "bad_submission": lambda: zone.add(
            "sw/S12000036/registrations_202406_202407321430.csv", good
        ),
        "unsupported_extension": lambda: zone.registrations(good, "txt"),
        "file_too_large": zone.too_large,
        "not_a_file": zone.pipe,
        "xlsx_too_expanded": lambda: zone.registrations(ratio_bomb(), "xlsx"),
        "no_header_row": lambda: zone.registrations(b""),
        "undecodable": lambda: zone.registrations(b"\x00\x01\x02binary\xff\xfe"),
        "malformed_csv": lambda: zone.registrations(csv_bytes(header, [[*row, "extra"]])),
        "unreadable_xlsx": lambda: zone.registrations(b"not a zip at all", "xlsx"),
        "cell_too_large": lambda: zone.registrations(
            csv_bytes(header, [[row[0], SECRET + "x" * 40_000, *row[2:]]])
        ),
        "duplicate_column": lambda: zone.registrations(
            csv_bytes([*header, "Child ID"], [[*row, f"{SECRET}-again"]])
        ),
        "unknown_column": lambda: zone.registrations(
            csv_bytes([*header, "favourite_colour"], [[*row, f"{SECRET}-colour"]])
        ),
    }
    return builders[rule.kind]()


def _contract_with_row_limit(row_bytes: int) -> Contract:
    data = CONTRACT.model_dump()
    data["formats"]["limits"]["row_bytes"] = row_bytes
    return Contract.model_validate(data)


@dataclass(frozen=True)
class FileOutcome:
    good: list[FileGate]
    bad: FileGate


@pytest.fixture(scope="module")
def file_outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FileOutcome]:
    zone = LandingZone(tmp_path_factory.mktemp("landing"))
    good_by_dataset = {
        dataset.id: zone.add(
            f"{dataset.partner}/{org_of(dataset)}/{file_name(dataset, zone.next_stamp())}",
            good_csv(dataset),
        )
        for dataset in CONTRACT.datasets
    }
    goods = list(good_by_dataset.values())
    special = {"row_too_large", "too_many_error_rows"}
    rules = [rule for rule in REGISTRY.active if rule.gate == "file" and rule.kind not in special]
    paths = [file_case(zone, rule) for rule in rules]
    gated = gate_files(goods + paths, zone.root, CONTRACT, REGISTRY)
    good, bad = gated[: len(goods)], gated[len(goods) :]
    outcomes = {rule.code: FileOutcome(good, gate) for rule, gate in zip(rules, bad, strict=True)}

    # With the default limits a row over its limit needs a cell over its own: lower the row's.
    tight = _contract_with_row_limit(200)
    header, row = (line.split(",") for line in good_csv(REGISTRATIONS).decode().splitlines())
    long_row = zone.registrations(csv_bytes(header, [[row[0], SECRET + "y" * 300, *row[2:]]]))
    good_tight, bad_tight = gate_files(
        [good_by_dataset[REGISTRATIONS.id], long_row], zone.root, tight, REGISTRY
    )
    outcomes[REGISTRY.file_rule("row_too_large").code] = FileOutcome([good_tight], bad_tight)
    return outcomes


# ---------------------------------------------------------------------------------------------
# The table: every active rule


def _assert_no_values(text: str, extra: tuple[str, ...] = ()) -> None:
    for value in (SECRET, VALID_CHI, INVALID_CHI, *BAD_VALUES, *extra):
        assert value not in text, f"{value!r} was reported"


@pytest.mark.parametrize("code", [rule.code for rule in REGISTRY.active])
def test_each_rule_passes_a_good_input_and_fails_a_bad_one_with_its_code(
    code: str, row_outcomes: dict[str, RowOutcome], file_outcomes: dict[str, FileOutcome]
) -> None:
    rule = REGISTRY.by_code[code]
    if rule.gate == "rows":
        outcome = row_outcomes[code]
        assert outcome.good_failures.is_empty()
        assert set(outcome.failures["rule"]) == outcome.expected
        mine = outcome.failures.filter(pl.col("rule") == code)
        assert set(mine["column"]) == {rule.column}
        assert set(mine["severity"]) == {rule.severity}
        assert set(mine["message"]) == {rule.message}
        _assert_no_values(repr(outcome.failures.rows()))
    elif rule.kind == "too_many_error_rows":
        _check_the_error_threshold(rule)
    else:
        outcome = file_outcomes[code]
        assert all(gate.findings == () for gate in outcome.good)
        assert {finding.rule for finding in outcome.bad.findings} == {code}
        assert outcome.bad.passed == (rule.severity == "warning")
        _assert_no_values(repr(outcome.bad.findings), ("favourite_colour", "rm -rf"))


def _check_the_error_threshold(rule: Rule) -> None:
    def failures(file_id: int, rows: list[int], severity: str = "error") -> pl.DataFrame:
        return pl.DataFrame(
            [(file_id, row, "c", "X-001", severity, "m") for row in rows],
            schema=ROW_FAILURE_SCHEMA,
            orient="row",
        )

    at_threshold = failures(1, [2, 3, 4, 5, 6])
    above = failures(2, [2, 3, 4, 5, 6, 7])
    decided = decide({1: 100, 2: 100}, pl.concat([at_threshold, above]), threshold=0.05)
    assert decided["quarantined"].to_list() == [False, True]
    assert decided["rule"].to_list() == [None, rule.code]
    assert decided["message"].to_list() == [None, rule.message]


def suite_rules() -> list[Rule]:
    """The row rules a ``gate_rows`` suite has an expectation for."""
    codes = set()
    for dataset in CONTRACT.datasets:
        suite = json.loads(suite_path("gate_rows", dataset.id).read_text(encoding="utf-8"))
        codes |= {expectation["meta"]["rule"] for expectation in suite["expectations"]}
    return [rule for rule in REGISTRY.active if rule.code in codes]


def typed_case(rule: Rule, good: pl.DataFrame) -> tuple[pl.DataFrame, set[str]]:
    """``good`` (one typed row) with the typed value ``rule`` refuses, for the suite alone."""
    dataset = CONTRACT.dataset_by_id[rule.dataset]
    name = rule.column
    assert name is not None
    rows, expected = row_case(rule)
    kind = rule.kind
    if kind == "key_not_unique":
        return pl.concat([good, good]), expected
    if kind == "chi_invalid":
        return good.with_columns(pl.lit(False).alias(name + VALID_SUFFIX)), expected
    if kind in ("required_missing", "required_with_missing"):
        return good.with_columns(pl.lit(None, good.schema[name]).alias(name)), expected
    changed = {
        column: text for column, text in rows[0].items() if text != good_row(dataset)[column]
    }
    return good.with_columns(
        pl.lit(_typed(text, good.schema[column]), good.schema[column]).alias(column)
        for column, text in changed.items()
    ), expected


def _typed(text: str, dtype: pl.DataType) -> object:
    if dtype == pl.Date:
        return dt.date.fromisoformat(text)
    return int(text) if dtype == pl.Int64 else text


@pytest.mark.parametrize("code", [rule.code for rule in suite_rules()])
def test_the_suite_alone_refuses_the_typed_value_of_each_of_its_rules(
    code: str, suite_outcomes: dict[str, tuple[set[str], pl.DataFrame]]
) -> None:
    expected, failures = suite_outcomes[code]
    found = set(failures["rule"])
    assert expected <= found
    # Typed values skip the normaliser, which nulls some of them: a value out of range can also
    # break the order with its neighbour. Whatever else fails is about the field broken.
    broken = set(REGISTRY.by_code[code].fields)
    assert all(broken & set(REGISTRY.by_code[other].fields) for other in found), found


@pytest.fixture(scope="module")
def suite_outcomes() -> dict[str, tuple[set[str], pl.DataFrame]]:
    outcomes = {}
    no_typing_failures = pl.DataFrame(schema=TYPING_FAILURE_SCHEMA)
    for dataset in CONTRACT.datasets:
        [good] = normalise_frames([(_strings([good_row(dataset)], dataset), SUBMITTED)], dataset)
        rules = [rule for rule in suite_rules() if rule.dataset == dataset.id]
        cases = [typed_case(rule, good.frame) for rule in rules]
        batch = pl.concat(
            frame.select(
                pl.lit(index, pl.Int64).alias("_file"),
                pl.lit(SUBMITTED).alias("_submitted"),
                pl.all(),
            )
            for index, (frame, _) in enumerate(cases)
        )
        failures = run_gate_rows(dataset, batch, no_typing_failures, CONTRACT, REGISTRY)
        for index, (rule, (_, expected)) in enumerate(zip(rules, cases, strict=True)):
            outcomes[rule.code] = (expected, failures.filter(pl.col("_file") == index))
    return outcomes


# ---------------------------------------------------------------------------------------------
# Hostile inputs


def test_hostile_inputs_each_get_a_clear_outcome_and_other_files_go_on(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path)
    good_bytes = good_csv(REGISTRATIONS)
    header, row = (line.split(",") for line in good_bytes.decode().splitlines())
    (zone.outside / "target.csv").write_bytes(good_bytes)
    formula = [row[0], "=cmd|' /C calc'!A0", "2024-06-01", "", "", "DA", "N"]
    cases = {
        "good": (zone.registrations(good_bytes), set()),
        "traversal": (Path("sw/S12000036/../../../outside/target.csv"), {"outside_root"}),
        "symlink": (zone.symlink_outside(), {"outside_root"}),
        "empty": (zone.registrations(b""), {"no_header_row"}),
        "nil return": (zone.registrations(csv_bytes(header, [])), set()),
        "binary": (zone.registrations(bytes(range(256)) * 40), {"undecodable"}),
        "zip bomb": (zone.registrations(forged_bomb(), "xlsx"), {"xlsx_too_expanded"}),
        "50 MB cell": (
            zone.registrations(csv_bytes(header, [[row[0], "z" * 50_000_000, *row[2:]]])),
            {"cell_too_large", "row_too_large"},
        ),
        "formulas": (zone.registrations(csv_bytes(header, [formula])), set()),
        "shell name": (zone.add("sw/S12000036/$(rm -rf x);.csv", good_bytes), {"bad_file_name"}),
        "directory": (
            zone.add(f"sw/S12000036/{file_name(REGISTRATIONS, 999)}/x", b"").parent,
            {"not_a_file"},
        ),
        "pipe": (zone.pipe(), {"not_a_file"}),
    }
    vanished = zone.root / "sw/S12000036" / file_name(REGISTRATIONS, zone.next_stamp())
    vanished.symlink_to(zone.root / "sw/S12000036/gone.csv")
    paths = [path for path, _ in cases.values()]
    *gated, gone = gate_files([*paths, vanished], zone.root, CONTRACT, REGISTRY)

    assert gone.error == "FileNotFoundError: No such file or directory"
    assert not gone.passed and gone.findings == ()
    for (label, (_, kinds)), gate in zip(cases.items(), gated, strict=True):
        found = {REGISTRY.by_code[finding.rule].kind for finding in gate.findings}
        assert found == kinds, label
        assert gate.passed == (not kinds), label
        _assert_no_values(repr(gate.findings), ("zzzzzzzz", "cmd|", "rm -rf", "target.csv"))
    nil_return = gated[list(cases).index("nil return")]
    assert nil_return.read is not None and nil_return.read.frame.height == 0
    formulas = gated[list(cases).index("formulas")]
    assert formulas.read is not None
    assert formulas.read.frame["child_id"].to_list() == ["=cmd|' /C calc'!A0"], "text, not code"


def test_a_zip_bomb_is_refused_without_being_opened_for_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    zone = LandingZone(tmp_path)
    bomb = zone.registrations(forged_bomb(), "xlsx")
    reads = []
    monkeypatch.setattr("cpmds.gates.gate_file.load_delivery", lambda *a, **k: reads.append(a))

    [gate] = gate_files([bomb], zone.root, CONTRACT, REGISTRY)
    assert [f.rule for f in gate.findings] == [REGISTRY.file_rule("xlsx_too_expanded").code]
    assert reads == []


def test_a_file_inside_the_root_through_a_symlink_inside_the_root_is_fine(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path)
    real = zone.registrations(good_csv(REGISTRATIONS))
    link = zone.root / "sw/S12000036" / file_name(REGISTRATIONS, zone.next_stamp())
    link.symlink_to(zone.root / real)

    assert check_file_before_reading(link, zone.root, CONTRACT, REGISTRY) == []
    assert check_file_before_reading(zone.root / real, zone.root, CONTRACT, REGISTRY) == []


def test_row_and_cell_sizes_are_measured_in_utf8_bytes_on_the_string_frame() -> None:
    limit = CONTRACT.formats.limits.cell_bytes
    frame = _strings([good_row(REGISTRATIONS)] * 3, REGISTRATIONS).with_columns(
        pl.Series("child_id", ["ok", "é" * (limit // 2 + 1), "x" * limit])
    )
    findings = check_strings(frame, REGISTRATIONS, CONTRACT, REGISTRY)
    assert findings == [Finding.of(REGISTRY.file_rule("cell_too_large"), column="child_id", row=3)]


# ---------------------------------------------------------------------------------------------
# Gate 2 details


def test_failures_are_attributed_to_their_file_and_a_cell_is_reported_once() -> None:
    good = good_row(REGISTRATIONS)
    other = good | {"registration_id": f"{SECRET}-2"}
    missing_reason = other | {"deregistration_reason": ""}
    first, second = _gate_rows(REGISTRATIONS, [[good, other], [good, missing_reason]])

    assert first.is_empty()
    required_with = REGISTRY.rule(
        "sw__registrations",
        "required_with_missing",
        ("deregistration_reason", "deregistration_date"),
    )
    # The normaliser and the suite both see the blank reason: it is reported once.
    assert second.select("_file", "_row", "column", "rule").rows() == [
        (1, 3, "deregistration_reason", required_with.code)
    ]


def test_a_deletion_row_needs_only_its_key() -> None:
    deletion = dict.fromkeys(good_row(REGISTRATIONS), "") | {
        "registration_id": f"{SECRET}-1",
        DELETION: "Y",
    }
    [failures] = _gate_rows(REGISTRATIONS, [[deletion]])
    assert failures.is_empty()


def test_the_normaliser_failures_map_to_their_rules() -> None:
    typing = pl.DataFrame(
        [(0, 2, "registration_date", "bad_date", "error")],
        schema={
            "_file": pl.Int64,
            "_row": pl.Int64,
            "column": pl.Utf8,
            "problem": pl.Utf8,
            "severity": pl.Utf8,
        },
        orient="row",
    )
    mapped = typing_failure_rules(REGISTRATIONS, typing, REGISTRY)
    rule = rule_for_problem(REGISTRATIONS, "registration_date", "bad_date", REGISTRY)
    assert mapped.rows() == [(0, 2, "registration_date", rule.code, "error", rule.message)]

    unknown = typing.with_columns(pl.lit("no_such_problem").alias("problem"))
    with pytest.raises(KeyError, match="no rule"):
        typing_failure_rules(REGISTRATIONS, unknown, REGISTRY)


def test_a_batch_typed_together_is_the_batch_of_its_files_typed_apart() -> None:
    good = good_row(REGISTRATIONS)
    bad = good | {"registration_date": "31/02/2024", "registration_id": f"{SECRET}-9"}
    deletion = dict.fromkeys(good, "") | {"registration_id": f"{SECRET}-1", DELETION: "Y"}
    cases = [[good, bad], [], [deletion, bad, good], [bad]]
    frames = [(_strings(rows, REGISTRATIONS), SUBMITTED) for rows in cases]
    file_ids = [40, 7, 12, 3]
    dates = [SUBMITTED, dt.date(2024, 8, 1), SUBMITTED, dt.date(2023, 1, 9)]

    apart = normalise_frames(frames, REGISTRATIONS, CONTRACT)
    expected = gate_rows_batch(list(zip(file_ids, dates, apart, strict=True)))
    together = normalise_batch(frames, REGISTRATIONS, CONTRACT)
    batch, typing = gate_rows_batch_of(file_ids, dates, together)

    assert batch.schema == expected[0].schema and batch.equals(expected[0])
    assert typing.schema == expected[1].schema and typing.equals(expected[1])
    assert typing.height > 0
    assert together.heights == tuple(result.frame.height for result in apart) == (2, 0, 3, 1)


def test_an_empty_batch_needs_no_suite_run() -> None:
    normalised = normalise_frames([(_strings([], REGISTRATIONS), SUBMITTED)], REGISTRATIONS)
    batch, typing = gate_rows_batch([(0, SUBMITTED, normalised[0])])
    failures = run_gate_rows(REGISTRATIONS, batch, typing, CONTRACT, REGISTRY)
    assert failures.is_empty() and failures.schema == pl.Schema(ROW_FAILURE_SCHEMA)


def test_a_suite_that_cannot_run_says_which_rule_and_never_quotes_the_data() -> None:
    import pandas as pd

    frame = pd.DataFrame({"_file": [0], "_row": [2], "registration_id": [f"{SECRET}-1"]})
    with pytest.raises(SuiteError) as raised:
        run_suite(suite_path("gate_rows", REGISTRATIONS.id), frame, ["_file", "_row"])
    assert "SW-REG" in str(raised.value)
    _assert_no_values(str(raised.value))


def test_only_the_index_of_failing_rows_is_kept_from_gx() -> None:
    per_row = [{"_file": 1, "_row": 2, "chi": "0101011230"}, {"_file": 1, "_row": 5, "chi": "x"}]
    assert _index_of_failures(per_row, ["_file", "_row"]) == {"_file": [1, 1], "_row": [2, 5]}
    grouped = [{"_file": [1, 2], "_row": [3, 4]}]
    assert _index_of_failures(grouped, ["_file", "_row"]) == {"_file": [1, 2], "_row": [3, 4]}


# ---------------------------------------------------------------------------------------------
# The decision


def test_warnings_do_not_count_and_a_row_with_several_errors_counts_once() -> None:
    rows = [
        (0, 2, "a", "X-001", "error", "m"),
        (0, 2, "b", "X-002", "error", "m"),
        (0, 3, "chi", "X-003", "warning", "m"),
        (0, 4, "chi", "X-003", "warning", "m"),
        (0, 4, "a", "X-001", "error", "m"),
    ]
    failures = pl.DataFrame(rows, schema=ROW_FAILURE_SCHEMA, orient="row")
    decided = decide({0: 40, 1: 0}, failures)

    assert decided.select("_file", "rows", "error_rows", "warning_rows", "quarantined").rows() == [
        (0, 40, 2, 1, False),
        (1, 0, 0, 0, False),
    ]
    assert decide({0: 39}, failures, threshold=0.05)["quarantined"].to_list() == [True]
    assert decide({0: 40}, failures, threshold=0.05)["quarantined"].to_list() == [False]


def test_gate_functions_do_not_import_gx_until_a_suite_runs() -> None:
    import subprocess
    import sys

    code = "import sys, cpmds.gates; print('great_expectations' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert result.stdout.strip() == "False"
