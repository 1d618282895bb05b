import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from cpmds.catalogue import DATA_DIR, load_catalogue
from cpmds.contract import load_contract


def broken_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """A copy of the real catalogue data with one exact text change in one file."""
    data_dir = tmp_path / "catalogue"
    shutil.copytree(DATA_DIR, data_dir)
    path = data_dir / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {file}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return data_dir


def indicators_with(predicate) -> set[str]:
    return {i.id for i in load_catalogue().indicators if predicate(i)}


def test_the_catalogue_has_the_41_indicators_in_order():
    ids = [indicator.id for indicator in load_catalogue().indicators]
    assert ids == [f"MDS{n:02d}" for n in range(1, 42)]


def test_every_input_is_a_contract_dataset():
    datasets = load_contract().dataset_by_id
    for indicator in load_catalogue().indicators:
        assert set(indicator.inputs) <= set(datasets), indicator.id


@pytest.mark.parametrize(
    ("indicator_id", "name", "value", "unit"),
    [
        ("MDS09", "lookback", 12, "months"),
        ("MDS14", "max_interval", 28, "days"),
        ("MDS16", "min_age", 5, "years"),
        ("MDS21", "lookback", 18, "months"),
        ("MDS23", "duration", 12, "months"),
        ("MDS35", "window", 12, "months"),
        ("MDS35", "min_placements", 3, "placements"),
        ("MDS39", "lookback", 12, "months"),
        ("MDS40", "window", 90, "days"),
    ],
)
def test_parameters_have_the_spec_values(indicator_id, name, value, unit):
    parameter = load_catalogue().indicator_by_id[indicator_id].parameter_by_name[name]
    assert (parameter.value, parameter.unit) == (value, unit)


def test_flags_follow_the_common_rules():
    assert indicators_with(lambda i: "voluntary_returns" in i.flags) == {"MDS38", "MDS39"}
    assert indicators_with(lambda i: "partial_lookback" in i.flags) == {
        "MDS09",
        "MDS21",
        "MDS35",
        "MDS39",
    }
    rates = {"MDS01", "MDS02", "MDS05", "MDS18", "MDS19", "MDS28", "MDS30", "MDS34"}
    assert indicators_with(lambda i: "no_population" in i.flags) == rates
    assert indicators_with(lambda i: i.provisional is not None) == {"MDS40"}
    stocks = indicators_with(lambda i: i.kind == "stock")
    assert stocks == {"MDS19", "MDS25", "MDS34", "MDS35"}
    assert stocks <= indicators_with(lambda i: "history_gap" in i.flags)


def test_units_and_bases_match_the_spec():
    catalogue = load_catalogue()
    mds33 = catalogue.indicator_by_id["MDS33"]
    assert (mds33.unit, mds33.numerator_unit) == ("percent", "count")
    mds19 = catalogue.indicator_by_id["MDS19"]
    assert (mds19.unit, mds19.numerator_unit) == ("rate_per_1000", "distinct_children")
    bases = {i.id: i.denominator.base for i in catalogue.indicators if i.denominator.base}
    assert bases["MDS21"] == bases["MDS39"] == "MDS18"
    assert bases["MDS25"] == "MDS19"


def test_counts_published_again_are_stated_once_and_read_both_ways():
    catalogue = load_catalogue()
    stated = {i.id: i.same_counts for i in catalogue.indicators if i.same_counts}
    assert {
        indicator_id: [(s.count, s.indicator, s.their) for s in entries]
        for indicator_id, entries in stated.items()
    } == {
        "MDS22": [("numerator", "MDS20", "numerator")],
        "MDS37": [("denominator", "MDS36", "n_children")],
    }
    (mds36,) = catalogue.same_counts_of("MDS36")
    assert (mds36.count, mds36.indicator, mds36.their) == ("n_children", "MDS37", "denominator")
    assert catalogue.same_counts_of("MDS04") == ()
    assert catalogue.indicator_by_id["MDS20"].counts == ("numerator",)
    assert catalogue.indicator_by_id["MDS36"].counts == ("numerator", "denominator", "n_children")


def test_breakdown_restrictions():
    catalogue = load_catalogue()
    assert catalogue.breakdown_codes("MDS13", "meeting_type") == ("INI", "PRE")
    assert catalogue.breakdown_codes("MDS20", "reason") == (
        "RR",
        "TO",
        "MO",
        "AG",
        "CA",
        "DI",
        "OT",
    )
    assert not catalogue.indicator_by_id["MDS24"].total_row
    assert [band.code for band in catalogue.age_bands] == [
        "unborn",
        "0-4",
        "5-10",
        "11-15",
        "16-17",
        "18+",
        "unknown",
    ]
    multi = {b.name for b in catalogue.breakdowns if not b.adds_up}
    assert multi == {"concern_type", "concern", "group"}


def test_children_are_read_wherever_age_sex_or_chi_is_needed():
    needs_children = {"MDS05", "MDS06", "MDS09", "MDS16", "MDS18", "MDS19", "MDS21", "MDS25"}
    needs_children |= {"MDS26", "MDS27", "MDS34", "MDS35", "MDS36", "MDS37", "MDS39", "MDS40"}
    assert indicators_with(lambda i: "sw__children" in i.inputs) == needs_children


