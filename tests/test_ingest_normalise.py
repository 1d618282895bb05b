"""Typing a string frame per the contract (extracts.md, "Formats" and "Identifiers").

Valid CHIs used below, check digit = 11 - (sum of digit x weight over the first nine, mod 11), with
11 meaning 0 and 10 meaning no valid CHI; weights 10 9 8 7 6 5 4 3 2:

- 010101 123 7: 0*10 + 1*9 + 0*8 + 1*7 + 0*6 + 1*5 + 1*4 + 2*3 + 3*2 = 37; 37 mod 11 = 4;
  11 - 4 = 7. Born 01/01/(20)01, ninth digit 3 is odd: male.
- 150312 456 8: 10 + 45 + 0 + 21 + 6 + 10 + 16 + 15 + 12 = 135; 135 mod 11 = 3; 11 - 3 = 8.
  Born 15/03/(20)12, ninth digit 6 is even: female.
- 010101 121 0: 0 + 9 + 0 + 7 + 0 + 5 + 4 + 6 + 2 = 33; 33 mod 11 = 0; 11 - 0 = 11, written 0.
- 010101 127 x: 31 (the first eight, as above) + 7*2 = 45; 45 mod 11 = 1; 11 - 1 = 10:
  no check digit fits, always invalid.
- 290200 123 1: 20 + 81 + 0 + 14 + 0 + 0 + 4 + 6 + 6 = 131; 131 mod 11 = 10; 11 - 10 = 1.
  29 February (20)00 exists; 29 February 1900 does not.
- 310224 123 9: 30 + 9 + 0 + 14 + 12 + 20 + 4 + 6 + 6 = 101; 101 mod 11 = 2; 11 - 2 = 9:
  the check digit fits but 31 February is no date.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from polars.testing import assert_frame_equal

from cpmds.contract import load_contract
from cpmds.ingest import (
    FAILURE_SCHEMA,
    FileRead,
    Normalised,
    normalise_frame,
    normalise_frames,
    read_delivery,
)

CONTRACT = load_contract()
MEDICALS = CONTRACT.dataset_by_id["health__cp_medicals"]
REGISTRATIONS = CONTRACT.dataset_by_id["sw__registrations"]
OFFENCES = CONTRACT.dataset_by_id["police__offences"]
POPULATION = CONTRACT.dataset_by_id["nrs__population"]
REFERRALS = CONTRACT.dataset_by_id["scra__referrals"]
SUBMITTED = dt.date(2024, 7, 5)

GOOD_MEDICAL = {
    "exam_id": "E1",
    "chi": "0101011237",
    "exam_date": "2024-06-01",
    "council_code": "S12000036",
    "exam_type": "JPF",
    "ird_linked": "Y",
}


def _frame(rows: list[dict[str, str | None]]) -> pl.DataFrame:
    """Rows as ``read_delivery`` gives them: strings, numbered from Excel row 2."""
    numbered = [{"_row": index, **row} for index, row in enumerate(rows, start=2)]
    return pl.DataFrame(numbered, schema_overrides={"_row": pl.Int64}, infer_schema_length=None)


def _medicals(submitted: dt.date = SUBMITTED, **changes: str | None) -> Normalised:
    return normalise_frame(_frame([GOOD_MEDICAL | changes]), MEDICALS, submitted)


def _problems(result: Normalised) -> list[tuple[int, str, str, str]]:
    return [tuple(row) for row in result.failures.iter_rows()]


def _single(column: str, value: str | None, **other: str | None) -> tuple[object, list]:
    result = _medicals(**{column: value}, **other)
    return result.frame[column][0], _problems(result)


def test_a_good_row_is_typed_without_failures() -> None:
    result = _medicals()

    assert result.failures.is_empty()
    assert result.failures.schema == pl.Schema(FAILURE_SCHEMA)
    assert result.frame.schema == pl.Schema(
        {
            "_row": pl.Int64,
            "exam_id": pl.Utf8,
            "chi": pl.Utf8,
            "chi__valid": pl.Boolean,
            "chi__birth_month": pl.Date,
            "chi__sex": pl.Utf8,
            "exam_date": pl.Date,
            "council_code": pl.Utf8,
            "exam_type": pl.Utf8,
            "ird_linked": pl.Boolean,
            "deleted": pl.Boolean,
        }
    )
    assert result.frame.row(0) == (
        2,
        "E1",
        "0101011237",
        True,
        dt.date(2001, 1, 1),
        "M",
        dt.date(2024, 6, 1),
        "S12000036",
        "JPF",
        True,
        False,
    )


@pytest.mark.parametrize("token", ["", "  ", "NULL", "null", "N/A", "n/a", "NA", "na", " - "])
def test_missing_tokens_are_null(token: str) -> None:
    value, problems = _single("ird_linked", token)

    assert value is None
    assert problems == []


def test_text_is_trimmed() -> None:
    assert _single("exam_id", "  E1 \t") == ("E1", [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-06-01", dt.date(2024, 6, 1)),
        ("01/06/2024", dt.date(2024, 6, 1)),
        ("2024-06-01 00:00:00", dt.date(2024, 6, 1)),
        ("01/06/2024 00:00:00", dt.date(2024, 6, 1)),
        ("29/02/2024", dt.date(2024, 2, 29)),
    ],
)
def test_dates_in_either_format(text: str, expected: dt.date) -> None:
    assert _single("exam_date", text) == (expected, [])


@pytest.mark.parametrize(
    "text",
    [
        "31/02/2024",
        "29/02/2023",
        "2024-13-01",
        "24-06-01",
        "1/6/2024",
        "06/01/24",
        "2024-06-01 14:30:00",
        "soon",
    ],
)
def test_a_bad_date_fails_its_cell(text: str) -> None:
    assert _single("exam_date", text) == (None, [(2, "exam_date", "bad_date", "error")])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Y", True),
        ("yes", True),
        ("1", True),
        ("TRUE", True),
        ("n", False),
        ("No", False),
        ("0", False),
        ("False", False),
    ],
)
def test_booleans(text: str, expected: bool) -> None:
    assert _single("ird_linked", text) == (expected, [])


@pytest.mark.parametrize("text", ["maybe", "2", "T"])
def test_a_bad_boolean_fails_its_cell(text: str) -> None:
    assert _single("ird_linked", text) == (None, [(2, "ird_linked", "bad_bool", "error")])


def test_codes_are_case_insensitive() -> None:
    assert _single("exam_type", "jpf") == ("JPF", [])


def test_a_synonym_is_read_as_its_code() -> None:
    result = normalise_frame(
        _frame([{"council_code": "S12000036", "sex": "female", "age": "3", "population": "10"}]),
        POPULATION,
        SUBMITTED,
    )

    assert result.frame["sex"].to_list() == ["F"]
    assert result.failures.is_empty()


def test_a_code_outside_the_columns_allowed_codes_fails() -> None:
    result = normalise_frame(
        _frame([{"council_code": "S12000036", "sex": "U", "age": "3", "population": "10"}]),
        POPULATION,
        SUBMITTED,
    )

    assert _problems(result) == [(2, "sex", "bad_code", "error")]


def test_an_unknown_code_fails_its_cell() -> None:
    assert _single("exam_type", "XRAY") == (None, [(2, "exam_type", "bad_code", "error")])


@pytest.mark.parametrize(
    ("retired", "current"), [("S12000015", "S12000047"), ("s12000046", "S12000049")]
)
def test_a_retired_council_code_is_mapped_to_the_current_one(retired: str, current: str) -> None:
    assert _single("council_code", retired) == (current, [])


def _registration(concerns: str | None, **changes: str | None) -> dict[str, str | None]:
    return {
        "registration_id": "R1",
        "child_id": "C1",
        "registration_date": "2024-06-01",
        "deregistration_date": None,
        "deregistration_reason": None,
        "concerns": concerns,
    } | changes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DA", ["DA"]),
        ("da|neg", ["DA", "NEG"]),
        ("DA; NEG ;pmh", ["DA", "NEG", "PMH"]),
        ("DA|NEG;DA|", ["DA", "NEG"]),
    ],
)
def test_multi_valued_codes_become_a_list(text: str, expected: list[str]) -> None:
    result = normalise_frame(_frame([_registration(text)]), REGISTRATIONS, SUBMITTED)

    assert result.frame["concerns"].to_list() == [expected]
    assert result.frame.schema["concerns"] == pl.List(pl.Utf8)
    assert result.failures.is_empty()


def test_one_unknown_element_fails_the_multi_valued_cell() -> None:
    result = normalise_frame(_frame([_registration("DA|WORRY")]), REGISTRATIONS, SUBMITTED)

    assert result.frame["concerns"].to_list() == [None]
    assert _problems(result) == [(2, "concerns", "bad_code", "error")]


@pytest.mark.parametrize("text", [None, "NULL", " | ; "])
def test_a_blank_required_multi_valued_cell_is_missing(text: str | None) -> None:
    result = normalise_frame(_frame([_registration(text)]), REGISTRATIONS, SUBMITTED)

    assert _problems(result) == [(2, "concerns", "required_missing", "error")]


def _offence(**changes: str | None) -> dict[str, str | None]:
    return {
        "crime_id": "CR1",
        "victim_no": "2",
        "recorded_date": "2024-06-01",
        "council_code": "S12000036",
        "victim_chi": None,
        "victim_age": "7",
        "offence_group": "SEX",
        "reported_to_pf": "N",
    } | changes


def _offences(**changes: str | None) -> Normalised:
    return normalise_frame(_frame([_offence(**changes)]), OFFENCES, SUBMITTED)


def test_integers_are_typed() -> None:
    result = _offences(victim_age="0")

    assert result.frame.select("victim_no", "victim_age").row(0) == (2, 0)
    assert result.frame.schema["victim_age"] == pl.Int64
    assert result.failures.is_empty()


def test_a_blank_integer_takes_its_blank_means_default() -> None:
    result = _offences(victim_no="")

    assert result.frame["victim_no"].to_list() == [1]
    assert result.failures.is_empty()


@pytest.mark.parametrize(
    ("changes", "column", "problem"),
    [
        ({"victim_age": "seven"}, "victim_age", "bad_integer"),
        ({"victim_age": "7.5"}, "victim_age", "bad_integer"),
        ({"victim_age": "18"}, "victim_age", "out_of_range"),
        ({"victim_age": "-1"}, "victim_age", "out_of_range"),
        ({"victim_no": "0"}, "victim_no", "out_of_range"),
        ({"victim_age": None}, "victim_age", "required_missing"),
    ],
)
def test_a_bad_integer_fails_its_cell(changes: dict[str, str], column: str, problem: str) -> None:
    result = _offences(**changes)

    assert result.frame[column].to_list() == [None]
    assert _problems(result) == [(2, column, problem, "error")]


def test_a_blank_required_cell_is_an_error() -> None:
    assert _single("exam_date", "N/A") == (None, [(2, "exam_date", "required_missing", "error")])


def test_required_with_applies_only_when_its_column_is_set() -> None:
    rows = [
        _registration("DA", deregistration_date="2024-06-20"),
        _registration("DA", deregistration_date="2024-06-20", deregistration_reason="rr"),
        _registration("DA"),
    ]

    result = normalise_frame(_frame(rows), REGISTRATIONS, SUBMITTED)

    assert _problems(result) == [(2, "deregistration_reason", "required_with_missing", "error")]
    assert result.frame["deregistration_reason"].to_list() == [None, "RR", None]


def test_a_decision_needs_its_date() -> None:
    referral = {
        "referral_id": "F1",
        "council_code": "S12000036",
        "referral_date": "2024-06-01",
        "referral_source": "POL",
        "grounds": "a;J",
        "decision": "HRG",
    }

    result = normalise_frame(_frame([referral]), REFERRALS, SUBMITTED)

    assert result.frame["grounds"].to_list() == [["a", "j"]]
    assert _problems(result) == [(2, "decision_date", "required_with_missing", "error")]


def test_the_deletion_flag_is_a_boolean_defaulting_to_false() -> None:
    rows = [_registration("DA", deleted="Y"), _registration("DA", deleted=None)]

    result = normalise_frame(_frame(rows), REGISTRATIONS, SUBMITTED)

    assert result.frame["deleted"].to_list() == [True, False]
    assert result.failures.is_empty()


def test_a_frame_without_a_deletion_column_is_not_deleted() -> None:
    result = normalise_frame(_frame([_registration("DA")]), REGISTRATIONS, SUBMITTED)

    assert result.frame["deleted"].to_list() == [False]


def test_a_bad_deletion_flag_fails() -> None:
    result = normalise_frame(
        _frame([_registration("DA", deleted="gone")]), REGISTRATIONS, SUBMITTED
    )

    assert result.frame["deleted"].to_list() == [None]
    assert _problems(result) == [(2, "deleted", "bad_bool", "error")]


def test_a_deletion_row_needs_only_its_key() -> None:
    deletion = {"registration_id": "R1", "deleted": "Y"}
    keyless = {"registration_id": None, "deleted": "Y"}

    result = normalise_frame(_frame([deletion, keyless]), REGISTRATIONS, SUBMITTED)

    assert _problems(result) == [(3, "registration_id", "required_missing", "error")]


@pytest.mark.parametrize(
    ("text", "chi", "birth_month", "sex"),
    [
        ("0101011237", "0101011237", dt.date(2001, 1, 1), "M"),
        ("1503124568", "1503124568", dt.date(2012, 3, 1), "F"),
        ("0101011210", "0101011210", dt.date(2001, 1, 1), "M"),
        ("2902001231", "2902001231", dt.date(2000, 2, 1), "M"),
        ("101011237", "0101011237", dt.date(2001, 1, 1), "M"),
        ("010101-1237", "0101011237", dt.date(2001, 1, 1), "M"),
        ("010 101 1237", "0101011237", dt.date(2001, 1, 1), "M"),
        (" 150-312-4568 ", "1503124568", dt.date(2012, 3, 1), "F"),
    ],
)
def test_a_valid_chi_is_normalised_and_described(
    text: str, chi: str, birth_month: dt.date, sex: str
) -> None:
    result = _medicals(chi=text)

    row = result.frame.select("chi", "chi__valid", "chi__birth_month", "chi__sex").row(0)
    assert row == (chi, True, birth_month, sex)
    assert result.failures.is_empty()


@pytest.mark.parametrize(
    "text",
    [
        "0101011232",  # check digit should be 7
        "0101011270",  # the weighted sum leaves 10: no digit fits
        "3102241239",  # check digit fits, 31 February does not exist
        "01010112370",  # eleven digits
        "1010112",  # seven digits, too short to pad
        "01010112A7",
        "0101011237/1",
    ],
)
def test_an_invalid_chi_is_a_warning_and_treated_as_missing(text: str) -> None:
    result = _medicals(chi=text)

    row = result.frame.select("chi", "chi__valid", "chi__birth_month", "chi__sex").row(0)
    assert row == (None, False, None, None)
    assert _problems(result) == [(2, "chi", "chi_invalid", "warning")]


def test_a_blank_chi_is_neither_valid_nor_invalid() -> None:
    result = _medicals(chi="NULL")

    assert result.frame.select("chi", "chi__valid").row(0) == (None, None)
    assert result.failures.is_empty()


@pytest.mark.parametrize(
    ("submitted", "birth_month"),
    [
        (dt.date(2012, 3, 15), dt.date(2012, 3, 1)),  # born that day: this century
        (dt.date(2012, 3, 14), dt.date(1912, 3, 1)),  # would be born tomorrow: last century
        (dt.datetime(2012, 3, 15, 9, 0), dt.date(2012, 3, 1)),
    ],
)
def test_the_chi_century_is_the_latest_not_after_submission(
    submitted: dt.date, birth_month: dt.date
) -> None:
    result = _medicals(submitted=submitted, chi="1503124568")

    assert result.frame["chi__birth_month"].to_list() == [birth_month]


def test_a_leap_day_that_only_exists_in_a_later_century_is_invalid() -> None:
    result = _medicals(submitted=dt.date(1999, 12, 31), chi="2902001231")

    assert result.frame["chi__valid"].to_list() == [False]


def test_every_chi_column_is_checked() -> None:
    result = _offences(victim_chi="1503124567")

    assert result.frame["victim_chi__valid"].to_list() == [False]
    assert _problems(result) == [(2, "victim_chi", "chi_invalid", "warning")]


def test_failures_never_carry_a_value() -> None:
    result = _medicals(
        chi="0101011232", exam_id=None, exam_date="31/02/2024", exam_type="0101011237"
    )

    assert result.failures.columns == list(FAILURE_SCHEMA)
    cells = {str(cell) for row in result.failures.iter_rows() for cell in row}
    assert not cells & {"0101011232", "0101011237", "31/02/2024"}
    assert _problems(result) == [
        (2, "exam_id", "required_missing", "error"),
        (2, "chi", "chi_invalid", "warning"),
        (2, "exam_date", "bad_date", "error"),
        (2, "exam_type", "bad_code", "error"),
    ]


def test_failures_are_listed_by_row_then_column() -> None:
    rows = [
        GOOD_MEDICAL | {"exam_type": "?"},
        GOOD_MEDICAL,
        GOOD_MEDICAL | {"exam_id": "", "ird_linked": "?"},
    ]

    result = normalise_frame(_frame(rows), MEDICALS, SUBMITTED)

    assert _problems(result) == [
        (2, "exam_type", "bad_code", "error"),
        (4, "exam_id", "required_missing", "error"),
        (4, "ird_linked", "bad_bool", "error"),
    ]
    assert result.frame["_row"].to_list() == [2, 3, 4]


def test_an_empty_frame_types_to_an_empty_frame() -> None:
    empty = pl.DataFrame(schema={"_row": pl.Int64, **dict.fromkeys(MEDICALS.column_names, pl.Utf8)})

    result = normalise_frame(empty, MEDICALS, SUBMITTED)

    assert result.frame.height == 0
    assert result.frame.schema["exam_date"] == pl.Date
    assert result.failures.is_empty()


def test_several_files_typed_together_give_each_files_own_result() -> None:
    first = _frame([GOOD_MEDICAL | {"chi": "1503124568"}, GOOD_MEDICAL | {"exam_type": "?"}])
    empty = _frame([GOOD_MEDICAL]).clear()
    third = _frame([GOOD_MEDICAL | {"chi": "1503124568", "ird_linked": "?"}])
    deliveries = [
        (first, dt.date(2024, 7, 5)),
        (empty, dt.date(2024, 7, 5)),
        (third, dt.date(2012, 3, 1)),
    ]

    together = normalise_frames(deliveries, MEDICALS)

    assert len(together) == 3
    for result, (frame, submitted) in zip(together, deliveries, strict=True):
        alone = normalise_frame(frame, MEDICALS, submitted)
        assert_frame_equal(result.frame, alone.frame)
        assert_frame_equal(result.failures, alone.failures)
    # Each file's own submission date picks its CHI century.
    assert together[0].frame["chi__birth_month"][0] == dt.date(2012, 3, 1)
    assert together[2].frame["chi__birth_month"][0] == dt.date(1912, 3, 1)
    assert _problems(together[2]) == [(2, "ird_linked", "bad_bool", "error")]


def test_no_files_give_no_results() -> None:
    assert normalise_frames([], MEDICALS) == []


def test_a_spreadsheet_read_types_end_to_end(tmp_path: Path) -> None:
    workbook = xlsxwriter.Workbook(tmp_path / "cp_medicals_202406_202407051430.xlsx")
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["Exam ID", "CHI", "Exam Date", "Council Code", "Exam Type", "Deleted"])
    sheet.write_row(1, 0, ["E1", 101011237])  # the CHI's leading zero lost to a number cell
    sheet.write_datetime(
        1, 2, dt.datetime(2024, 6, 1), workbook.add_format({"num_format": "d/m/yy"})
    )
    sheet.write_row(1, 3, ["s12000046", "cmp", "n"])
    workbook.close()
    read = read_delivery(tmp_path / "cp_medicals_202406_202407051430.xlsx", MEDICALS)
    assert isinstance(read, FileRead)

    result = normalise_frame(read.frame, MEDICALS, SUBMITTED)

    assert result.failures.is_empty()
    assert result.frame.select(
        "_row", "chi", "chi__valid", "exam_date", "council_code", "exam_type", "deleted"
    ).row(0) == (2, "0101011237", True, dt.date(2024, 6, 1), "S12000049", "CMP", False)
