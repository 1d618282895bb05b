"""Typed model of the indicator catalogue (indicators.md).

The YAML files under ``data/`` are the single statement of the minimum dataset; these classes give
them types and check that they agree with one another and with the partner extract contract, so a
broken catalogue fails at import rather than in a model or a report. Validate with the contract in
the context: ``Catalogue.model_validate(raw, context={"contract": contract})``.
"""

from __future__ import annotations

from functools import cached_property
from typing import Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from cpmds.contract import Contract, Dataset

Unit = Literal["count", "distinct_children", "rate_per_1000", "percent", "median_days"]
NumeratorUnit = Literal["count", "distinct_children"]
Kind = Literal["flow", "stock", "year"]
PeriodType = Literal["month", "quarter", "year"]
Flag = Literal[
    "voluntary_returns",
    "history_gap",
    "partial_lookback",
    "population_year_fallback",
    "no_population",
]
DenominatorKind = Literal["none", "population", "indicator", "other"]
ParameterUnit = Literal["days", "months", "years", "placements"]
# The counts a row carries: ``numerator`` always; ``denominator`` unless the denominator is none;
# ``n_children`` where the catalogue says what it holds.
CountName = Literal["numerator", "denominator", "n_children"]

INDICATOR_IDS = tuple(f"MDS{number:02d}" for number in range(1, 42))
# The key of a row of indicator_values (interface.md): one row per indicator, area, period and
# breakdown value.
INDICATOR_VALUE_KEY = (
    "indicator_id",
    "area_type",
    "area_code",
    "period_type",
    "period_label",
    "breakdown",
    "breakdown_value",
)
POPULATION_DATASET = "nrs__population"
POPULATION_FLAGS: tuple[Flag, ...] = ("population_year_fallback", "no_population")

# How indicators.md writes each unit: "count; rate per 1,000 aged 0-17" is a count numerator with a
# rate value.
_UNIT_WORDS: dict[str, Unit] = {
    "count": "count",
    "distinct children": "distinct_children",
    "%": "percent",
    "median days": "median_days",
}
_UNIT_DENOMINATORS: dict[Unit, tuple[DenominatorKind, ...]] = {
    "count": ("none",),
    "distinct_children": ("none",),
    "median_days": ("none",),
    "rate_per_1000": ("population", "other"),
    "percent": ("indicator", "other"),
}


def _unit_of_words(words: str) -> Unit:
    words = words.strip()
    if words.startswith("rate per 1,000"):
        return "rate_per_1000"
    if words not in _UNIT_WORDS:
        raise ValueError(f"unit text {words!r} is not one indicators.md uses")
    return _UNIT_WORDS[words]


def _contract(info: ValidationInfo) -> Contract:
    contract = (info.context or {}).get("contract")
    if not isinstance(contract, Contract):
        raise ValueError("the catalogue is validated against the contract: pass it in the context")
    return contract


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BreakdownValue(Frozen):
    code: str
    label: str
    min_age: StrictInt | None = Field(default=None, ge=0)
    max_age: StrictInt | None = Field(default=None, ge=0)


class Breakdown(Frozen):
    """A breakdown of interface.md, with the values every indicator that uses it has a row for."""

    name: str
    label: str
    valued: Literal["single", "multi"]
    code_list: str | None = None
    values: tuple[BreakdownValue, ...]

    @model_validator(mode="before")
    @classmethod
    def _values_from_contract(cls, data: object, info: ValidationInfo) -> object:
        if not isinstance(data, dict) or data.get("code_list") is None:
            return data
        if "values" in data:
            raise ValueError(f"breakdown {data.get('name')}: give a code_list or values, not both")
        code_lists = _contract(info).code_list_by_id
        code_list = data["code_list"]
        if not isinstance(code_list, str) or code_list not in code_lists:
            raise ValueError(f"breakdown {data.get('name')}: unknown code list {code_list!r}")
        codes = code_lists[code_list].codes
        return {**data, "values": [{"code": c.code, "label": c.label} for c in codes]}

    @property
    def adds_up(self) -> bool:
        """Whether the rows add up under the total and so form a secondary-suppression group."""
        return self.valued == "single"

    @cached_property
    def codes(self) -> tuple[str, ...]:
        return tuple(value.code for value in self.values)

    @model_validator(mode="after")
    def _values_distinct(self) -> Breakdown:
        if not self.values:
            raise ValueError(f"breakdown {self.name}: has no values")
        if len(set(self.codes)) != len(self.codes):
            raise ValueError(f"breakdown {self.name}: duplicate values")
        if "total" in self.codes:
            raise ValueError(f"breakdown {self.name}: 'total' is the total row's value")
        return self


