"""Children's journeys through child protection, as social work, police and health record them.

concern -> IRD (police, health, social work) -> investigation -> initial or pre-birth planning
meeting -> registration -> review meetings -> deregistration; transfers between councils,
re-referrals, and children who become looked after while on the register.
"""

from __future__ import annotations

import datetime as dt

from cpmds.synthetic import services
from cpmds.synthetic.services import police_concern_report, sw_child_id
from cpmds.synthetic.world import Child, World

POLICE = "PS"


def concern_family(day: dt.date, world: World, council: str) -> None:
    """A new concern about a family: one or more siblings."""
    model = world.model["child_protection"]
    first = world.pick_child_in_band(council, day, model["age_band_at_concern"])
    if first is None:
        return
    family = [first]
    for _ in range(int(world.choose(model["sibling_group_size"])) - 1):
        age = max(0, min(17, first.age(day) + world.rng.choice((-4, -3, -2, -1, 1, 2, 3, 4))))
        sibling = world.pick_child(council, day, age, age)
        if sibling is not None and sibling not in family:
            family.append(sibling)
    concern(day, world, council, family, source=world.choose(model["concern_source"]))


def re_referral(day: dt.date, world: World, council: str, family: list[Child]) -> None:
    source = world.choose(world.model["child_protection"]["concern_source"])
    concern(day, world, council, family, source=source)


def concern(
    day: dt.date,
    world: World,
    council: str,
    family: list[Child],
    source: str,
    unborn: bool = False,
) -> None:
    model = world.model["child_protection"]
    busy = any(child.busy_until >= day for child in family)
    if unborn:
        outcome = "IRD" if world.chance(world.model["pre_birth"]["ird"]) else "SA"
    elif busy:
        outcome = world.choose({"SA": 0.6, "NFA": 0.4})
    else:
        outcome = world.choose(model["concern_outcome"])
    decided = day + world.days(*model["concern_decision_days"])
    concern_ids = {}
    for child in family:
        child_id = sw_child_id(world, child, council, day)
        concern_id = world.next_id(council, "CN", width=7)
        concern_ids[child.index] = concern_id
        state = {
            "concern_id": concern_id,
            "child_id": child_id,
            "received_date": day,
            "source": source,
            "outcome": None,
        }
        world.recorder.record(
            "sw__concerns", council, day, state, [(decided, {"outcome": outcome})]
        )
        if source == "POL" and world.chance(model["police_report_for_police_concern"]):
            police_concern_report(world, child, council, day - world.days(0, 3), shared=True)
    if outcome == "EH":
        for child in family:
            services.family_support_after_early_help(world, child, council, decided)
    if outcome != "IRD":
        _maybe_re_refer(world, council, family, decided, "re_referral_after_no_registration")
        return
    for child in family:
        child.busy_until = max(child.busy_until, decided + dt.timedelta(days=60))
    ird(world, council, family, decided, concern_ids, unborn)


def ird(
    world: World,
    council: str,
    family: list[Child],
    day: dt.date,
    concern_ids: dict[int, str],
    unborn: bool,
) -> None:
    model = world.model["child_protection"]
    participation = model["ird_participation"]
    ird_id = world.next_id(council, "IRD")
    police = world.chance(participation["police"])
    health = world.chance(participation["health"])
    if unborn:
        outcome = "INV" if world.chance(world.model["pre_birth"]["investigation"]) else "SA"
    else:
        outcome = world.choose(model["ird_outcome"])
    for child in family:
        state = {
            "ird_id": ird_id,
            "child_id": sw_child_id(world, child, council, day),
            "concern_id": concern_ids.get(child.index),
            "ird_date": day,
            "police_participated": police,
            "health_participated": health,
            "social_work_participated": world.chance(participation["social_work"]),
            "outcome": outcome,
        }
        world.recorder.record("sw__irds", council, day, state)
        if police and world.chance(model["police_records_ird"]):
            police_state = {
                "police_ird_id": world.next_id(POLICE, "PIRD", width=7),
                "council_code": council,
                "ird_date": day,
                "chi": child.chi if child.born_by(day) else None,
            }
            world.recorder.record("police__irds", POLICE, day, police_state)
        if health and child.born_by(day) and world.chance(model["medical_after_ird"]):
            services.cp_medical(world, child, council, day + world.days(0, 10), ird_linked=True)
    if outcome != "INV":
        _maybe_re_refer(world, council, family, day, "re_referral_after_no_registration")
        return
    investigation_outcome = (
        ("CPPM" if world.chance(world.model["pre_birth"]["meeting"]) else "SA")
        if unborn
        else world.choose(model["investigation_outcome"])
    )
    meeting_day = _meeting_day(world, family, day, unborn)
    registered = world.chance(
        world.model["pre_birth"]["registered"] if unborn else model["initial_registered"]
    )
    concerns = registration_concerns(world, family, day)
    for child in family:
        start = day + world.days(0, 2)
        if investigation_outcome == "CPPM":
            end = max(start, meeting_day - world.days(0, 3))
        else:
            end = start + world.days(*model["investigation_days"])
        investigation(world, council, child, ird_id, start, end, investigation_outcome)
        if investigation_outcome == "CPPM":
            meeting_type = "PRE" if not child.born_by(meeting_day) else "INI"
            planning_meeting(
                world, council, child, ird_id, meeting_day, meeting_type, registered, concerns
            )
    if investigation_outcome != "CPPM" or not registered:
        _maybe_re_refer(world, council, family, meeting_day, "re_referral_after_no_registration")


