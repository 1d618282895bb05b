"""The journey simulation tells consistent stories: records refer to each other as real ones do."""

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cpmds.contract import load_contract
from cpmds.synthetic.options import GenerateOptions
from cpmds.synthetic.simulate import simulate


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "raw"
    options = GenerateOptions.build(
        out=out, seed=3, councils=6, period_from=202304, period_to=202403, scale=1.0
    )
    return simulate(options, progress=False)


def latest(frame: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    return frame.sort("_period").group_by([*key, "_org"], maintain_order=True).last()


def test_every_dataset_has_the_contract_columns(history):
    contract = load_contract()
    assert set(history) == set(contract.dataset_by_id)
    for dataset in contract.datasets:
        assert history[dataset.id].columns == [*dataset.column_names, "_org", "_period"]


def test_every_social_work_child_reference_has_a_child_record(history):
    children = history["sw__children"].select("child_id", "_org").unique()
    for dataset_id in ("sw__concerns", "sw__irds", "sw__cppms", "sw__registrations"):
        referenced = history[dataset_id].select("child_id", "_org").unique()
        missing = referenced.join(children, on=["child_id", "_org"], how="anti")
        assert missing.height == 0, dataset_id


def test_registrations_end_after_they_start_with_a_reason(history):
    registrations = latest(history["sw__registrations"], ["registration_id"])
    ended = registrations.filter(pl.col("deregistration_date").is_not_null())
    assert ended.height > 100
    assert ended.filter(pl.col("deregistration_date") < pl.col("registration_date")).height == 0
    assert ended["deregistration_reason"].null_count() == 0


def test_sibling_irds_and_multi_victim_crimes_occur(history):
    irds = history["sw__irds"].group_by("ird_id", "_org").agg(pl.col("child_id").n_unique())
    assert irds.filter(pl.col("child_id") > 1).height > 0
    crimes = history["police__offences"].group_by("crime_id").agg(pl.len())
    assert crimes.filter(pl.col("len") > 1).height > 0


def test_initial_meetings_name_an_ird_of_their_council(history):
    # An initial meeting follows its IRD within 60 days: from June on, the IRD is in range too.
    meetings = history["sw__cppms"].filter(
        (pl.col("meeting_type") == "INI") & (pl.col("meeting_date") >= dt.date(2023, 6, 1))
    )
    irds = history["sw__irds"].select("ird_id", "_org").unique()
    named = meetings.filter(pl.col("ird_id").is_not_null())
    assert named.join(irds, on=["ird_id", "_org"], how="anti").height == 0
    assert 0 < meetings["ird_id"].null_count() < meetings.height * 0.2


def test_children_link_across_partners_by_chi(history):
    registered_children = latest(history["sw__registrations"], ["registration_id"]).join(
        latest(history["sw__children"], ["child_id"]), on=["child_id", "_org"]
    )
    chis = set(registered_children["chi"].drop_nulls())
    attendance = set(history["education__attendance"]["chi"].drop_nulls())
    assert len(chis & attendance) > 50
    referrals = set(history["scra__referrals"]["chi"].drop_nulls())
    assert len(chis & referrals) > 20


def test_unborn_children_are_registered_before_birth_and_born_later(history):
    children = history["sw__children"]
    unborn_first = children.filter(
        pl.col("date_of_birth").is_null() & pl.col("expected_date_of_birth").is_not_null()
    )
    assert unborn_first.height > 0
    assert set(unborn_first["sex"]) == {"U"}
    born_later = latest(children, ["child_id"]).join(
        unborn_first.select("child_id", "_org"), on=["child_id", "_org"]
    )
    assert born_later["date_of_birth"].null_count() < born_later.height


def test_same_seed_same_history(tmp_path):
    options = GenerateOptions.build(
        out=tmp_path / "raw", seed=9, councils=2, period_from=202401, period_to=202403, scale=0.3
    )
    first, second = simulate(options, progress=False), simulate(options, progress=False)
    for dataset_id, frame in first.items():
        assert_frame_equal(frame, second[dataset_id])
