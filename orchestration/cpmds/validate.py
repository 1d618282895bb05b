"""``cpmds validate``: a partner's self-check of extracts before sending them.

Gates 1 and 2 run on the files through :func:`cpmds.gates.check.check_files`, the function the
pipeline's ingest runs, with the same suites: no state store, no key, no Dagster instance, nothing
written but the optional error report. A file is judged by its place and name in the landing zone
(``<partner>/<org>/<file name>``): the last three parts of its path, or the path given with
``--as`` for a file not yet renamed.

What is shown or written names the file, the row (as Excel numbers it: the header is row 1, the
first data row is row 2, which is how the pipeline numbers rows too), the column, the rule, its
severity and its fixed message; never a value from the file, and never a header as delivered (an
unknown column is given by its position).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath

import polars as pl

from cpmds.gates.check import CheckedFiles, FileToCheck, Verdict, check_files
from cpmds.gates.findings import FILE_ID, ROW
from cpmds.gates.registry import Registry, load_rules
from cpmds.publish.outputs import neutralise

REPORT_FORMATS = ("csv", "xlsx")
REPORT_COLUMNS = ("file", "row", "column", "rule", "severity", "message")
LANDING_ZONE = "raw"
SEVERITY_ORDER = {"error": 0, "warning": 1}
PLACE_AND_NAME_RULES = (
    "bad_layout",
    "bad_file_name",
    "unknown_partner",
    "unknown_dataset",
    "org_not_allowed",
    "bad_period",
    "wrong_period_month",
    "bad_submission",
    "unsupported_extension",
)
"""Rule kinds about where a file lies and what it is called: a file kept elsewhere, or not yet
renamed, breaks them until it is checked under its landing-zone name (``--as``)."""


class UsageError(ValueError):
    """The command was given something it cannot work with (exit status 2)."""


@dataclass(frozen=True)
class CheckedFile:
    path: Path
    """As the user named it."""
    name: PurePosixPath
    """The landing-zone path it was judged by."""
    verdict: Verdict
    findings: tuple[dict, ...]
    """Report rows (:data:`REPORT_COLUMNS` without ``file``), in row order."""

    @property
    def would_load(self) -> bool:
        return self.verdict.status == "loaded"

    @property
    def clean(self) -> bool:
        """Would load with every row: the partner has nothing to fix."""
        return self.would_load and self.verdict.error_rows == 0

    def describe(self, registry: Registry) -> str:
        lines = [f"{self.path}: {self._outcome()}"]
        if PurePosixPath(self.path.as_posix()).parts[-3:] != self.name.parts[-3:]:
            lines.append(f"  checked as {LANDING_ZONE}/{self.name}")
        if self.verdict.rows is not None and not self.verdict.passed_gate_file:
            lines.append(
                f"  {self.verdict.rows:,} data rows, not checked row by row: the file fails a "
                "file check"
            )
        elif self.verdict.rows is not None:
            lines.append(
                f"  {self.verdict.rows:,} data rows; {self.verdict.error_rows:,} with errors, "
                f"{self.verdict.warning_rows:,} with warnings only"
            )
        counts = Counter(
            (finding["severity"], finding["rule"], finding["column"] or "")
            for finding in self.findings
        )
        for (severity, rule, column), count in sorted(
            counts.items(), key=lambda item: (SEVERITY_ORDER[item[0][0]], item[0][1], item[0][2])
        ):
            where = f" [{column}]" if column else ""
            times = f"{count:,} time{'s' if count != 1 else ''}"
            lines.append(
                f"  {severity:<7} {rule:<11} {times:>10}{where}: {registry.by_code[rule].message}"
            )
        if not self.would_load and self._layout_refused(registry):
            lines.append(
                "  (a file is judged by its folder and name in the landing zone; check one kept "
                f"elsewhere or not yet renamed with --as {LANDING_ZONE}/<partner>/<org_code>/"
                "<file name>)"
            )
        return "\n".join(lines)

    def _outcome(self) -> str:
        verdict = self.verdict
        if verdict.status == "quarantined":
            return f"would be QUARANTINED ({verdict.reason}): nothing of it would load"
        if verdict.error_rows:
            rows = f"{verdict.error_rows:,} row{'s' if verdict.error_rows != 1 else ''}"
            return f"would load WITHOUT its {rows} with errors"
        return "would load"

    def _layout_refused(self, registry: Registry) -> bool:
        place = {registry.file_rule(kind).code for kind in PLACE_AND_NAME_RULES}
        return bool(place & {finding["rule"] for finding in self.findings})


@dataclass(frozen=True)
class Validation:
    files: tuple[CheckedFile, ...]

    @property
    def exit_code(self) -> int:
        """0 when every file would load whole, 1 when any would be quarantined or lose rows."""
        return 0 if all(file.clean for file in self.files) else 1

    def describe(self, registry: Registry | None = None) -> str:
        registry = registry or load_rules()
        quarantined = sum(file.verdict.status == "quarantined" for file in self.files)
        partly = sum(file.would_load and not file.clean for file in self.files)
        whole = len(self.files) - quarantined - partly
        summary = (
            f"{len(self.files)} file(s): {whole} would load, {partly} would load without some "
            f"rows, {quarantined} would be quarantined."
        )
        return "\n".join([*(file.describe(registry) for file in self.files), summary])

    def report_rows(self) -> list[tuple]:
        return [
            (str(file.path), *(finding[column] for column in REPORT_COLUMNS[1:]))
            for file in self.files
            for finding in file.findings
        ]


def landing_name(path: Path, as_path: str | None = None) -> PurePosixPath:
    """The landing-zone path a file is judged by: ``as_path`` (``raw/`` first or not), else the
    last three parts of where it lies (``<partner>/<org_code>/<file name>``)."""
    if as_path is not None:
        parts = PurePosixPath(PurePath(as_path).as_posix()).parts
        if parts and parts[0] == LANDING_ZONE:
            parts = parts[1:]
        return PurePosixPath(*parts) if parts else PurePosixPath()
    return PurePosixPath(*path.absolute().parts[-3:])


def validate(paths: Sequence[Path], as_path: str | None = None) -> Validation:
    """Gates 1 and 2 on ``paths``; ``as_path`` names the single file's landing-zone path."""
    if not paths:
        raise UsageError("name at least one file to check")
    if as_path is not None and len(paths) != 1:
        raise UsageError("--as names one file's landing-zone path: give exactly one FILE with it")
    for path in paths:
        if not path.is_file():
            raise UsageError(f"{path} is not a file")
    registry = load_rules()
    to_check = [
        FileToCheck(file_id=index, path=path.absolute(), name=landing_name(path, as_path))
        for index, path in enumerate(paths)
    ]
    checked = check_files(to_check, Path.cwd(), registry=registry)
    undecided = [v for v in checked.verdicts if v.status == "undecided"]
    if undecided:
        reasons = "; ".join(f"{paths[v.file_id]}: {v.gate.error}" for v in undecided)
        raise UsageError(f"could not read {reasons}")
    return Validation(
        tuple(
            CheckedFile(
                path=path,
                name=file.name,  # type: ignore[arg-type]
                verdict=verdict,
                findings=tuple(_findings(verdict, checked, registry)),
            )
            for path, file, verdict in zip(paths, to_check, checked.verdicts, strict=True)
        )
    )