def _meeting_day(world: World, family: list[Child], ird_day: dt.date, unborn: bool) -> dt.date:
    model = world.model["child_protection"]
    if unborn:
        birth = min(child.date_of_birth for child in family)
        return max(ird_day + dt.timedelta(days=7), min(ird_day + world.days(14, 40), birth))
    if world.chance(model["initial_meeting_within_28_days"]):
        return ird_day + world.days(8, 28)
    return ird_day + world.days(29, 60)


def investigation(
    world: World,
    council: str,
    child: Child,
    ird_id: str,
    start: dt.date,
    end: dt.date,
    outcome: str,
) -> None:
    model = world.model["child_protection"]["joint_interview"]
    old_enough = child.born_by(start) and child.age(start) >= 3
    state = {
        "investigation_id": world.next_id(council, "INV"),
        "child_id": sw_child_id(world, child, council, start),
        "ird_id": ird_id,
        "start_date": start,
        "end_date": None,
        "joint_interview": world.chance(
            model["age_3_and_over"] if old_enough else model["younger"]
        ),
        "outcome": None,
    }
    world.recorder.record(
        "sw__investigations", council, start, state, [(end, {"end_date": end, "outcome": outcome})]
    )


def planning_meeting(
    world: World,
    council: str,
    child: Child,
    ird_id: str | None,
    day: dt.date,
    meeting_type: str,
    registered: bool,
    concerns: list[str],
) -> None:
    model = world.model["child_protection"]
    if ird_id is not None and world.chance(model["meeting_ird_id_missing"]):
        ird_id = None
    meeting(world, council, child, day, meeting_type, "REG" if registered else "NREG", ird_id)
    child.busy_until = max(child.busy_until, day)
    if registered:
        register(world, council, child, day, concerns)


def meeting(
    world: World,
    council: str,
    child: Child,
    day: dt.date,
    meeting_type: str,
    outcome: str,
    ird_id: str | None = None,
) -> None:
    model = world.model["child_protection"]
    age = child.age(day) if child.born_by(day) else -1
    views = world.choose(model["views_recorded_age_5_and_over"]) if age >= 5 else "N"
    state = {
        "meeting_id": world.next_id(council, "M", width=7),
        "child_id": sw_child_id(world, child, council, day),
        "meeting_type": meeting_type,
        "meeting_date": day,
        "ird_id": ird_id,
        "outcome": outcome,
        "child_attended": age >= 8 and world.chance(model["child_attended_age_8_and_over"]),
        "child_views_recorded": {"Y": True, "N": False, "blank": None}[views],
        "parent_attended": world.chance(model["parent_attended"]),
    }
    world.recorder.record("sw__cppms", council, day, state)


def registration_concerns(world: World, family: list[Child], day: dt.date) -> list[str]:
    model = world.model["child_protection"]
    weights = model["concerns_at_registration"]
    teenager = any(child.born_by(day) and child.age(day) >= 12 for child in family)
    concerns = []
    for code, probability in weights.items():
        name, _, condition = code.partition("_")
        if condition == "teenager" and not teenager:
            continue
        if world.chance(probability):
            concerns.append(name)
    substance = model["substance_use"]
    if world.chance(substance["any"]):
        kind = world.choose(
            {
                "PAM": substance["PAM_only"],
                "PDM": substance["PDM_only"],
                "both": 1 - substance["PAM_only"] - substance["PDM_only"],
            }
        )
        concerns += ["PAM", "PDM"] if kind == "both" else [kind]
    return concerns or ["NEG"]  # every registration names a concern: neglect is the commonest