class IndicatorBreakdown(Frozen):
    name: str
    only: tuple[str, ...] | None = None
    note: str | None = None


class Denominator(Frozen):
    kind: DenominatorKind
    text: str
    base: str | None = None

    @model_validator(mode="after")
    def _base_with_indicator_kind(self) -> Denominator:
        if (self.kind == "indicator") != (self.base is not None):
            raise ValueError("a denominator names its base indicator exactly when its kind is that")
        return self


class Parameter(Frozen):
    name: str
    value: StrictInt = Field(gt=0)
    unit: ParameterUnit
    description: str


class Provisional(Frozen):
    """A period stays provisional until the outcome window after it is covered by ``watermark``."""

    window_parameter: str
    watermark: str
    text: str


class SameCount(Frozen):
    """One of the indicator's counts that ``indicator`` publishes again as ``their`` count, in the
    row of the same area, period and breakdown value (total row to total row). Disclosure control
    suppresses the two rows together."""

    count: CountName
    indicator: str = Field(pattern=r"^MDS\d{2}$")
    their: CountName


class Indicator(Frozen):
    id: str = Field(pattern=r"^MDS\d{2}$")
    name: str
    kind: Kind
    unit_text: str
    unit: Unit
    numerator_unit: NumeratorUnit
    definition: str
    numerator: str
    denominator: Denominator
    n_children: str | None = None
    breakdowns: tuple[IndicatorBreakdown, ...] = ()
    total_row: bool = True
    period_types: tuple[PeriodType, ...] = Field(min_length=1)
    inputs: tuple[str, ...] = Field(min_length=1)
    parameters: tuple[Parameter, ...] = ()
    flags: tuple[Flag, ...] = ()
    provisional: Provisional | None = None
    related: tuple[str, ...] = ()
    same_counts: tuple[SameCount, ...] = ()
    commentary: str
    # Rates and percentages carry a 95% interval unless the catalogue says there is none.
    interval: bool = True

    @cached_property
    def parameter_by_name(self) -> dict[str, Parameter]:
        return {parameter.name: parameter for parameter in self.parameters}

    @property
    def breakdown_names(self) -> tuple[str, ...]:
        return tuple(breakdown.name for breakdown in self.breakdowns)

    @property
    def counts(self) -> tuple[CountName, ...]:
        """The counts its rows carry (``same_counts`` may name only these)."""
        return (
            "numerator",
            *(("denominator",) if self.denominator.kind != "none" else ()),
            *(("n_children",) if self.n_children is not None else ()),
        )

    @model_validator(mode="after")
    def _internally_consistent(self) -> Indicator:
        parts = self.unit_text.split(";")
        if _unit_of_words(parts[-1]) != self.unit:
            raise ValueError(f"{self.id}: unit {self.unit} does not match {self.unit_text!r}")
        if len(parts) == 2 and _unit_of_words(parts[0]) != self.numerator_unit:
            raise ValueError(f"{self.id}: numerator_unit does not match {self.unit_text!r}")
        if self.unit in ("count", "distinct_children") and self.numerator_unit != self.unit:
            raise ValueError(f"{self.id}: a {self.unit} counts its own unit")
        if self.denominator.kind not in _UNIT_DENOMINATORS[self.unit]:
            raise ValueError(f"{self.id}: a {self.unit} has no {self.denominator.kind} denominator")
        same_as = [same.indicator for same in self.same_counts]
        if self.id in (self.denominator.base, *self.related, *same_as):
            raise ValueError(f"{self.id}: refers to itself")
        if len(set(self.same_counts)) != len(self.same_counts):
            raise ValueError(f"{self.id}: duplicate same_counts")
        for same in self.same_counts:
            if same.count not in self.counts:
                raise ValueError(f"{self.id}: same_counts names its {same.count}, which it lacks")
            if same.count == "denominator" and self.denominator.kind == "indicator":
                raise ValueError(f"{self.id}: its denominator is its base's count already")
        for field in ("breakdowns", "inputs", "parameters", "flags", "related", "period_types"):
            items = [getattr(item, "name", item) for item in getattr(self, field)]
            if len(set(items)) != len(items):
                raise ValueError(f"{self.id}: duplicate {field}")
        if (self.kind == "year") != (self.period_types == ("year",)):
            raise ValueError(f"{self.id}: year indicators, and only they, are computed yearly only")
        if self.kind == "stock" and "history_gap" not in self.flags:
            raise ValueError(f"{self.id}: a stock indicator lists history_gap among its flags")
        reads_population = POPULATION_DATASET in self.inputs
        if reads_population != (self.denominator.kind == "population"):
            raise ValueError(f"{self.id}: reads {POPULATION_DATASET} exactly when it is a rate")
        if reads_population != (set(POPULATION_FLAGS) <= set(self.flags)):
            raise ValueError(f"{self.id}: a population rate carries {POPULATION_FLAGS}")
        if not self.total_row and not self.breakdowns:
            raise ValueError(f"{self.id}: without a total row it needs a breakdown")
        if not self.interval and self.unit not in ("rate_per_1000", "percent"):
            raise ValueError(f"{self.id}: only a rate or a percentage has an interval to drop")
        if self.provisional is not None:
            if self.provisional.window_parameter not in self.parameter_by_name:
                raise ValueError(f"{self.id}: provisional window is not one of its parameters")
            if self.provisional.watermark not in self.inputs:
                raise ValueError(f"{self.id}: provisional watermark is not one of its inputs")
        return self


