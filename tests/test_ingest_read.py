"""Reading a delivered CSV or XLSX into the dataset's string frame (extracts.md, "Formats")."""

from __future__ import annotations

import codecs
import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from cpmds.contract import load_contract
from cpmds.ingest import FileRead, Rejection, read_delivery
from cpmds.ingest.read import load_delivery, tabulate_deliveries

CONTRACT = load_contract()
MEDICALS = CONTRACT.dataset_by_id["health__cp_medicals"]
CHILDREN = CONTRACT.dataset_by_id["sw__children"]
MEDICALS_HEADER = "exam_id,chi,exam_date,council_code,exam_type,ird_linked"


def _csv(tmp_path: Path, content: bytes, name: str = "file.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _read(path: Path, dataset=MEDICALS) -> FileRead:
    result = read_delivery(path, dataset)
    assert isinstance(result, FileRead), result
    return result


def _rejected(path: Path, dataset=MEDICALS) -> str:
    result = read_delivery(path, dataset)
    assert isinstance(result, Rejection), result
    return result.reason


def test_a_utf8_csv_is_read_as_strings_with_excel_row_numbers(tmp_path: Path) -> None:
    content = f"{MEDICALS_HEADER}\nE1,0101011237,2024-06-01,S12000036,JPF,Y\nE2,,,S12000036,CMP,\n"

    read = _read(_csv(tmp_path, content.encode("utf-8")))

    assert read.encoding == "utf-8"
    assert read.frame.columns == ["_row", *MEDICALS.column_names, "deleted"]
    assert read.frame.schema["_row"] == pl.Int64
    assert all(dtype == pl.Utf8 for name, dtype in read.frame.schema.items() if name != "_row")
    assert read.frame["_row"].to_list() == [2, 3]
    assert read.frame["chi"].to_list() == ["0101011237", None]
    assert read.frame["exam_date"].to_list() == ["2024-06-01", None]
    assert read.frame["deleted"].to_list() == [None, None]
    assert read.column_problems == ()


def test_a_utf8_bom_is_stripped_from_the_first_header(tmp_path: Path) -> None:
    content = codecs.BOM_UTF8 + f"{MEDICALS_HEADER}\nE1,,2024-06-01,S12000036,JPF,Y\n".encode()

    read = _read(_csv(tmp_path, content))

    assert read.encoding == "utf-8-sig"
    assert read.frame["exam_id"].to_list() == ["E1"]
    assert read.column_problems == ()


def test_windows_1252_is_decoded_correctly(tmp_path: Path) -> None:
    content = "child_id,sex,postcode\nC1,M,Ò Baile\n".encode("windows-1252")
    assert b"\xd2" in content  # the one-byte 1252 form, which is not valid UTF-8

    read = _read(_csv(tmp_path, content), CHILDREN)

    assert read.encoding == "windows-1252"
    assert read.frame["postcode"].to_list() == ["Ò Baile"]


def test_utf8_multibyte_text_is_not_mistaken_for_windows_1252(tmp_path: Path) -> None:
    read = _read(_csv(tmp_path, "child_id,sex,postcode\nC1,M,Ò Baile\n".encode()), CHILDREN)

    assert read.encoding == "utf-8"
    assert read.frame["postcode"].to_list() == ["Ò Baile"]


def test_crlf_line_ends_and_quoted_commas_and_newlines(tmp_path: Path) -> None:
    content = b'child_id,sex,postcode\r\n"C,1",M,"EH1\r\n1AA"\r\nC2,F,"say ""hi"""\r\nC3,U,EH2\r\n'

    read = _read(_csv(tmp_path, content), CHILDREN)

    assert read.frame["child_id"].to_list() == ["C,1", "C2", "C3"]
    assert read.frame["postcode"].to_list() == ["EH1\r\n1AA", 'say "hi"', "EH2"]
    # A quoted line break stays inside its record, as Excel shows it: rows 2, 3, 4.
    assert read.frame["_row"].to_list() == [2, 3, 4]
    assert read.frame["sex"].to_list() == ["M", "F", "U"]


@pytest.mark.parametrize(
    "child_id_header", ["child_id", "Child ID", "child-id", "CHILD_ID", "Child.Id"]
)
def test_header_variants_map_to_the_contract_name(tmp_path: Path, child_id_header: str) -> None:
    content = f"{child_id_header},SEX, Date Of Birth ,Deleted\nC1,M,2010-01-01,N\n".encode()

    read = _read(_csv(tmp_path, content), CHILDREN)

    assert read.frame.row(0, named=True) | {"_row": None} == {
        "_row": None,
        "child_id": "C1",
        "chi": None,
        "date_of_birth": "2010-01-01",
        "expected_date_of_birth": None,
        "sex": "M",
        "ethnicity": None,
        "disability": None,
        "postcode": None,
        "deleted": "N",
    }
    assert read.header_ok


def test_an_unknown_extra_column_is_dropped_with_a_warning(tmp_path: Path) -> None:
    content = b"child_id,sex,favourite_colour\nC1,M,blue\n"

    read = _read(_csv(tmp_path, content), CHILDREN)

    assert "favourite_colour" not in read.frame.columns
    assert read.unknown_columns == ("favourite_colour",)
    (problem,) = read.column_problems
    assert (problem.severity, problem.position) == ("warning", 3)
    assert read.header_ok


def test_an_unnamed_empty_trailing_column_is_not_reported(tmp_path: Path) -> None:
    read = _read(_csv(tmp_path, b"child_id,sex,\nC1,M,\n"), CHILDREN)

    assert read.column_problems == ()


def test_a_missing_required_column_is_reported(tmp_path: Path) -> None:
    read = _read(_csv(tmp_path, b"child_id,chi\nC1,0101011237\n"), CHILDREN)

    assert read.missing_required_columns == ("sex",)
    assert not read.header_ok
    assert read.frame["sex"].to_list() == [None]


def test_a_column_named_twice_is_reported(tmp_path: Path) -> None:
    read = _read(_csv(tmp_path, b"child_id,sex,Child ID\nC1,M,C2\n"), CHILDREN)

    assert read.duplicate_columns == ("child_id",)
    assert not read.header_ok
    assert read.frame["child_id"].to_list() == ["C1"]


def test_a_header_only_file_is_a_valid_empty_table(tmp_path: Path) -> None:
    read = _read(_csv(tmp_path, b"child_id,sex\r\n"), CHILDREN)

    assert read.frame.height == 0
    assert read.frame.columns == ["_row", *CHILDREN.column_names, "deleted"]
    assert read.header_ok


def test_blank_rows_are_dropped_but_keep_the_numbering(tmp_path: Path) -> None:
    read = _read(_csv(tmp_path, b"child_id,sex\nC1,M\n\n , \nC2,F\n,\n"), CHILDREN)

    assert read.frame["child_id"].to_list() == ["C1", "C2"]
    assert read.frame["_row"].to_list() == [2, 5]
    assert read.blank_rows_dropped == 3


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "no_header_row"),
        (b"  \r\n\n", "no_header_row"),
        (b"\nchild_id,sex\nC1,M\n", "no_header_row"),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\x81\x8d", "undecodable"),
        (b"child_id,sex\nC1,M\x81\n", "undecodable"),
        # Excel's "Unicode text" is UTF-16: every byte is Windows-1252, but NULs give it away.
        ("child_id,sex\nC1,M\n".encode("utf-16"), "undecodable"),
        (codecs.BOM_UTF8 + b"child_id,sex\nC1,\xd2\n", "undecodable"),
        (b"child_id,sex\nC1,M,extra\n", "malformed_csv"),
    ],
)
def test_a_csv_that_cannot_be_read_is_rejected(tmp_path: Path, content: bytes, reason: str) -> None:
    assert _rejected(_csv(tmp_path, content), CHILDREN) == reason


