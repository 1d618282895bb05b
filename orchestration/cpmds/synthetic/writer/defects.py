"""Defects for ``--defects``: a known set of bad inputs, each logged in the defects manifest.

Row errors ride on spurious extra rows (copies of real rows under new keys) and file-level faults on
extra files where they can, so that the truth of the history survives them: a file quarantined for a
missing column or for bytes no encoding reads is sent again, correctly, a few days later. Two
defects do cost data, as they would in life: the month that never arrives, and the file whose rows
are mostly bad (quarantined, not resent). The CHI with a wrong check digit sits on a real row: it is
a warning, the row is kept, and that CHI is unusable for linkage.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from cpmds.contract import Column, Contract, Dataset
from cpmds.synthetic.options import GenerateOptions
from cpmds.synthetic.writer.deliveries import Delivery
from cpmds.synthetic.writer.noise import KeyMinter, can_mint_keys, insert_row, spurious_copy
from cpmds.synthetic.writer.output import undecodable_bytes
from cpmds.synthetic.writer.randomness import rng_for
from cpmds.synthetic.writer.render import COUNCIL_LIST
from cpmds.synthetic.writer.stamps import later_time

ROWS_FOR_A_FEW_BAD = 40  # a file this long stays under the error threshold with two bad rows
MOSTLY_BAD_SHARE = 0.6
MOSTLY_BAD_MIN_ROWS = 4
RESEND_DAYS = (2, 10)
DUPLICATE_DAYS = (1, 5)
UNKNOWN_ORG = "S12000999"
REGISTRATIONS = "sw__registrations"
DATE_ORDER_GAP_DAYS = 30
FIRST_DATA_ROW = 2  # Excel numbering: the header is row 1

SpuriousRow = tuple[pl.DataFrame, list[str], str | None]


@dataclass
class Defect:
    kind: str
    expected: str  # loaded, quarantined, duplicate, missing
    delivery: Delivery  # the file the entry is about (for a missing month: the one never sent)
    description: str
    severity: str | None = None
    rows: list[int] | None = None
    columns: list[str] | None = None
    real_row: bool | None = None
    replaced_by: Delivery | None = None
    copy_of: Delivery | None = None

    def entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "path": self.delivery.path,
            "kind": self.kind,
            "expected": self.expected,
        }
        optional = {
            "severity": self.severity,
            "rows": self.rows,
            "columns": self.columns,
            "real_row": self.real_row,
            "replaced_by": self.replaced_by.path if self.replaced_by else None,
            "copy_of": self.copy_of.path if self.copy_of else None,
        }
        entry.update({key: value for key, value in optional.items() if value is not None})
        entry["description"] = self.description
        return entry


def chi_check_digit(first_nine: str) -> int | None:
    """The modulus-11 check digit of a CHI (extracts.md, "Identifiers"); None: no valid CHI."""
    weights = range(10, 1, -1)
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, weights, strict=True))
    check = 11 - total % 11
    return 0 if check == 11 else None if check == 10 else check


def with_wrong_check_digit(chi: str) -> str:
    check = chi_check_digit(chi[:9])
    wrong = (int(chi[9]) + 1) % 10 if check is None else (check + 1) % 10
    return chi[:9] + str(wrong)


def impossible_date_text(date_format: str, time_suffix: str, year: int) -> str:
    """The 31st of February, in the sender's own date style."""
    text = date_format.replace("%Y", f"{year:04d}").replace("%m", "02").replace("%d", "31")
    return text + time_suffix


def bad_code(contract: Contract, column: Column) -> str:
    assert column.code_list is not None
    spellings = contract.code_list_by_id[column.code_list].lookup
    value = "XX"
    while value.upper() in spellings:
        value += "X"
    return value


def _expected(error_rows: int, total_rows: int, contract: Contract) -> str:
    threshold = contract.formats.gates["row_error_threshold"]
    return "quarantined" if error_rows / total_rows > threshold else "loaded"


