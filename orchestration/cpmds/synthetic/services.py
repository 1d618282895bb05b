"""The other services' records: looked-after episodes, the Reporter, police, health, voluntary
sector and learning reviews. Each function records one event (and what it leads to)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from cpmds.synthetic.world import Child, World, add_years

POLICE = "PS"
SCRA = "SCRA"

OFFENCE_GROUND = "j"
CARE_GROUNDS = {
    "a": 0.30, "b": 0.08, "c": 0.05, "d": 0.04, "e": 0.16, "f": 0.16, "g": 0.03, "h": 0.02,
    "i": 0.01, "k": 0.02, "l": 0.02, "m": 0.04, "n": 0.04, "o": 0.03, "p": 0.002, "q": 0.002,
}  # fmt: skip
POLICE_CONCERN_TYPES = {
    "DA": 0.40, "NEG": 0.22, "MIS": 0.10, "ONL": 0.05, "SUB": 0.08, "CSE": 0.03, "TRF": 0.005,
    "OTH": 0.115,
}  # fmt: skip
OFFENCE_VICTIM_AGES = {
    "SEX": (8, 17), "S12": (0, 12), "ONL": (10, 17), "DA": (0, 15), "TRF": (13, 17), "OTH": (5, 17),
}  # fmt: skip


def sw_child_id(world: World, child: Child, council: str, day: dt.date) -> str:
    """The council's own reference for the child, creating its ``children`` record when new."""
    known = child.sw_ids.get(council)
    if known is not None:
        return known
    child_id = world.next_id(council, _child_id_prefix(council), width=7)
    child.sw_ids[council] = child_id
    expected = None
    if not child.born_by(day):
        expected = child.date_of_birth + world.days(-14, 14)
    state: dict[str, Any] = {
        "child_id": child_id,
        "chi": child.chi if child.chi_known and child.born_by(day) else None,
        "date_of_birth": child.date_of_birth if child.born_by(day) else None,
        "expected_date_of_birth": expected,
        "sex": child.sex if child.born_by(day) else "U",
        "ethnicity": child.ethnicity,
        "disability": child.disability,
        "postcode": child.postcode,
    }
    changes = []
    if expected is not None:
        birth = {"date_of_birth": child.date_of_birth, "sex": child.sex}
        birth["chi"] = child.chi if child.chi_known else None
        changes.append((child.date_of_birth, birth))
    world.recorder.record("sw__children", council, day, state, changes)
    return child_id


def _child_id_prefix(council: str) -> str:
    return ("C", "SW", "CH", "")[int(council[-2:]) % 4]


def police_concern_report(
    world: World, child: Child, council: str, day: dt.date, shared: bool, types=None
) -> None:
    if types is None:
        types = police_concern_types(world)
    state = {
        "report_id": world.next_id(POLICE, "CR", width=8),
        "report_date": day,
        "council_code": council,
        "chi": child.chi if child.born_by(day) else None,
        "date_of_birth": child.date_of_birth if child.born_by(day) else None,
        "sex": child.sex if child.born_by(day) else "U",
        "concern_types": types,
        "shared_with_sw": shared,
    }
    world.recorder.record("police__concern_reports", POLICE, day, state)


# -- looked-after children --------------------------------------------------------------------
def looked_after_episode(day: dt.date, world: World, council: str) -> None:
    model = world.model["looked_after"]
    child = world.pick_child_in_band(council, day, model["age_band_at_start"])
    if child is None or child.looked_after_until >= day:
        return
    episode(world, child, council, day, world.choose(model["main_placement"]))


def looked_after_from_register(world: World, child: Child, council: str, day: dt.date) -> None:
    if child.looked_after_until < day and child.born_by(day):
        main = world.choose({"FOS": 0.45, "KIN": 0.40, "RES": 0.05, "HOME": 0.10})
        episode(world, child, council, day, main)