def test_a_parse_failure_never_quotes_the_file(tmp_path: Path) -> None:
    result = read_delivery(_csv(tmp_path, b"child_id,sex\n0101011237,M,extra\n"), CHILDREN)

    assert isinstance(result, Rejection)
    assert "0101011237" not in result.message


def test_an_unknown_extension_is_rejected(tmp_path: Path) -> None:
    assert _rejected(_csv(tmp_path, b"child_id,sex\n", name="file.txt")) == "unsupported_extension"


def _workbook(path: Path, rows: list[list[object]], first_row: int = 0) -> Path:
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("Medicals")
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    for offset, row in enumerate(rows):
        for column, value in enumerate(row):
            if isinstance(value, dt.datetime):
                sheet.write_datetime(first_row + offset, column, value, date_format)
            elif isinstance(value, bool):
                sheet.write_boolean(first_row + offset, column, value)
            elif isinstance(value, int | float):
                sheet.write_number(first_row + offset, column, value)
            elif value is not None:
                sheet.write_string(first_row + offset, column, value)
    workbook.add_worksheet("Notes").write_string(0, 0, "not the table")
    workbook.close()
    return path


def test_xlsx_cells_come_out_as_text(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "file.xlsx",
        [
            ["Exam ID", "CHI", "Exam Date", "Council Code", "Exam Type", "IRD Linked"],
            # A CHI typed into Excel as a number has lost its leading zero.
            ["E1", 101011237, dt.datetime(2024, 6, 1), "S12000036", "JPF", True],
            ["E2", "0101011237", "01/06/2024", "S12000036", "CMP", "N"],
            [None, None, None, None, None, None],
            ["E4", 42, dt.datetime(2024, 6, 3), "S12000036", "OTH", False],
        ],
    )

    read = _read(path)

    assert read.encoding == "xlsx"
    assert read.frame["_row"].to_list() == [2, 3, 5]
    assert read.frame["exam_id"].to_list() == ["E1", "E2", "E4"]
    assert read.frame["chi"].to_list() == ["101011237", "0101011237", "42"]
    assert [value[:10] for value in read.frame["exam_date"].to_list()] == [
        "2024-06-01",
        "01/06/2024",
        "2024-06-03",
    ]
    assert read.frame["exam_date"][0] in ("2024-06-01", "2024-06-01 00:00:00")
    assert read.frame["ird_linked"].to_list() == ["true", "N", "false"]
    assert read.column_problems == ()