def test_education_is_yearly_only():
    for indicator_id in ("MDS36", "MDS37"):
        assert load_catalogue().indicator_by_id[indicator_id].period_types == ("year",)


def test_coverage_ignores_voluntary_and_reference_inputs():
    catalogue, contract = load_catalogue(), load_contract()
    assert catalogue.expected_inputs("MDS39", contract) == (
        "sw__registrations",
        "sw__children",
        "sw__concerns",
    )
    assert catalogue.expected_inputs("MDS01", contract) == ("sw__concerns",)


def test_sections_hold_every_indicator_once_and_the_journey_is_a_chain():
    catalogue = load_catalogue()
    members = [m for section in catalogue.sections for m in section.members]
    assert sorted(members) == [i.id for i in catalogue.indicators]
    journey = next(group for group in catalogue.chains if group.id == "journey")
    assert journey.members == ("MDS05", "MDS08", "MDS10", "MDS13", "MDS15", "MDS18")


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        pytest.param("breakdowns.yaml", 'code_list: "OFF"', "code_list: OFF", id="yaml-boolean"),
        pytest.param(
            "breakdowns.yaml", "{code: registered,", "{code: No,", id="yaml-boolean-value"
        ),
        pytest.param("breakdowns.yaml", "code_list: FS", "code_list: NOPE", id="unknown-code-list"),
        pytest.param(
            "indicators.yaml",
            "inputs: [sw__concerns, nrs__population]",
            "inputs: [sw__concernz, nrs__population]",
            id="unknown-input",
        ),
        pytest.param("indicators.yaml", "- id: MDS41", "- id: MDS42", id="missing-indicator"),
        pytest.param("indicators.yaml", "- id: MDS41", "- id: MDS40", id="duplicate-indicator"),
        pytest.param(
            "indicators.yaml",
            "related: [MDS02, MDS03, MDS05, MDS39]",
            "related: [MDS02, MDS99]",
            id="unknown-related",
        ),
        pytest.param("indicators.yaml", "base: MDS13", "base: MDS77", id="unknown-base"),
        pytest.param("indicators.yaml", "value: 28", 'value: "28 days"', id="untyped-parameter"),
        pytest.param("indicators.yaml", "only: [INI, PRE]", "only: [INI, XXX]", id="bad-only"),
        pytest.param(
            "indicators.yaml",
            "inputs: [sw__irds, sw__children, nrs__population]",
            "inputs: [sw__irds, nrs__population]",
            id="age-without-children",
        ),
        pytest.param(
            "indicators.yaml", "flags: [voluntary_returns]", "flags: []", id="voluntary-flag"
        ),
        pytest.param(
            "indicators.yaml",
            "unit_text: count; %\n  unit: percent",
            "unit_text: count; %\n  unit: rate_per_1000",
            id="unit-vs-text",
        ),
        pytest.param(
            "indicators.yaml",
            "{count: numerator, indicator: MDS20, their: numerator}",
            "{count: numerator, indicator: MDS99, their: numerator}",
            id="same-count-unknown-indicator",
        ),
        pytest.param(
            "indicators.yaml",
            "{count: numerator, indicator: MDS20, their: numerator}",
            "{count: numerator, indicator: MDS22, their: numerator}",
            id="same-count-itself",
        ),
        pytest.param(
            "indicators.yaml",
            "{count: numerator, indicator: MDS20, their: numerator}",
            "{count: numerator, indicator: MDS20, their: denominator}",
            id="same-count-theirs-missing",
        ),
        pytest.param(
            "indicators.yaml",
            "{count: numerator, indicator: MDS20, their: numerator}",
            "{count: n_children, indicator: MDS20, their: numerator}",
            id="same-count-ours-missing",
        ),
        pytest.param(
            "indicators.yaml",
            "{count: denominator, indicator: MDS36, their: n_children}",
            "{count: denominator, indicator: MDS36, their: pupils}",
            id="same-count-unknown-count",
        ),
        pytest.param(
            "indicators.yaml",
            "related: [MDS37, MDS19, MDS34]",
            "related: [MDS37, MDS19, MDS34]\n  same_counts:\n"
            "    - {count: n_children, indicator: MDS37, their: denominator}",
            id="same-count-stated-twice",
        ),
        pytest.param(
            "indicators.yaml",
            "text: Deregistrations in the period (MDS20).\n",
            "text: Deregistrations in the period (MDS20).\n"
            "  same_counts: [{count: denominator, indicator: MDS20, their: numerator}]\n",
            id="same-count-is-the-base",
        ),
        pytest.param("groups.yaml", "members: [MDS41]", "members: [MDS41, MDS77]", id="group"),
        pytest.param("groups.yaml", "members: [MDS38, MDS39]", "members: [MDS38]", id="section"),
    ],
)
def test_a_broken_catalogue_is_refused(tmp_path, file, old, new):
    with pytest.raises(ValidationError):
        load_catalogue(broken_copy(tmp_path, file, old, new))


def test_an_unbroken_copy_loads(tmp_path):
    # The broken-copy tests mean something only if an untouched copy loads.
    data_dir = tmp_path / "catalogue"
    shutil.copytree(DATA_DIR, data_dir)
    assert len(load_catalogue(data_dir).indicators) == 41