def episode(world: World, child: Child, council: str, start: dt.date, main: str) -> None:
    model = world.model["looked_after"]
    kind = world.choose({name: spec[2] for name, spec in model["duration_years"].items()})
    low, high, _ = model["duration_years"][kind]
    end = start + dt.timedelta(days=round(world.rng.uniform(low, high) * 365.25))
    end = min(end, child.eighteenth_birthday - dt.timedelta(days=1))
    if end <= start:
        return
    child.looked_after_until = end
    child.looked_after.append((start, end))
    legal = world.choose(model["legal_reason"][main])
    episode_id = world.next_id(council, "EP")
    moves = int(world.choose(model["extra_placements"]))
    placement_start = start
    span = (end - start).days
    for move in range(moves):
        # Earlier placements are short: emergency foster care, a residential unit, kin.
        length = min(span // (moves + 1), world.rng.randint(14, 110))
        if length < 1:
            break
        kind_before = world.choose({"FOS": 0.6, "RES": 0.15, "KIN": 0.2, "OTH": 0.05})
        placement_end = placement_start + dt.timedelta(days=length)
        placement(world, council, child, episode_id, placement_start, placement_end, kind_before,
                  legal)  # fmt: skip
        placement_start = placement_end
        del move
    placement(world, council, child, episode_id, placement_start, end, main, legal)
    if legal == "CSO":
        if world.chance(world.model["reporter"]["referred_when_looked_after_on_order"]):
            reporter_referral_for(world, child, start - world.days(20, 60), "SW", decision="HRG")
        review = add_years(start, 1)
        while review < end:
            hearing(
                world,
                child,
                review,
                world.choose(world.model["reporter"]["review_hearing_outcome"]),
            )
            review = add_years(review, 1)
        if end < child.eighteenth_birthday - dt.timedelta(days=1):
            hearing(world, child, end, "CSO_TERMINATED")


def placement(world, council, child, episode_id, start, end, placement_type, legal) -> None:
    state = {
        "placement_id": world.next_id(council, "PL", width=7),
        "episode_id": episode_id,
        "child_id": sw_child_id(world, child, council, start),
        "placement_start": start,
        "placement_end": None,
        "placement_type": placement_type,
        "legal_reason": legal,
    }
    world.recorder.record("sw__placements", council, start, state, [(end, {"placement_end": end})])


# -- the Children's Reporter --------------------------------------------------------------------
def care_referral(day: dt.date, world: World, council: str) -> None:
    child = world.pick_child(council, day, 0, 15)
    if child is not None:
        source = world.choose(world.model["reporter"]["source_care"])
        reporter_referral_for(world, child, day, source)


def offence_referral(day: dt.date, world: World, council: str) -> None:
    child = world.pick_child(council, day, 12, 17)
    if child is not None:
        source = world.choose(world.model["reporter"]["source_offence"])
        reporter_referral_for(world, child, day, source, offence=True)


def reporter_referral_for(
    world: World,
    child: Child,
    day: dt.date,
    source: str,
    offence: bool = False,
    decision: str | None = None,
    repeat: bool = True,
) -> None:
    if not child.born_by(day):
        return
    model = world.model["reporter"]
    if offence:
        grounds = [OFFENCE_GROUND] + (["n"] if world.chance(0.15) else [])
    else:
        grounds = sorted({world.choose(CARE_GROUNDS) for _ in range(world.rng.randint(1, 2))})
    decision = decision or world.choose(model["decision"])
    median = model["decision_median_days"]
    decided = day + dt.timedelta(
        days=max(3, round(world.rng.lognormvariate(math.log(median), 0.6)))
    )
    council = child.council
    state = {
        "referral_id": world.next_id(SCRA, "R", width=8),
        "chi": child.chi if world.chance(0.97) else None,
        "date_of_birth": child.date_of_birth,
        "sex": child.sex,
        "council_code": council,
        "referral_date": day,
        "referral_source": source,
        "grounds": grounds,
        "decision": None,
        "decision_date": None,
    }
    change = {"decision": decision, "decision_date": decided}
    world.recorder.record("scra__referrals", SCRA, day, state, [(decided, change)])
    if decision == "HRG":
        outcome = world.choose(model["hearing_outcome"])
        hearing(world, child, decided + world.days(14, 56), outcome, state["referral_id"])
    if repeat and world.chance(model["repeat_referral"]):
        later = day + world.days(30, 330)
        world.at(later, _repeat_referral, world, child, source, offence)


def _repeat_referral(day, world, child, source, offence) -> None:
    reporter_referral_for(world, child, day, source, offence=offence, repeat=False)


def hearing(
    world: World, child: Child, day: dt.date, outcome: str, referral_id: str | None = None
) -> None:
    state = {
        "hearing_id": world.next_id(SCRA, "H", width=8),
        "referral_id": referral_id,
        "chi": child.chi if world.chance(0.97) else None,
        "council_code": child.council,
        "hearing_date": day,
        "outcome": outcome,
    }
    world.recorder.record("scra__hearings", SCRA, day, state)


# -- police ---------------------------------------------------------------------------------------
def police_concern_types(world: World) -> list[str]:
    types = {world.choose(POLICE_CONCERN_TYPES)}
    if world.chance(0.2):
        types.add(world.choose(POLICE_CONCERN_TYPES))
    return sorted(types)


def other_police_concern(day: dt.date, world: World, council: str) -> None:
    child = world.pick_child(council, day, 0, 17)
    if child is not None:
        shared = world.chance(world.model["police"]["other_shared_with_sw"])
        types = police_concern_types(world)
        if "CSE" not in types and child.age(day) >= 12 and world.chance(0.04):
            types = sorted({*types, "CSE"})
        police_concern_report(world, child, council, day, shared, types)


def crime(day: dt.date, world: World, council: str) -> None:
    model = world.model["police"]
    group = world.choose(model["offence_group"])
    youngest, oldest = OFFENCE_VICTIM_AGES[group]
    crime_id = world.next_id(POLICE, f"CRM{day:%y}", width=6)
    reported = world.chance(model["reported_to_pf"])
    for victim_no in range(1, int(world.choose(model["victims_per_crime"])) + 1):
        child = world.pick_child(council, day, youngest, oldest)
        if child is None:
            continue
        state = {
            "crime_id": crime_id,
            "victim_no": victim_no,
            "recorded_date": day,
            "council_code": council,
            "victim_chi": child.chi if world.chance(model["victim_chi_known"]) else None,
            "victim_age": child.age(day),
            "offence_group": group,
            "reported_to_pf": reported,
        }
        world.recorder.record("police__offences", POLICE, day, state)


# -- health ---------------------------------------------------------------------------------------
def cp_medical(world: World, child: Child, council: str, day: dt.date, ird_linked: bool) -> None:
    board = world.board_of[council]
    state = {
        "exam_id": world.next_id(board, "MED"),
        "chi": child.chi if world.chance(0.98) else None,
        "exam_date": day,
        "council_code": council,
        "exam_type": world.choose(world.model["health"]["exam_type"]),
        "ird_linked": ird_linked if world.chance(0.9) else None,
    }
    world.recorder.record("health__cp_medicals", board, day, state)


def unlinked_medical(day: dt.date, world: World, council: str) -> None:
    child = world.pick_child(council, day, 0, 15)
    if child is not None:
        cp_medical(world, child, council, day, ird_linked=False)


# -- voluntary sector -----------------------------------------------------------------------------
def charity_for(world: World, council: str) -> str | None:
    model = world.model["third_sector"]
    charities = model["charities"]
    order = sorted(world.targets["councils"])
    position = order.index(council)
    # Each charity works in a run of councils; some councils have none.
    for number, charity in enumerate(charities):
        first = number * 5
        if first <= position < first + model["councils_per_charity"] - 1:
            return charity
    return None


def family_support_referral(day: dt.date, world: World, council: str) -> None:
    child = world.pick_child(council, day, 0, 17)
    if child is not None:
        family_support(world, child, council, day)


def family_support_after_early_help(world: World, child: Child, council: str, day: dt.date):
    if child.born_by(day) and world.chance(world.model["third_sector"]["after_early_help"]):
        family_support(world, child, council, day + world.days(3, 30))


def family_support(world: World, child: Child, council: str, day: dt.date) -> None:
    charity = charity_for(world, council)
    if charity is None:
        return
    state = {
        "support_id": world.next_id(charity, "FS"),
        "chi": child.chi if world.chance(0.9) else None,
        "council_code": council,
        "referral_date": day,
        "start_date": None,
        "end_date": None,
        "support_type": world.choose({"PAR": 0.4, "DA": 0.2, "SUB": 0.15, "YTH": 0.15, "OTH": 0.1}),
    }
    changes = []
    if world.chance(0.8):
        start = day + world.days(3, 30)
        end = start + world.days(30, 300)
        changes = [(start, {"start_date": start}), (end, {"end_date": end})]
    world.recorder.record("thirdsector__family_support", charity, day, state, changes)


# -- learning reviews -----------------------------------------------------------------------------
def learning_review(day: dt.date, world: World, council: str) -> None:
    state = {
        "review_id": world.next_id(council, "LR", width=4),
        "notification_date": day,
        "review_type": world.choose(world.model["learning_reviews"]["review_type"]),
        "decision_date": None,
        "published": None,
    }
    decided = day + world.days(14, 90)
    changes = [(decided, {"decision_date": decided, "published": False})]
    if world.chance(0.4):
        published = decided + world.days(90, 300)
        changes.append((published, {"published": True}))
    world.recorder.record("sw__learning_reviews", council, day, state, changes)
