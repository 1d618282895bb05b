"""Runs the journey simulation and the annual returns, and returns every record version."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from cpmds.progress import stage
from cpmds.synthetic import child_protection, services
from cpmds.synthetic.history import History
from cpmds.synthetic.options import GenerateOptions
from cpmds.synthetic.people import EPOCH, Population
from cpmds.synthetic.world import World, stable_seed

EDUCATION = "education__attendance"
POPULATION = "nrs__population"
NRS = "NRS"


def simulate(options: GenerateOptions, progress: bool = True) -> History:
    world = World(options)
    _schedule(world)
    total_days = (world.last_day - world.warm_up_start("looked_after")).days + 1
    with stage("Simulating journeys", total_days, progress) as advance:
        seen = [world.warm_up_start("looked_after")]

        def on_day(day: dt.date) -> None:
            if day > seen[0]:
                advance((day - seen[0]).days)
                seen[0] = day

        world.run_calendar(on_day)
        advance(max(0, (world.last_day - seen[0]).days + 1))
    history = world.recorder.history()
    rng = np.random.default_rng(stable_seed(options.seed, "annual"))
    history[EDUCATION] = _attendance(world, rng)
    history[POPULATION] = _population(world, rng)
    return history


def _schedule(world: World) -> None:
    model = world.model
    cp_start = world.warm_up_start("child_protection")
    other_start = world.warm_up_start("other")
    for council in world.councils:
        rate = world.council_rate
        streams = [
            (cp_start, rate(council, model["child_protection"]["concern_families_per_year"]),
             child_protection.concern_family),
            (cp_start, rate(council, model["pre_birth"]["referrals_per_year"]),
             child_protection.pre_birth_referral),
            (world.warm_up_start("looked_after"),
             rate(council, model["looked_after"]["episodes_per_year"], practice=False),
             services.looked_after_episode),
            (other_start, rate(council, model["reporter"]["care_and_protection_children_per_year"],
                               practice=False), services.care_referral),
            (other_start, rate(council, model["reporter"]["offence_children_per_year"],
                               practice=False), services.offence_referral),
            (other_start, rate(council, model["police"]["other_concern_reports_per_year"],
                               practice=False), services.other_police_concern),
            (other_start, rate(council, model["police"]["crimes_per_year"], practice=False),
             services.crime),
            (other_start, rate(council, model["health"]["unlinked_medicals_per_year"]),
             services.unlinked_medical),
            (other_start, rate(council, model["third_sector"]["referrals_per_year"],
                               practice=False), services.family_support_referral),
            (other_start, rate(council, model["learning_reviews"]["per_year"], practice=False),
             services.learning_review),
        ]  # fmt: skip
        for start, per_year, action in streams:
            world.arrivals(per_year, start, action, world, council)


def _annual_years(world: World) -> range:
    return range(world.first_day.year, world.last_day.year + 1)


def _attendance(world: World, rng: np.random.Generator) -> pl.DataFrame:
    """One row per pupil and school year ending in July of a year in range."""
    frames = []
    for year in _annual_years(world):
        period = year * 100 + 7
        if not world.options.period_from <= period <= world.options.period_to:
            continue
        year_start, year_end = dt.date(year - 1, 8, 1), dt.date(year, 7, 31)
        for council in world.councils:
            frames.append(
                _school_year(world, world.populations[council], year, year_start, year_end, rng)
            )
    return pl.concat(frames) if frames else _empty(world, EDUCATION)


def _school_year(
    world: World,
    population: Population,
    year: int,
    year_start: dt.date,
    year_end: dt.date,
    rng: np.random.Generator,
) -> pl.DataFrame:
    model = world.model["education"]
    # P1 to S6: born March of year-18 to February of year-5; fewer stay on for S5 and S6.
    first = _days(dt.date(year - 18, 3, 1))
    staying_on_until = _days(dt.date(year - 16, 3, 1))
    last = _days(dt.date(year - 5, 3, 1))
    pupils = np.flatnonzero((population.dob >= first) & (population.dob < last))
    older = population.dob[pupils] < staying_on_until
    keep = np.where(older, rng.random(len(pupils)) < 0.7, True)
    keep &= rng.random(len(pupils)) < 0.96  # independent schools and home education
    pupils = pupils[keep]
    registered, looked_after = _flags(world, population.council, pupils, year_start, year_end)
    count = len(pupils)
    possible = np.full(count, model["sessions_possible"], dtype=np.int64)
    part_year = rng.random(count) < 0.06
    possible[part_year] = rng.integers(60, model["sessions_possible"], part_year.sum())
    means = np.full(count, model["attendance_mean"]["all"])
    means[looked_after] = model["attendance_mean"]["looked_after"]
    means[registered] = model["attendance_mean"]["registered"]
    concentration = 20.0
    ratio = rng.beta(means * concentration, (1 - means) * concentration)
    attended = np.minimum(possible, np.round(possible * ratio).astype(np.int64))
    rates = np.full(count, model["exclusions_per_pupil"]["all"])
    rates[looked_after] = model["exclusions_per_pupil"]["looked_after"]
    rates[registered] = model["exclusions_per_pupil"]["registered"]
    exclusions = rng.poisson(rates)
    chi_known = rng.random(count) < model["chi_known"]
    chis = [f"{chi:010d}" if known else None for chi, known in
            zip(population.chi[pupils].tolist(), chi_known.tolist(), strict=True)]  # fmt: skip
    return pl.DataFrame(
        {
            "pupil_id": population.pupil_id[pupils].astype(str),
            "chi": chis,
            "sessions_possible": possible,
            "sessions_attended": attended,
            "exclusions": exclusions.astype(np.int64),
            "_org": population.council,
            "_period": year * 100 + 7,
        },
        schema_overrides={"_period": pl.Int32, "chi": pl.Utf8},
    )


def _flags(world: World, council: str, pupils: np.ndarray, start: dt.date, end: dt.date):
    """Which pupils were on the register, and which looked after, at any time in the school year."""
    registered_index, looked_after_index = [], []
    for child in world.children_of(council):
        if any(begin <= end and finish >= start for begin, finish in child.registered):
            registered_index.append(child.index)
        if any(begin <= end and finish >= start for begin, finish in child.looked_after):
            looked_after_index.append(child.index)
    registered = np.isin(pupils, np.array(registered_index, dtype=np.int64))
    looked_after = np.isin(pupils, np.array(looked_after_index, dtype=np.int64))
    return registered, looked_after


def _population(world: World, rng: np.random.Generator) -> pl.DataFrame:
    """NRS mid-year estimates at 30 June of each year in range, by council, sex and age 0-90."""
    frames = []
    ages = np.arange(91)
    # Adults per child by age: flat to 60, then fewer each year; 90 holds 90 and over.
    adult_shape = np.where(
        ages < 18, 0.0, np.where(ages <= 60, 1.0, np.maximum(0.1, 1 - (ages - 60) / 35))
    )
    adult_shape[90] = 1.6
    adult_shape = adult_shape / adult_shape.sum()
    for year in _annual_years(world):
        mid_year = dt.date(year, 6, 30)
        for council in world.councils:
            population = world.populations[council]
            births = population.dob.astype("datetime64[D]")
            birth_years = births.astype("datetime64[Y]").astype(int) + 1970
            after_mid_year = (births - births.astype("datetime64[Y]")).astype(int) > (
                mid_year - dt.date(year, 1, 1)
            ).days
            age = year - birth_years - after_mid_year
            born = population.dob <= _days(mid_year)
            for male, sex in ((True, "M"), (False, "F")):
                chosen = born & (population.male == male) & (age <= 17)
                children = np.bincount(age[chosen], minlength=18)[:18]
                adults_total = children.sum() * 4.35 * (0.97 if male else 1.03)
                adults = np.round(adult_shape[18:] * adults_total * rng.uniform(0.97, 1.03, 73))
                counts = np.concatenate([children, adults]).astype(np.int64)
                frames.append(
                    pl.DataFrame(
                        {
                            "council_code": council,
                            "sex": sex,
                            "age": ages,
                            "population": counts,
                            "_org": NRS,
                            "_period": year * 100 + 6,
                        },
                        schema_overrides={"_period": pl.Int32, "age": pl.Int64},
                    )
                )
    return pl.concat(frames) if frames else _empty(world, POPULATION)


def _empty(world: World, dataset_id: str) -> pl.DataFrame:
    return world.recorder.history_frame(dataset_id, [])


def _days(day: dt.date) -> int:
    return (day - EPOCH).days