class DefectMaker:
    """Takes each defect's file from those no other event has touched, and logs the defect."""

    def __init__(
        self,
        senders: list[list[Delivery]],
        contract: Contract,
        options: GenerateOptions,
        minter: KeyMinter,
    ) -> None:
        self.senders = senders
        self.contract = contract
        self.options = options
        self.minter = minter
        self.rng = rng_for(options.seed, "defects")
        self.defects: list[Defect] = []

    # -- choosing files ---------------------------------------------------------------------

    def _untouched(self) -> list[Delivery]:
        return [
            delivery
            for deliveries in self.senders
            for delivery in deliveries
            if not delivery.touched and delivery.raw is None and delivery.same_bytes_as is None
        ]

    def _choose(self, candidates: list[Delivery]) -> Delivery | None:
        if not candidates:
            return None
        return candidates[int(self.rng.integers(len(candidates)))]

    def _choose_for_rows(self, candidates: list[Delivery]) -> Delivery | None:
        """A long file where one exists (a CSV by preference), else the longest there is."""
        with_rows = [delivery for delivery in candidates if delivery.rows.height > 0]
        long = [d for d in with_rows if d.rows.height >= ROWS_FOR_A_FEW_BAD]
        long_csv = [d for d in long if d.style.extension == "csv"]
        if long_csv or long:
            return self._choose(long_csv or long)
        return max(with_rows, key=lambda d: d.rows.height, default=None)

    def _sender_of(self, delivery: Delivery) -> list[Delivery]:
        return next(group for group in self.senders if any(d is delivery for d in group))

    def _add_before(self, delivery: Delivery, added: Delivery) -> None:
        group = self._sender_of(delivery)
        group.insert(next(i for i, d in enumerate(group) if d is delivery), added)

    def _resend_later(self, delivery: Delivery, faulty: Delivery) -> None:
        """``faulty`` goes at the original stamp; the correct file follows a few days later."""
        faulty.touched = delivery.touched = True
        delivery.submitted = later_time(self.rng, faulty.submitted, RESEND_DAYS)
        self._add_before(delivery, faulty)

    # -- file-level defects -----------------------------------------------------------------

    def missing_month(self) -> None:
        periods = self.options.periods
        children = self.contract.dataset("sw", "children").id
        candidates = [
            d
            for d in self._untouched()
            if d.dataset.cadence == "monthly"
            and d.dataset.id != children  # its children must be listed on time
            and periods[0] < d.period < periods[-1]
        ]
        if not candidates:
            return
        # The quietest month: the fewer records it holds, the less of the truth is lost.
        fewest = min(d.rows.height for d in candidates)
        chosen = self._choose([d for d in candidates if d.rows.height == fewest])
        assert chosen is not None
        group = self._sender_of(chosen)
        group.remove(chosen)
        self.defects.append(
            Defect(
                kind="missing_month",
                expected="missing",
                delivery=chosen,
                description="This month's file was never delivered (the path it would have had).",
            )
        )

    def missing_required_column(self) -> None:
        def droppable(dataset: Dataset) -> list[str]:
            return [c for c in dataset.required_columns if c not in dataset.key]

        candidates = [d for d in self._untouched() if d.rows.height and droppable(d.dataset)]
        chosen = self._choose(candidates)
        if chosen is None:
            return
        columns = droppable(chosen.dataset)
        column = columns[int(self.rng.integers(len(columns)))]
        faulty = chosen.clone(dropped_columns=(column,))
        self._resend_later(chosen, faulty)
        self.defects.append(
            Defect(
                kind="missing_required_column",
                expected="quarantined",
                delivery=faulty,
                columns=[column],
                replaced_by=chosen,
                description="A required column is missing; the sender resent the file complete.",
            )
        )

    def undecodable(self) -> None:
        candidates = [d for d in self._untouched() if d.rows.height and d.style.extension == "csv"]
        chosen = self._choose(candidates)
        if chosen is None:
            return
        faulty = chosen.clone(raw=undecodable_bytes(self.rng))
        self._resend_later(chosen, faulty)
        self.defects.append(
            Defect(
                kind="undecodable",
                expected="quarantined",
                delivery=faulty,
                replaced_by=chosen,
                description=(
                    "A binary workbook saved as .csv: neither UTF-8 nor Windows-1252. "
                    "The sender resent the file as CSV."
                ),
            )
        )

    def mostly_bad_rows(self) -> None:
        first = self.options.periods[0]

        def code_columns(dataset: Dataset) -> list[Column]:
            return [
                c
                for c in dataset.columns
                if c.type == "code" and c.required and c.code_list != COUNCIL_LIST
            ]

        children = self.contract.dataset("sw", "children").id
        candidates = [
            d
            for d in self._untouched()
            if d.rows.height >= MOSTLY_BAD_MIN_ROWS
            and d.period != first  # keep every sender's baseline
            and d.dataset.id != children  # and every child listed by the month naming it
            and code_columns(d.dataset)
        ]
        if not candidates:
            return
        # Another partner's file if there is one, and a short one: it is lost, not resent.
        others = [d for d in candidates if d.dataset.partner != "sw"] or candidates
        shortest = min(d.rows.height for d in others)
        chosen = self._choose([d for d in others if d.rows.height == shortest])
        assert chosen is not None
        columns = code_columns(chosen.dataset)
        column = columns[int(self.rng.integers(len(columns)))]
        count = math.ceil(MOSTLY_BAD_SHARE * chosen.rows.height)
        bad_rows = sorted(int(i) for i in self.rng.choice(chosen.rows.height, count, replace=False))
        value = bad_code(self.contract, column)
        chosen.overrides[column.name] = dict.fromkeys(bad_rows, value)
        chosen.touched = True
        self.defects.append(
            Defect(
                kind="mostly_bad_rows",
                expected="quarantined",
                delivery=chosen,
                severity="error",
                rows=[row + FIRST_DATA_ROW for row in bad_rows],
                columns=[column.name],
                description="Most rows carry a code outside the column's list; not resent.",
            )
        )

    # -- a few bad rows in otherwise good files ---------------------------------------------

    def _spurious_row_defect(
        self,
        kind: str,
        fits: Callable[[Delivery], bool],
        make_row: Callable[[Delivery], SpuriousRow],
        description: str,
        csv_only: bool = False,
    ) -> None:
        """An extra row from ``make_row`` (the row, its bad columns, text forced into the first)."""
        candidates = [
            d
            for d in self._untouched()
            if can_mint_keys(d.dataset) and fits(d) and (not csv_only or d.style.extension == "csv")
        ]
        chosen = self._choose_for_rows(candidates)
        if chosen is None:
            return
        row, columns, override = make_row(chosen)
        position = int(self.rng.integers(chosen.rows.height + 1))
        chosen.rows = insert_row(chosen.rows, row, position)
        if override is not None:
            chosen.overrides.setdefault(columns[0], {})[position] = override
        chosen.touched = True
        self.defects.append(
            Defect(
                kind=kind,
                expected=_expected(1, chosen.rows.height, self.contract),
                delivery=chosen,
                severity="error",
                rows=[position + FIRST_DATA_ROW],
                columns=columns,
                description=description,
            )
        )

    def bad_code_row(self) -> None:
        def columns(dataset: Dataset) -> list[Column]:
            coded = [
                c
                for c in dataset.columns
                if c.type == "code" and c.name not in dataset.key and c.code_list != COUNCIL_LIST
            ]
            return [c for c in coded if c.required] or coded

        def make(delivery: Delivery) -> SpuriousRow:
            options = columns(delivery.dataset)
            column = options[int(self.rng.integers(len(options)))]
            row = spurious_copy(delivery, self.minter, self.rng, self.contract)
            return row, [column.name], bad_code(self.contract, column)

        self._spurious_row_defect(
            "bad_code",
            lambda d: bool(columns(d.dataset)),
            make,
            "An extra row (a copy of a real one under a new key) with a code outside its list.",
        )

    def impossible_date_row(self) -> None:
        def columns(dataset: Dataset) -> list[str]:
            return [
                c.name
                for c in dataset.columns
                if c.type == "date" and c.required and c.name not in dataset.key
            ]

        def make(delivery: Delivery) -> SpuriousRow:
            options = columns(delivery.dataset)
            name = options[int(self.rng.integers(len(options)))]
            row = spurious_copy(delivery, self.minter, self.rng, self.contract)
            style = delivery.style
            text = impossible_date_text(
                style.date_format, style.time_suffix, delivery.period // 100
            )
            return row, [name], text

        self._spurious_row_defect(
            "impossible_date",
            lambda d: bool(columns(d.dataset)),
            make,
            "An extra row (a copy of a real one under a new key) dated the 31st of February.",
            csv_only=True,  # a text cell among Excel date cells would test the reader, not the rule
        )

    def date_order_row(self) -> None:
        def columns(dataset: Dataset) -> list[Column]:
            return [c for c in dataset.columns if c.type == "date" and c.not_before]

        def has_reference(delivery: Delivery) -> bool:
            return any(
                delivery.rows.get_column(c.not_before).is_not_null().any()  # type: ignore[arg-type]
                for c in columns(delivery.dataset)
            )

        def make(delivery: Delivery) -> SpuriousRow:
            dataset = delivery.dataset
            # The register's own case (deregistered before registered) where the dataset has it.
            options = [c for c in columns(dataset) if dataset.column_map[c.not_before].required]
            options = options or columns(dataset)
            column = options[int(self.rng.integers(len(options)))]
            assert column.not_before is not None
            with_reference = delivery.clone(
                rows=delivery.rows.filter(pl.col(column.not_before).is_not_null())
            )
            row = spurious_copy(with_reference, self.minter, self.rng, self.contract)
            earlier = pl.col(column.not_before) - dt.timedelta(days=DATE_ORDER_GAP_DAYS)
            row = row.with_columns(earlier.alias(column.name))
            for dependent in dataset.columns:
                if dependent.required_with == column.name and row[dependent.name][0] is None:
                    fill = (
                        self.contract.allowed_codes(dependent)[0] if dependent.code_list else None
                    )
                    row = row.with_columns(pl.lit(fill).alias(dependent.name))
            return row, [column.name, column.not_before], None

        def fits(delivery: Delivery) -> bool:
            return bool(columns(delivery.dataset)) and has_reference(delivery)

        # The register's case, deregistered before registered, wherever a registrations file can
        # take it; another dataset's end-before-start otherwise.
        registrations = [d for d in self._untouched() if d.dataset.id == REGISTRATIONS and fits(d)]
        self._spurious_row_defect(
            "date_order",
            (lambda d: d.dataset.id == REGISTRATIONS and fits(d)) if registrations else fits,
            make,
            "An extra row (a copy of a real one under a new key) ending before it starts.",
        )

    def duplicate_key_row(self) -> None:
        chosen = self._choose_for_rows(self._untouched())
        if chosen is None:
            return
        original = int(self.rng.integers(chosen.rows.height))
        position = int(self.rng.integers(chosen.rows.height + 1))
        copy = chosen.rows.slice(original, 1)
        chosen.rows = insert_row(chosen.rows, copy, position)
        first = original + 1 if position <= original else original
        chosen.touched = True
        self.defects.append(
            Defect(
                kind="duplicate_key",
                expected=_expected(2, chosen.rows.height, self.contract),
                delivery=chosen,
                severity="error",
                rows=sorted([first + FIRST_DATA_ROW, position + FIRST_DATA_ROW]),
                columns=list(chosen.dataset.key),
                description="A real row listed twice in one file (the same key on both rows).",
            )
        )

    def invalid_chi(self) -> None:
        def chi_rows(delivery: Delivery) -> list[tuple[str, int]]:
            found = []
            for name in delivery.dataset.identifier_columns("chi"):
                valid = delivery.rows.get_column(name).str.contains(r"^\d{10}$").fill_null(False)
                found += [(name, int(i)) for i in valid.arg_true().to_list()]
            return found

        candidates = [d for d in self._untouched() if d.dataset.identifier_columns("chi")]
        while (chosen := self._choose_for_rows(candidates)) is not None:
            options = chi_rows(chosen)
            if options:
                break
            candidates.remove(chosen)  # no CHI written in full on any row: try another file
        if chosen is None:
            return
        name, row = options[int(self.rng.integers(len(options)))]
        values = chosen.rows.get_column(name).to_list()
        values[row] = with_wrong_check_digit(values[row])
        chosen.rows = chosen.rows.with_columns(pl.Series(name, values, dtype=pl.Utf8))
        chosen.touched = True
        self.defects.append(
            Defect(
                kind="invalid_chi",
                expected="loaded",
                delivery=chosen,
                severity="warning",
                rows=[row + FIRST_DATA_ROW],
                columns=[name],
                real_row=True,
                description="A real row's CHI with a wrong check digit: kept, CHI not linked.",
            )
        )

    # -- extra files --------------------------------------------------------------------------

    def _copy(self, kind: str, expected: str, description: str, change) -> None:
        """A second file with a delivered file's bytes, placed or named as ``change`` says."""
        source = self._choose([d for d in self._untouched() if d.rows.height])
        if source is None:
            return
        copy = change(source.clone(same_bytes_as=source), source)
        source.touched = copy.touched = True
        self._sender_of(source).append(copy)
        self.defects.append(
            Defect(
                kind=kind,
                expected=expected,
                delivery=copy,
                copy_of=source,
                description=description,
            )
        )

    def unparseable_name(self) -> None:
        def rename(copy: Delivery, source: Delivery) -> Delivery:
            copy.file_name_override = f"Copy of {source.file_name}"
            return copy

        self._copy(
            "unparseable_name",
            "quarantined",
            "A second copy of a delivered file under a name outside the contract's grammar.",
            rename,
        )

    def unknown_org(self) -> None:
        def move(copy: Delivery, source: Delivery) -> Delivery:
            assert not self.contract.org_allowed(source.dataset.partner, UNKNOWN_ORG)
            copy.folder = UNKNOWN_ORG
            return copy

        self._copy(
            "unknown_org",
            "quarantined",
            "A copy of a delivered file under an org code that does not exist.",
            move,
        )

    def duplicate_delivery(self) -> None:
        def resend(copy: Delivery, source: Delivery) -> Delivery:
            copy.submitted = later_time(self.rng, source.submitted, DUPLICATE_DAYS)
            return copy

        self._copy(
            "duplicate_delivery",
            "duplicate",
            "The same bytes delivered again under a later submission stamp.",
            resend,
        )


def inject_defects(
    senders: list[list[Delivery]],
    contract: Contract,
    options: GenerateOptions,
    minter: KeyMinter,
) -> list[Defect]:
    """Add the known set of defects to ``senders`` (in place); one entry per defect."""
    maker = DefectMaker(senders, contract, options, minter)
    for make in (
        maker.missing_month,
        maker.missing_required_column,
        maker.undecodable,
        maker.mostly_bad_rows,
        maker.bad_code_row,
        maker.impossible_date_row,
        maker.date_order_row,
        maker.invalid_chi,
        maker.duplicate_key_row,
        maker.unparseable_name,
        maker.unknown_org,
        maker.duplicate_delivery,
    ):
        make()
    return maker.defects


def manifest(defects: list[Defect], options: GenerateOptions) -> dict[str, Any]:
    return {
        "landing_zone": options.out.name,
        "seed": options.seed,
        "period_from": options.period_from,
        "period_to": options.period_to,
        "defects": [defect.entry() for defect in defects],
    }
