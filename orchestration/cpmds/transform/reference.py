"""dbt seeds, vars and macros generated from the contract's reference data and the indicator
catalogue, so that the models read those facts and never restate them.

Seeds (``dbt_project/seeds/ref_*.csv``, each with a YAML describing it):

- ``ref_councils``, ``ref_areas``, ``ref_area_councils``: the 32 councils with their health
  board and CPC; every area (council, CPC, Scotland) with its parent; the councils of each area.
- ``ref_dataset_senders``: for each dataset, who sends it and whether an area expects it (coverage).
- ``ref_indicators``, ``ref_indicator_inputs``, ``ref_indicator_period_types``,
  ``ref_indicator_rows``: the catalogue, the datasets each indicator reads, its period types, and
  every row (breakdown and value) each of its cells has, with the population each row is a rate of.

The vars of ``dbt_project.yml`` (indicator parameters such as ``mds14_max_interval``, the interval
constant ``z``) and the ``age_band`` macro come from the catalogue too.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from cpmds.catalogue import Catalogue, Indicator, load_catalogue
from cpmds.contract import Contract, load_contract
from cpmds.transform.rendering import MARKER, yaml_document

SEED_FOLDER = "dbt_project/seeds"
MACRO_FOLDER = "dbt_project/macros"
CATALOGUE_DIR = "orchestration/cpmds/catalogue/data/"
CONTRACT_REFERENCE = "orchestration/cpmds/contract/data/"
TOTAL = "total"
LIST_SEPARATOR = "|"
GENERATOR_MODULE = "orchestration/cpmds/transform/reference.py"
# The look-back of a flow indicator starts from the period's first day (its earliest event); a
# stock indicator's window ends on the period's last day and opens the day after N months earlier.
LOOKBACK_ANCHOR = {"flow": "period_start", "stock": "period_end"}


@dataclass(frozen=True)
class Seed:
    name: str
    description: str
    columns: tuple[tuple[str, str, str], ...]  # name, SQL type, description
    rows: tuple[tuple[Any, ...], ...]
    source: str


def render_reference(
    contract: Contract | None = None, catalogue: Catalogue | None = None
) -> dict[str, str]:
    """Each generated seed, its YAML and the generated macros: path relative to the project root
    -> text."""
    contract = contract or load_contract()
    catalogue = catalogue or load_catalogue()
    files: dict[str, str] = {}
    for seed in (*_area_seeds(contract), *_catalogue_seeds(contract, catalogue)):
        files[f"{SEED_FOLDER}/{seed.name}.csv"] = _csv(seed)
        files[f"{SEED_FOLDER}/{seed.name}.yml"] = _seed_yaml(seed)
    files[f"{MACRO_FOLDER}/age_band.sql"] = _age_band_macro(catalogue)
    return files


def dbt_vars(catalogue: Catalogue | None = None) -> dict[str, Any]:
    """The vars every model reads: one per indicator parameter, the statistics constants, the
    indicator ids and the breakdowns whose records can take several values."""
    catalogue = catalogue or load_catalogue()
    statistics = catalogue.rules.statistics
    variables: dict[str, Any] = {
        parameter_var(indicator, parameter.name): parameter.value
        for indicator in catalogue.indicators
        for parameter in indicator.parameters
    }
    variables["z"] = statistics.z
    variables["rate_per"] = statistics.rate_per
    variables["indicator_ids"] = [indicator.id for indicator in catalogue.indicators]
    variables["multi_valued_breakdowns"] = [
        breakdown.name for breakdown in catalogue.breakdowns if not breakdown.adds_up
    ]
    return variables


def parameter_var(indicator: Indicator, name: str) -> str:
    return f"{indicator.id.lower()}_{name}"


# -- areas ---------------------------------------------------------------------------------------


def _area_seeds(contract: Contract) -> tuple[Seed, ...]:
    reference = contract.reference
    boards = {board.code: board.name for board in reference.health_boards}
    cpc_of = {council: cpc for cpc in reference.cpcs for council in cpc.councils}
    scotland = reference.scotland
    councils = Seed(
        name="ref_councils",
        description=(
            "The 32 councils (current S12 codes), the health board that serves each (the "
            "council-to-board lookup coverage uses) and each council's Child Protection Committee."
        ),
        columns=(
            ("council_code", "varchar", "The council's current S12 code."),
            ("council_name", "varchar", "The council's name."),
            ("health_board_code", "varchar", "The S08 code of the health board serving it."),
            ("health_board_name", "varchar", "The health board's name."),
            ("cpc_code", "varchar", "The area code of its CPC (joint CPCs: codes joined by +)."),
            ("cpc_name", "varchar", "The CPC's name."),
        ),
        rows=tuple(
            (
                council.code,
                council.name,
                council.health_board,
                boards[council.health_board],
                cpc_of[council.code].code,
                cpc_of[council.code].name,
            )
            for council in sorted(reference.councils, key=lambda council: council.code)
        ),
        source=CONTRACT_REFERENCE,
    )
    area_rows: list[tuple[Any, ...]] = []
    member_rows: list[tuple[Any, ...]] = []
    order = 0
    for council in sorted(reference.councils, key=lambda council: council.name):
        order += 1
        cpc = cpc_of[council.code]
        area_rows.append(("council", council.code, council.name, "cpc", cpc.code, 1, order))
        member_rows.append(("council", council.code, council.code))
    for cpc in sorted(reference.cpcs, key=lambda cpc: cpc.name):
        order += 1
        area_rows.append(
            ("cpc", cpc.code, cpc.name, "scotland", scotland.code, len(cpc.councils), order)
        )
        member_rows.extend(("cpc", cpc.code, council) for council in cpc.councils)
    order += 1
    area_rows.append(
        ("scotland", scotland.code, scotland.name, None, None, len(reference.councils), order)
    )
    member_rows.extend(
        ("scotland", scotland.code, council.code)
        for council in sorted(reference.councils, key=lambda council: council.code)
    )
    areas = Seed(
        name="ref_areas",
        description=(
            "Every area an indicator is computed for: each council, each of the 30 CPCs (a "
            "joint CPC's code is its councils' codes joined by + in ascending order) and Scotland."
        ),
        columns=(
            ("area_type", "varchar", "council, cpc or scotland."),
            ("area_code", "varchar", "The area's code (with area_type, the area's key)."),
            ("area_name", "varchar", "The area's name."),
            (
                "parent_area_type",
                "varchar",
                "The type of the area it is part of (null for Scotland).",
            ),
            ("parent_area_code", "varchar", "The code of the area it is part of."),
            ("council_count", "integer", "How many councils the area is made of."),
            (
                "sort_order",
                "integer",
                "Display order: councils, then CPCs, by name; Scotland last.",
            ),
        ),
        rows=tuple(area_rows),
        source=CONTRACT_REFERENCE,
    )
    members = Seed(
        name="ref_area_councils",
        description=(
            "Which councils make up each area: a council is itself, a CPC its council(s), Scotland "
            "all 32. Indicators add up (or de-duplicate) over these."
        ),
        columns=(
            ("area_type", "varchar", "council, cpc or scotland."),
            ("area_code", "varchar", "The area's code."),
            ("council_code", "varchar", "A council in the area."),
        ),
        rows=tuple(member_rows),
        source=CONTRACT_REFERENCE,
    )
    senders = Seed(
        name="ref_dataset_senders",
        description=(
            "For each dataset of the contract: its partner, cadence, how many months one file "
            "covers, whether areas expect it (expected), never expect it (voluntary) or it is "
            "reference data, and which org an area expects it from."
        ),
        columns=(
            ("dataset", "varchar", "partner__dataset."),
            ("partner", "varchar", "The partner that sends it."),
            ("cadence", "varchar", "monthly or annual."),
            (
                "months_covered",
                "integer",
                "Months one file covers, ending with its period's month.",
            ),
            ("coverage", "varchar", "expected, voluntary or reference."),
            (
                "org_kind",
                "varchar",
                "Whose file an area expects: council (the council's own), health_board (the "
                "board serving the council), fixed (the one national org), charity.",
            ),
            ("fixed_org", "varchar", "The org code when org_kind is fixed."),
        ),
        rows=tuple(
            (
                dataset.id,
                dataset.partner,
                dataset.cadence,
                dataset.covers_months_before_period + 1,
                dataset.coverage,
                contract.partner_by_id[dataset.partner].org.kind,
                contract.partner_by_id[dataset.partner].org.code,
            )
            for dataset in contract.datasets
        ),
        source=CONTRACT_REFERENCE,
    )
    codes = Seed(
        name="ref_codes",
        description=(
            "Every code of every code list of the contract (the councils excepted): what a coded "
            "column may hold, and what each code means."
        ),
        columns=(
            ("code_list", "varchar", "The code list (SEX, SRC, DEREG, ...)."),
            ("code", "varchar", "A code of the list, as stored."),
            ("label", "varchar", "What the code means."),
        ),
        rows=tuple(
            (code_list.id, code.code, code.label)
            for code_list in contract.code_lists
            if code_list.id != "COUNCIL"
            for code in code_list.codes
        ),
        source=CONTRACT_REFERENCE,
    )
    return councils, areas, members, senders, codes


# -- the catalogue -------------------------------------------------------------------------------


def _catalogue_seeds(contract: Contract, catalogue: Catalogue) -> tuple[Seed, ...]:
    datasets = contract.dataset_by_id
    indicators = Seed(
        name="ref_indicators",
        description="The indicator catalogue, one row per indicator (lists are |-separated).",
        columns=(
            ("indicator_id", "varchar", "MDS01..MDS41."),
            ("name", "varchar", "The indicator's name."),
            ("kind", "varchar", "flow, stock or year."),
            ("unit", "varchar", "The unit of its rows' values."),
            ("unit_text", "varchar", "The unit as indicators.md writes it."),
            ("numerator_unit", "varchar", "What the numerator counts: count or distinct_children."),
            ("definition", "varchar", "The definition, word for word from indicators.md."),
            ("numerator", "varchar", "What the numerator counts, in words."),
            ("denominator", "varchar", "What the denominator is, in words."),
            ("denominator_kind", "varchar", "none, population, indicator or other."),
            ("denominator_base", "varchar", "The indicator whose count is the denominator."),
            ("n_children", "varchar", "What n_children holds, where set."),
            ("breakdowns", "varchar", "Its breakdowns."),
            ("total_row", "boolean", "Whether it has a total row."),
            ("period_types", "varchar", "The period types it is computed for."),
            ("inputs", "varchar", "The datasets it reads (coverage is computed from these)."),
            ("parameters", "varchar", "Its parameters, as name=value unit."),
            ("flags", "varchar", "The flags its rows can carry."),
            ("provisional", "varchar", "When a period is provisional, in words."),
            ("provisional_watermark", "varchar", "The dataset whose latest month decides it."),
            ("provisional_days", "integer", "Days after the period that must be in the data."),
            ("related", "varchar", "Indicators to read it with."),
            ("section", "varchar", "The catalogue section (group) it belongs to."),
            ("commentary", "varchar", "How to read it and what it can't say."),
            ("has_interval", "boolean", "Whether its rows carry a 95% interval."),
            ("lookback_months", "integer", "How far its look-back window reaches, in months."),
            ("lookback_from", "varchar", "period_start (flow) or period_end (stock)."),
            ("sort_order", "integer", "Catalogue order."),
        ),
        rows=tuple(
            _indicator_row(indicator, catalogue, order)
            for order, indicator in enumerate(catalogue.indicators, start=1)
        ),
        source=CATALOGUE_DIR,
    )
    inputs = Seed(
        name="ref_indicator_inputs",
        description="The datasets each indicator reads, and whether areas expect each.",
        columns=(
            ("indicator_id", "varchar", "The indicator."),
            ("dataset", "varchar", "A dataset it reads (partner__dataset)."),
            ("coverage", "varchar", "expected, voluntary or reference (only expected ones count)."),
        ),
        rows=tuple(
            (indicator.id, dataset, datasets[dataset].coverage)
            for indicator in catalogue.indicators
            for dataset in indicator.inputs
        ),
        source=CATALOGUE_DIR,
    )
    period_types = Seed(
        name="ref_indicator_period_types",
        description="The period types each indicator is computed for.",
        columns=(
            ("indicator_id", "varchar", "The indicator."),
            ("period_type", "varchar", "month, quarter or year."),
        ),
        rows=tuple(
            (indicator.id, period_type)
            for indicator in catalogue.indicators
            for period_type in indicator.period_types
        ),
        source=CATALOGUE_DIR,
    )
    rows = Seed(
        name="ref_indicator_rows",
        description=(
            "Every row each cell of an indicator has: the total (unless it has none) and every "
            "value of every breakdown, zeros included; for a rate on population, the population "
            "the row is a rate of (none for unborn, unknown, 18+ and U rows)."
        ),
        columns=(
            ("indicator_id", "varchar", "The indicator."),
            ("breakdown", "varchar", "total, or the breakdown's name."),
            ("breakdown_value", "varchar", "total, or the breakdown's value."),
            ("row_order", "integer", "Display order within the indicator."),
            ("has_population", "boolean", "Whether the row is a rate of a population."),
            ("population_sex", "varchar", "M or F for a sex row; null for both sexes."),
            ("population_min_age", "integer", "The youngest age in the row's population."),
            ("population_max_age", "integer", "The oldest age in the row's population."),
        ),
        rows=tuple(_indicator_rows(catalogue)),
        source=CATALOGUE_DIR,
    )
    return indicators, inputs, period_types, rows


def _indicator_row(indicator: Indicator, catalogue: Catalogue, order: int) -> tuple[Any, ...]:
    lookback = _lookback_months(indicator)
    provisional = indicator.provisional
    return (
        indicator.id,
        indicator.name,
        indicator.kind,
        indicator.unit,
        indicator.unit_text,
        indicator.numerator_unit,
        indicator.definition,
        indicator.numerator,
        indicator.denominator.text,
        indicator.denominator.kind,
        indicator.denominator.base,
        indicator.n_children,
        LIST_SEPARATOR.join(indicator.breakdown_names),
        indicator.total_row,
        LIST_SEPARATOR.join(indicator.period_types),
        LIST_SEPARATOR.join(indicator.inputs),
        LIST_SEPARATOR.join(
            f"{parameter.name}={parameter.value} {parameter.unit}"
            for parameter in indicator.parameters
        ),
        LIST_SEPARATOR.join(indicator.flags),
        provisional.text if provisional else None,
        provisional.watermark if provisional else None,
        indicator.parameter_by_name[provisional.window_parameter].value if provisional else None,
        LIST_SEPARATOR.join(indicator.related),
        catalogue.section_of(indicator.id).id,
        indicator.commentary,
        indicator.interval and indicator.unit in ("rate_per_1000", "percent"),
        lookback,
        LOOKBACK_ANCHOR.get(indicator.kind) if lookback else None,
        order,
    )


def _lookback_months(indicator: Indicator) -> int | None:
    """The months its look-back reaches (the partial_lookback flag): its months parameter."""
    if "partial_lookback" not in indicator.flags:
        return None
    months = [parameter for parameter in indicator.parameters if parameter.unit == "months"]
    if len(months) != 1:
        raise ValueError(f"{indicator.id}: partial_lookback needs exactly one months parameter")
    return months[0].value


def _indicator_rows(catalogue: Catalogue) -> list[tuple[Any, ...]]:
    statistics = catalogue.rules.statistics
    total_ages = (statistics.population_min_age, statistics.population_max_age)
    rows = []
    for indicator in catalogue.indicators:
        on_population = indicator.denominator.kind == "population"
        order = 0
        if indicator.total_row:
            order += 1
            rows.append(
                (
                    indicator.id,
                    TOTAL,
                    TOTAL,
                    order,
                    on_population,
                    None,
                    *_ages(on_population, total_ages),
                )
            )
        for name in indicator.breakdown_names:
            breakdown = catalogue.breakdown_by_name[name]
            labels = {value.code: value for value in breakdown.values}
            for code in catalogue.breakdown_codes(indicator.id, name):
                order += 1
                sex, ages = None, total_ages
                if name == "age_band":
                    band = labels[code]
                    within = band.min_age is not None and band.max_age is not None
                    ages = (band.min_age, band.max_age) if within else None
                elif name == "sex":
                    sex = code if code in ("M", "F") else None
                    ages = total_ages if sex else None
                has_population = on_population and ages is not None
                rows.append(
                    (
                        indicator.id,
                        name,
                        code,
                        order,
                        has_population,
                        sex if has_population else None,
                        *_ages(has_population, ages),
                    )
                )
    return rows


def _ages(has_population: bool, ages: tuple[int, int] | None) -> tuple[int | None, int | None]:
    return ages if has_population and ages else (None, None)


# -- files ---------------------------------------------------------------------------------------


def _csv(seed: Seed) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(column for column, _, _ in seed.columns)
    for row in seed.rows:
        writer.writerow(_cell(value) for value in row)
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _seed_yaml(seed: Seed) -> str:
    document = {
        "version": 2,
        "seeds": [
            {
                "name": seed.name,
                "description": seed.description,
                "config": {
                    "column_types": {name: sql_type for name, sql_type, _ in seed.columns},
                },
                "columns": [
                    {"name": name, "description": text, "data_type": sql_type}
                    for name, sql_type, text in seed.columns
                ],
            }
        ],
    }
    return yaml_document("#", seed.source, document, GENERATOR_MODULE)


def _age_band_macro(catalogue: Catalogue) -> str:
    conditions = []
    for band in catalogue.age_bands:
        if band.min_age is None:
            continue
        upper = "" if band.max_age is None else f" and {{{{ age }}}} <= {band.max_age}"
        conditions.append(
            f"        when {{{{ age }}}} >= {band.min_age}{upper} then '{band.code}'\n"
        )
    return (
        f"{{# {MARKER} from {CATALOGUE_DIR}breakdowns.yaml (age_band):\n"
        f"   edit that (or {GENERATOR_MODULE}), not this file.\n\n"
        "   The age band of a child on a date (indicators.md, Age): whole years from the month\n"
        "   of birth, the child taken as born on its first day. unborn: the date is before the\n"
        "   birth, or no birth month is known and the date is before the expected date of birth;\n"
        "   unknown: neither is known, or the expected date has passed. #}\n"
        "{% macro age_band(birth_month, expected_date_of_birth, on_date) %}\n"
        "    {%- set age = age_in_years(birth_month, on_date) %}\n"
        "    case\n"
        "        when {{ birth_month }} is null then\n"
        "            case\n"
        "                when {{ expected_date_of_birth }} is not null\n"
        "                    and {{ on_date }} < {{ expected_date_of_birth }} then 'unborn'\n"
        "                else 'unknown'\n"
        "            end\n"
        "        when {{ on_date }} < {{ birth_month }} then 'unborn'\n"
        + "".join(conditions)
        + "    end\n{% endmacro %}\n"
    )
