"""Typed model of the partner extract contract (extracts.md).

The YAML files under ``data/`` are the single statement of the contract; these classes give them
types and check that the files agree with one another, so a broken contract fails at import,
not mid-load.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ColumnType = Literal["text", "date", "bool", "code", "codes", "integer"]
IdentifierKind = Literal["chi", "child_ref", "record_ref", "date_of_birth", "postcode"]
Coverage = Literal["expected", "voluntary", "reference"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Code(Frozen):
    code: str
    label: str
    synonyms: tuple[str, ...] = ()
    when: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    offence_ground: bool = False


class CodeList(Frozen):
    id: str
    description: str
    codes: tuple[Code, ...]

    @cached_property
    def values(self) -> tuple[str, ...]:
        return tuple(code.code for code in self.codes)

    @cached_property
    def lookup(self) -> dict[str, str]:
        """Every accepted spelling, folded to upper case, mapped to its canonical code."""
        table: dict[str, str] = {}
        for code in self.codes:
            for spelling in (code.code, *code.synonyms):
                table[spelling.upper()] = code.code
        return table

    @model_validator(mode="after")
    def _spellings_unambiguous(self) -> CodeList:
        seen: dict[str, str] = {}
        for code in self.codes:
            for spelling in (code.code, *code.synonyms):
                folded = spelling.upper()
                if seen.setdefault(folded, code.code) != code.code:
                    raise ValueError(f"code list {self.id}: spelling {spelling!r} is ambiguous")
        return self


class Column(Frozen):
    name: str
    type: ColumnType
    required: bool = False
    code_list: str | None = None
    allowed_codes: tuple[str, ...] | None = None
    identifier: IdentifierKind | None = None
    min: int | None = None
    max: int | None = None
    blank_means: int | None = None
    required_with: str | None = None
    not_before: str | None = None
    at_most: str | None = None
    future_allowed: bool = False
    notes: str | None = None

    @model_validator(mode="after")
    def _type_fits_attributes(self) -> Column:
        is_coded = self.type in ("code", "codes")
        if is_coded != (self.code_list is not None):
            raise ValueError(f"column {self.name}: code_list goes with type code/codes only")
        if (self.min is not None or self.max is not None) and self.type != "integer":
            raise ValueError(f"column {self.name}: min/max go with integers only")
        if self.future_allowed and self.type != "date":
            raise ValueError(f"column {self.name}: future_allowed goes with dates only")
        return self


class DueDate(Frozen):
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)


class Dataset(Frozen):
    partner: str
    dataset: str
    title: str
    description: str
    cadence: Literal["monthly", "annual"]
    period_month: int | None = Field(default=None, ge=1, le=12)
    covers_months_before_period: int = 0
    due: DueDate | None = None
    coverage: Coverage = "expected"
    key: tuple[str, ...]
    area_column: str | None = None
    baseline_open_when_blank: str | None = None
    columns: tuple[Column, ...]

    @property
    def id(self) -> str:
        """``partner__dataset``, the name used for files, suites and landing tables."""
        return f"{self.partner}__{self.dataset}"

    @cached_property
    def column_map(self) -> dict[str, Column]:
        return {column.name: column for column in self.columns}

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns if column.required)

    def identifier_columns(self, *kinds: IdentifierKind) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.identifier and c.identifier in kinds)

    @model_validator(mode="after")
    def _internally_consistent(self) -> Dataset:
        names = [column.name for column in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.id}: duplicate column names")
        if self.columns[0].name != self.key[0]:
            raise ValueError(f"{self.id}: the key column comes first")
        referenced = [*self.key]
        referenced += [self.area_column] if self.area_column else []
        referenced += [self.baseline_open_when_blank] if self.baseline_open_when_blank else []
        for column in self.columns:
            referenced += [
                ref for ref in (column.required_with, column.not_before, column.at_most) if ref
            ]
        for name in referenced:
            if name not in names:
                raise ValueError(f"{self.id}: refers to unknown column {name!r}")
        if self.cadence == "annual" and (self.period_month is None or self.due is None):
            raise ValueError(f"{self.id}: an annual dataset names its period month and due date")
        if self.cadence == "monthly" and self.period_month is not None:
            raise ValueError(f"{self.id}: a monthly dataset has no fixed period month")
        return self


class OrgRule(Frozen):
    kind: Literal["council", "health_board", "charity", "fixed"]
    code: str | None = None
    pattern: str | None = None


class Partner(Frozen):
    id: str
    name: str
    org: OrgRule
    datasets: tuple[str, ...]


class HealthBoard(Frozen):
    code: str
    name: str


class Council(Frozen):
    code: str
    name: str
    health_board: str
    retired_codes: tuple[str, ...] = ()


class JointCpc(Frozen):
    name: str
    councils: tuple[str, ...]


class Cpc(Frozen):
    """A Child Protection Committee: one council's, or a joint one over several."""

    code: str
    name: str
    councils: tuple[str, ...]