def _findings(verdict: Verdict, checked: CheckedFiles, registry: Registry) -> list[dict]:
    """A file's report rows: gate 1's findings (a header finding on row 1; an unknown column by
    its position, since its header text is the partner's data), gate 2's row failures, and the
    rule that quarantined the file for its share of error rows, sorted by row."""
    rows = [
        {
            "row": finding.row
            if finding.row is not None
            else (1 if finding.column or finding.position else None),
            "column": finding.column
            or (f"column {finding.position}" if finding.position else None),
            "rule": finding.rule,
            "severity": finding.severity,
            "message": finding.message,
        }
        for finding in verdict.gate.findings
    ]
    if verdict.gate.delivery is not None:
        failures = checked.row_failures.get(verdict.gate.delivery.dataset_id)
        if failures is not None:
            mine = failures.filter(pl.col(FILE_ID) == verdict.file_id)
            rows += [
                {
                    "row": row[ROW],
                    "column": row["column"],
                    "rule": row["rule"],
                    "severity": row["severity"],
                    "message": row["message"],
                }
                for row in mine.iter_rows(named=True)
            ]
    if verdict.passed_gate_file and verdict.status == "quarantined" and verdict.reason:
        rule = registry.by_code[verdict.reason]
        rows.append(
            {
                "row": None,
                "column": None,
                "rule": rule.code,
                "severity": rule.severity,
                "message": rule.message,
            }
        )
    return sorted(rows, key=lambda r: (r["row"] or 0, r["column"] or "", r["rule"]))


def report_format(path: Path) -> str:
    """``csv`` or ``xlsx`` from the report's name; :class:`UsageError` for anything else."""
    kind = path.suffix.lower().removeprefix(".")
    if kind not in REPORT_FORMATS:
        raise UsageError(f"--report {path}: name a .csv or .xlsx file")
    if not path.absolute().parent.is_dir():
        raise UsageError(f"--report {path}: its folder does not exist")
    return kind


def write_report(validation: Validation, path: Path) -> Path:
    """Every finding, one per line: file, Excel row, column, rule, severity, message."""
    rows = validation.report_rows()
    if report_format(path) == "csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(REPORT_COLUMNS)
            for row in rows:
                writer.writerow(["" if cell is None else neutralise(str(cell)) for cell in row])
        return path
    _write_workbook(rows, path)
    return path


def _write_workbook(rows: list[tuple], path: Path) -> None:
    import xlsxwriter

    # Cells are written as strings or numbers explicitly: a file name starting with "=" stays text.
    options = {"strings_to_formulas": False, "strings_to_urls": False, "constant_memory": True}
    with xlsxwriter.Workbook(str(path), options) as workbook:
        sheet = workbook.add_worksheet("errors")
        sheet.set_column(0, 0, 60)
        sheet.set_column(2, 2, 24)
        sheet.set_column(5, 5, 90)
        bold = workbook.add_format({"bold": True})
        for column, heading in enumerate(REPORT_COLUMNS):
            sheet.write_string(0, column, heading, bold)
        for number, row in enumerate(rows, start=1):
            for column, cell in enumerate(row):
                if cell is None:
                    continue
                if isinstance(cell, int):
                    sheet.write_number(number, column, cell)
                else:
                    sheet.write_string(number, column, str(cell))
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(len(rows), 1), len(REPORT_COLUMNS) - 1)