def register(world: World, council: str, child: Child, day: dt.date, concerns: list[str]) -> None:
    """A registration, its review meetings and its end."""
    if child.born_by(day) and child.eighteenth_birthday <= day:
        return  # child protection registration ends at 18
    model = world.model["child_protection"]
    registration_id = world.next_id(council, "REG")
    state = {
        "registration_id": registration_id,
        "child_id": sw_child_id(world, child, council, day),
        "registration_date": day,
        "deregistration_date": None,
        "deregistration_reason": None,
        "concerns": concerns,
    }
    if world.chance(model["looked_after_while_registered"]):
        services.looked_after_from_register(world, child, council, day + world.days(0, 120))
    end, reason = _registration_end(world, council, child, day)
    child.registered.append((day, end))
    child.busy_until = max(child.busy_until, end)
    change = {"deregistration_date": end, "deregistration_reason": reason}
    world.recorder.record("sw__registrations", council, day, state, [(end, change)])
    if world.chance(world.model["reporter"]["referred_when_registered"]):
        services.reporter_referral_for(world, child, day + world.days(0, 90), "SW")
    if reason == "TO":
        _transfer(world, council, child, end, concerns)
    elif reason in ("RR", "OT"):
        _maybe_re_refer(world, council, [child], end, "re_referral_after_deregistration")


def _registration_end(
    world: World, council: str, child: Child, registered: dt.date
) -> tuple[dt.date, str]:
    model = world.model["child_protection"]
    adult = child.eighteenth_birthday
    early = model["early_exit"]
    if world.chance(early["probability"]):
        end = registered + world.days(*early["days"])
        if end < adult:
            return end, world.choose(early["reason"])
    reviews = model["review_days"]
    review_day = registered + dt.timedelta(days=reviews["first"])
    for number in range(40):
        review_day += world.days(-reviews["jitter"], reviews["jitter"])
        if review_day >= adult:
            return adult, "AG"
        probabilities = model["deregistered_at_review"]
        deregistered = world.chance(probabilities[min(number, len(probabilities) - 1)])
        if deregistered:
            reason = world.choose(model["review_deregistration_reason"])
            if child.looked_after_until > review_day and world.chance(0.6):
                reason = "CA"
            meeting(world, council, child, review_day, "REV", "DEREG")
            return review_day, reason
        meeting(world, council, child, review_day, "REV", "CONT")
        review_day += dt.timedelta(days=reviews["then_every"])
    return review_day, "OT"


def _transfer(world: World, council: str, child: Child, day: dt.date, concerns: list[str]) -> None:
    others = [other for other in world.councils if other != council]
    if not others:
        return
    weights = {other: world.children_per_council[other] for other in others}
    destination = world.choose(weights)
    meeting_day = day + world.days(5, 28)
    if child.eighteenth_birthday <= meeting_day:
        return
    registered = world.chance(world.model["child_protection"]["transfer_in_registered"])
    meeting(world, destination, child, meeting_day, "TRA", "REG" if registered else "NREG")
    if registered:
        register(world, destination, child, meeting_day, concerns)


def _maybe_re_refer(
    world: World, council: str, family: list[Child], day: dt.date, kind: str
) -> None:
    rule = world.model["child_protection"][kind]
    if world.chance(rule["probability"]):
        delay = min(rule["max_days"], int(world.rng.expovariate(1 / rule["mean_days"])) + 14)
        world.at(day + dt.timedelta(days=delay), re_referral, world, council, family)


def pre_birth_referral(day: dt.date, world: World, council: str) -> None:
    """A midwife's referral for an unborn child, which may become a pre-birth planning meeting."""
    model = world.model["pre_birth"]
    unborn = world.pick_unborn(council, day + dt.timedelta(days=90), day + dt.timedelta(days=130))
    if unborn is None:
        return
    concerns = registration_concerns(world, [unborn], day)
    state = {
        "referral_id": world.next_id(world.board_of[council], "PB"),
        "mother_chi": world.mothers.next_chi(),
        "expected_date_of_birth": unborn.date_of_birth + world.days(-10, 10),
        "referral_date": day,
        "council_code": council,
        "concerns": concerns if world.chance(0.8) else None,
    }
    world.recorder.record("health__prebirth_referrals", world.board_of[council], day, state)
    if world.chance(model["concern"]):
        concern(day + world.days(1, 14), world, council, [unborn], source="HEA", unborn=True)