class Reference(Frozen):
    scotland: HealthBoard
    health_boards: tuple[HealthBoard, ...]
    councils: tuple[Council, ...]
    joint_cpcs: tuple[JointCpc, ...]

    @cached_property
    def council_by_code(self) -> dict[str, Council]:
        return {council.code: council for council in self.councils}

    @cached_property
    def current_council_code(self) -> dict[str, str]:
        """Every accepted council code, current or retired, mapped to the current code."""
        table = {council.code: council.code for council in self.councils}
        for council in self.councils:
            table.update(dict.fromkeys(council.retired_codes, council.code))
        return table

    @cached_property
    def cpcs(self) -> tuple[Cpc, ...]:
        joint_of = {c: joint for joint in self.joint_cpcs for c in joint.councils}
        cpcs: dict[str, Cpc] = {}
        for council in self.councils:
            joint = joint_of.get(council.code)
            if joint is None:
                cpcs[council.code] = Cpc(
                    code=council.code, name=council.name, councils=(council.code,)
                )
            else:
                members = tuple(sorted(joint.councils))
                code = "+".join(members)
                cpcs[code] = Cpc(code=code, name=joint.name, councils=members)
        return tuple(cpcs.values())

    @model_validator(mode="after")
    def _consistent(self) -> Reference:
        boards = {board.code for board in self.health_boards}
        codes = [council.code for council in self.councils]
        retired = [code for council in self.councils for code in council.retired_codes]
        if len(set(codes + retired)) != len(codes) + len(retired):
            raise ValueError("council codes (current and retired) must be unique")
        for council in self.councils:
            if council.health_board not in boards:
                raise ValueError(f"council {council.code}: unknown health board")
        for joint in self.joint_cpcs:
            if not set(joint.councils) <= set(codes) or len(joint.councils) < 2:
                raise ValueError(f"joint CPC {joint.name}: needs two or more known councils")
        return self


class FileName(Frozen):
    pattern: str
    example: str
    extensions: tuple[str, ...]

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern)


class Limits(Frozen):
    file_bytes: int
    row_bytes: int
    cell_bytes: int
    xlsx_expansion_ratio: int
    xlsx_expanded_bytes: int


class Formats(Frozen):
    file_name: FileName
    csv: dict[str, object]
    xlsx: dict[str, object]
    header: dict[str, object]
    dates: dict[str, object]
    booleans: dict[str, tuple[str, ...]]
    missing_tokens: tuple[str, ...]
    multi_value_separators: tuple[str, ...]
    deletion_column: str
    limits: Limits
    due: dict[str, int]
    gates: dict[str, float]

    @property
    def date_formats(self) -> tuple[str, ...]:
        return tuple(self.dates["formats"])  # type: ignore[arg-type]

    @property
    def earliest_date(self) -> dt.date:
        return self.dates["earliest"]  # type: ignore[return-value]

    @property
    def header_ignored_characters(self) -> tuple[str, ...]:
        return tuple(self.header["ignored_characters"])  # type: ignore[arg-type]

    @property
    def monthly_due_days(self) -> int:
        return self.due["monthly_days_after_period_end"]


class Contract(Frozen):
    partners: tuple[Partner, ...]
    datasets: tuple[Dataset, ...]
    code_lists: tuple[CodeList, ...]
    reference: Reference
    formats: Formats

    @cached_property
    def partner_by_id(self) -> dict[str, Partner]:
        return {partner.id: partner for partner in self.partners}

    @cached_property
    def dataset_by_id(self) -> dict[str, Dataset]:
        return {dataset.id: dataset for dataset in self.datasets}

    def dataset(self, partner: str, dataset: str) -> Dataset:
        return self.dataset_by_id[f"{partner}__{dataset}"]

    @cached_property
    def code_list_by_id(self) -> dict[str, CodeList]:
        """The code lists, with COUNCIL built from the councils (retired codes as synonyms)."""
        lists = {code_list.id: code_list for code_list in self.code_lists}
        lists["COUNCIL"] = CodeList(
            id="COUNCIL",
            description="Council (current S12 code; retired codes are read as the current one)",
            codes=tuple(
                Code(code=council.code, label=council.name, synonyms=council.retired_codes)
                for council in self.reference.councils
            ),
        )
        return lists

    def allowed_codes(self, column: Column) -> tuple[str, ...]:
        assert column.code_list is not None
        return column.allowed_codes or self.code_list_by_id[column.code_list].values

    def org_allowed(self, partner: str, org_code: str) -> bool:
        """Whether ``org_code`` may send for ``partner`` (retired council codes included)."""
        rule = self.partner_by_id[partner].org
        if rule.kind == "council":
            return org_code in self.reference.current_council_code
        if rule.kind == "health_board":
            return org_code in {board.code for board in self.reference.health_boards}
        if rule.kind == "charity":
            return rule.pattern is not None and re.fullmatch(rule.pattern, org_code) is not None
        return org_code == rule.code

    @model_validator(mode="after")
    def _consistent(self) -> Contract:
        lists = {code_list.id for code_list in self.code_lists} | {"COUNCIL"}
        declared = {(p.id, d) for p in self.partners for d in p.datasets}
        defined = {(d.partner, d.dataset) for d in self.datasets}
        if declared != defined:
            raise ValueError(f"partners.yaml and datasets/ disagree: {sorted(declared ^ defined)}")
        for dataset in self.datasets:
            for column in dataset.columns:
                if column.code_list and column.code_list not in lists:
                    raise ValueError(f"{dataset.id}.{column.name}: unknown code list")
                if column.allowed_codes and column.code_list != "COUNCIL":
                    known = set(next(c for c in self.code_lists if c.id == column.code_list).values)
                    if not set(column.allowed_codes) <= known:
                        raise ValueError(f"{dataset.id}.{column.name}: allowed_codes not in list")
        for code_list in self.code_lists:
            for code in code_list.codes:
                for other in code.when:
                    users = [
                        d
                        for d in self.datasets
                        if any(c.code_list == code_list.id for c in d.columns)
                    ]
                    if any(other not in d.column_map for d in users):
                        raise ValueError(f"{code_list.id}.{code.code}: condition on {other!r}")
        return self