class Group(Frozen):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Literal["section", "chain"]
    title: str
    description: str
    members: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _members_distinct(self) -> Group:
        if len(set(self.members)) != len(self.members):
            raise ValueError(f"group {self.id}: duplicate members")
        if self.kind == "chain" and len(self.members) < 2:
            raise ValueError(f"group {self.id}: a chain links two or more indicators")
        return self


class PeriodTypeRule(Frozen):
    label: str
    description: str


class Statistics(Frozen):
    z: float = Field(gt=0)
    rate_per: StrictInt
    population_min_age: StrictInt
    population_max_age: StrictInt
    rate_interval: str
    percent_interval: str
    published_decimals: dict[str, StrictInt]
    rounding: str


class Rules(Frozen):
    """The common rules' vocabulary (descriptions of every unit, kind, period type and flag)."""

    units: dict[Unit, str]
    kinds: dict[Kind, str]
    period_types: dict[PeriodType, PeriodTypeRule]
    flags: dict[Flag, str]
    statistics: Statistics

    @model_validator(mode="after")
    def _describes_every_term(self) -> Rules:
        for field, vocabulary in (
            ("units", Unit),
            ("kinds", Kind),
            ("period_types", PeriodType),
            ("flags", Flag),
        ):
            if set(getattr(self, field)) != set(get_args(vocabulary)):
                raise ValueError(f"rules.yaml {field}: describe exactly {get_args(vocabulary)}")
        return self