def test_an_xlsx_table_below_row_1_has_no_header_row(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "file.xlsx",
        [
            ["exam_id", "exam_date", "council_code", "exam_type"],
            ["E1", "2024-06-01", "S12000036", "JPF"],
        ],
        first_row=2,
    )

    # The header must be in row 1; a table further down has no header row.
    assert _rejected(path) == "no_header_row"


def test_an_empty_workbook_has_no_header_row(tmp_path: Path) -> None:
    assert _rejected(_workbook(tmp_path / "file.xlsx", [])) == "no_header_row"


def test_a_csv_named_xlsx_is_unreadable(tmp_path: Path) -> None:
    path = _csv(tmp_path, f"{MEDICALS_HEADER}\n".encode(), name="file.xlsx")

    assert _rejected(path) == "unreadable_xlsx"


def test_a_header_only_workbook_is_a_valid_empty_table(tmp_path: Path) -> None:
    read = _read(_workbook(tmp_path / "file.xlsx", [MEDICALS_HEADER.split(",")]))

    assert read.frame.height == 0
    assert read.header_ok


# Files read together (gate 1 reads a chunk of a backfill at once): the same as one by one.
_HEADER = b"child_id,chi,date_of_birth,expected_date_of_birth,sex,ethnicity,disability,postcode"
_BODIES = [
    b"C1,0101011237,2010-01-01,,M,,,AB1 2CD\nC2,,,,F,,,\n",
    b"C1,,,,M,,,",  # no line end after the last row
    b"\n  \n,,,,,,,\nC3,,,,M,,,\n\n\n",  # blank rows, and blank lines at the end
    b'"C,4",,,,M,,,\n"C\n5",,,,F,,,\n"C""6",,,,,,,\n',  # quoted commas, line ends, quotes
    b"C7,,,,M,,,\r\nC8,,,,F,,,\r\n",
    b"C9,,,,M\n",  # a short row
    b"C10,,,,M,,,,extra\n",  # a long row: malformed
    b'"C11,,,,M,,,\n',  # a quote left open: malformed
    b"",  # header only
    b"C12,,,,M,,,\r",  # ends in a bare carriage return
    b"C13,,,,M,,,\n\x1f\x1ecpmds end of file\x1e\x1f\n",  # holds the batch's end-of-file line
]


def _variants() -> list[bytes]:
    files = []
    for header in (_HEADER, _HEADER + b",", _HEADER + b",note", b"CHILD ID,sex,child_id"):
        for body in _BODIES:
            files.append(header + b"\n" + body)
            files.append(codecs.BOM_UTF8 + header + b"\n" + body)
    files.append(_HEADER + b"\n" + "C\u00e9,,,,M,,,\n".encode("windows-1252"))
    files.append(_HEADER + b",\nC14,,,,M,,,,something\n")  # an unnamed column with data
    files += [b"", b"\n" + _HEADER + b"\n", b" , ,\nC1,M,\n", b'"child_id\n",sex\nC1,M\n']
    return files


def test_files_read_together_come_out_as_each_read_alone(tmp_path: Path) -> None:
    paths = [_csv(tmp_path, content, f"file{n}.csv") for n, content in enumerate(_variants())]
    paths.append(_workbook(tmp_path / "book1.xlsx", [MEDICALS_HEADER.split(","), ["E1"]]))
    paths.append(_workbook(tmp_path / "book2.xlsx", [MEDICALS_HEADER.split(","), [], ["E2"]]))
    paths.append(_workbook(tmp_path / "book3.xlsx", [[*MEDICALS_HEADER.split(","), "", "x"]]))
    datasets = [MEDICALS if path.suffix == ".xlsx" else CHILDREN for path in paths]

    alone = [read_delivery(path, dataset) for path, dataset in zip(paths, datasets, strict=True)]
    together = tabulate_deliveries(
        [load_delivery(path, dataset) for path, dataset in zip(paths, datasets, strict=True)]
    )

    assert len(together) == len(alone)
    kinds = set()
    for path, one, batched in zip(paths, alone, together, strict=True):
        if isinstance(one, Rejection):
            assert batched == one, path.name
            kinds.add(one.reason)
            continue
        assert isinstance(batched, FileRead), path.name
        assert batched.frame.schema == one.frame.schema, path.name
        assert batched.frame.equals(one.frame), path.name
        assert batched.column_problems == one.column_problems, path.name
        assert (batched.encoding, batched.blank_rows_dropped) == (
            one.encoding,
            one.blank_rows_dropped,
        ), path.name
        kinds.add("read")
    assert kinds == {"read", "malformed_csv", "no_header_row"}