class Catalogue(Frozen):
    rules: Rules
    breakdowns: tuple[Breakdown, ...]
    groups: tuple[Group, ...]
    indicators: tuple[Indicator, ...]

    @cached_property
    def indicator_by_id(self) -> dict[str, Indicator]:
        return {indicator.id: indicator for indicator in self.indicators}

    @cached_property
    def breakdown_by_name(self) -> dict[str, Breakdown]:
        return {breakdown.name: breakdown for breakdown in self.breakdowns}

    @property
    def age_bands(self) -> tuple[BreakdownValue, ...]:
        return self.breakdown_by_name["age_band"].values

    @property
    def sections(self) -> tuple[Group, ...]:
        """The groups that share out the indicators: the report's sections, the sheets."""
        return tuple(group for group in self.groups if group.kind == "section")

    @property
    def chains(self) -> tuple[Group, ...]:
        return tuple(group for group in self.groups if group.kind == "chain")

    def section_of(self, indicator_id: str) -> Group:
        return next(group for group in self.sections if indicator_id in group.members)

    def breakdown_codes(self, indicator_id: str, name: str) -> tuple[str, ...]:
        """The breakdown values an indicator has a row for (every code, zeros included)."""
        entry = next(b for b in self.indicator_by_id[indicator_id].breakdowns if b.name == name)
        return entry.only or self.breakdown_by_name[name].codes

    def same_counts_of(self, indicator_id: str) -> tuple[SameCount, ...]:
        """Its counts that other indicators publish again: its own ``same_counts`` and, turned
        round, the entries of the others that name it."""
        mirrored = tuple(
            SameCount(count=same.their, indicator=other.id, their=same.count)
            for other in self.indicators
            for same in other.same_counts
            if same.indicator == indicator_id
        )
        return self.indicator_by_id[indicator_id].same_counts + mirrored

    def expected_inputs(self, indicator_id: str, contract: Contract) -> tuple[str, ...]:
        """The inputs coverage is computed from: voluntary and reference data are never expected."""
        datasets = contract.dataset_by_id
        inputs = self.indicator_by_id[indicator_id].inputs
        return tuple(dataset for dataset in inputs if datasets[dataset].coverage == "expected")

    @field_validator("indicators")
    @classmethod
    def _every_indicator_once(cls, indicators: tuple[Indicator, ...]) -> tuple[Indicator, ...]:
        ids = tuple(indicator.id for indicator in indicators)
        if ids != INDICATOR_IDS:
            raise ValueError(f"indicators must be {INDICATOR_IDS[0]}..{INDICATOR_IDS[-1]} in order")
        return indicators

    @model_validator(mode="after")
    def _references_resolve(self) -> Catalogue:
        known = set(self.indicator_by_id)
        names = [breakdown.name for breakdown in self.breakdowns]
        if len(set(names)) != len(names):
            raise ValueError("duplicate breakdown names")
        _check_age_bands(self.breakdown_by_name.get("age_band"))
        for indicator in self.indicators:
            same_as = (same.indicator for same in indicator.same_counts)
            for other in (*indicator.related, indicator.denominator.base, *same_as):
                if other is not None and other not in known:
                    raise ValueError(f"{indicator.id}: refers to unknown indicator {other}")
            for same in indicator.same_counts:
                partner = self.indicator_by_id[same.indicator]
                if same.their not in partner.counts:
                    raise ValueError(
                        f"{indicator.id}: same_counts names {partner.id}'s {same.their}, "
                        "which it lacks"
                    )
                mirror = SameCount(count=same.their, indicator=indicator.id, their=same.count)
                if mirror in partner.same_counts:
                    raise ValueError(f"{indicator.id}: same_counts with {partner.id} given twice")
            base = indicator.denominator.base
            if base and self.indicator_by_id[base].numerator_unit != indicator.numerator_unit:
                raise ValueError(
                    f"{indicator.id}: counts {indicator.numerator_unit}, not as {base}"
                )
            for entry in indicator.breakdowns:
                if entry.name not in self.breakdown_by_name:
                    raise ValueError(f"{indicator.id}: unknown breakdown {entry.name}")
                codes = self.breakdown_by_name[entry.name].codes
                if entry.only is not None and not set(entry.only) <= set(codes):
                    raise ValueError(f"{indicator.id}: {entry.name} values not in the breakdown")
        group_ids = [group.id for group in self.groups]
        if len(set(group_ids)) != len(group_ids):
            raise ValueError("duplicate group ids")
        for group in self.groups:
            if not set(group.members) <= known:
                raise ValueError(f"group {group.id}: unknown members")
        in_sections = sorted(m for group in self.sections for m in group.members)
        if in_sections != sorted(known):
            raise ValueError("the sections must hold every indicator exactly once")
        return self

    @model_validator(mode="after")
    def _agrees_with_contract(self, info: ValidationInfo) -> Catalogue:
        contract = _contract(info)
        datasets = contract.dataset_by_id
        for indicator in self.indicators:
            unknown = [dataset for dataset in indicator.inputs if dataset not in datasets]
            if unknown:
                raise ValueError(f"{indicator.id}: inputs not in the contract: {unknown}")
            read = [datasets[dataset] for dataset in indicator.inputs]
            voluntary = any(dataset.coverage == "voluntary" for dataset in read)
            if voluntary != ("voluntary_returns" in indicator.flags):
                raise ValueError(f"{indicator.id}: voluntary_returns goes with voluntary inputs")
            # Population is reference data: it gives no child an age or a sex.
            about_children = [dataset for dataset in read if dataset.coverage != "reference"]
            annual = any(dataset.cadence == "annual" for dataset in about_children)
            if annual != (indicator.kind == "year"):
                raise ValueError(
                    f"{indicator.id}: year indicators, and only they, read annual data"
                )
            columns = {column.name for dataset in about_children for column in dataset.columns}
            identifiers = {c.identifier for dataset in about_children for c in dataset.columns}
            needs_birth = "age_band" in indicator.breakdown_names
            if needs_birth and not identifiers & {"date_of_birth", "chi"}:
                raise ValueError(f"{indicator.id}: an age breakdown needs a date of birth or CHI")
            if "sex" in indicator.breakdown_names and "sex" not in columns:
                raise ValueError(f"{indicator.id}: a sex breakdown needs a sex column")
            if indicator.numerator_unit == "distinct_children" and not _links_children(
                about_children
            ):
                raise ValueError(
                    f"{indicator.id}: counting children needs the CHI of each reference"
                )
        return self


def _check_age_bands(age_band: Breakdown | None) -> None:
    """The banded ages run from 0 without gaps or overlaps, the last band open-ended."""
    if age_band is None:
        raise ValueError("breakdowns.yaml: age_band is required (the common rules' age bands)")
    banded = [value for value in age_band.values if value.min_age is not None]
    expected_min = 0
    for position, band in enumerate(banded):
        assert band.min_age is not None
        last = position == len(banded) - 1
        if band.min_age != expected_min or (band.max_age is None) != last:
            raise ValueError(f"age band {band.code}: bands must run on from age {expected_min}")
        code = f"{band.min_age}-{band.max_age}" if band.max_age is not None else f"{band.min_age}+"
        if band.code != code:
            raise ValueError(f"age band {band.code}: its code says {code}")
        if band.max_age is not None:
            if band.max_age < band.min_age:
                raise ValueError(f"age band {band.code}: ends before it starts")
            expected_min = band.max_age + 1


def _links_children(datasets: list[Dataset]) -> bool:
    """Whether children named only by a partner's reference can be linked by CHI across partners."""
    named_by = [
        {
            column.identifier
            for column in dataset.columns
            if column.identifier in ("chi", "child_ref")
        }
        for dataset in datasets
    ]
    return {"child_ref"} not in named_by or {"child_ref", "chi"} in named_by
