"""The nightly load: the same ``load`` job as ``cpmds run`` and the sensor, at 02:00 London time.

The time and the time zone are settings (README, "Operations"): ``CPMDS_SCHEDULE`` (a cron
expression) and ``CPMDS_SCHEDULE_TIMEZONE`` (an IANA zone). The zone is London's rather than UTC's
so the load stays at 02:00 local across the clocks changing; Dagster runs a tick that a change
skips or repeats once. ``CPMDS_AUTOMATION=on`` starts the schedule and the arrival sensor running
as soon as the daemon loads the code location; otherwise each is turned on once, in the UI or with
``dagster schedule start``, and stays on (the instance remembers).
"""

import os

import dagster as dg

from cpmds.defs.jobs import load_job

SCHEDULE_VARIABLE = "CPMDS_SCHEDULE"
TIMEZONE_VARIABLE = "CPMDS_SCHEDULE_TIMEZONE"
AUTOMATION_VARIABLE = "CPMDS_AUTOMATION"
NIGHTLY_CRON = "0 2 * * *"
NIGHTLY_TIMEZONE = "Europe/London"
NIGHTLY_LOAD = "nightly_load"


def automation_on() -> bool:
    """Whether the schedule and the sensor start running by themselves: ``CPMDS_AUTOMATION``."""
    value = os.environ.get(AUTOMATION_VARIABLE, "off").strip().lower()
    if value not in ("on", "off"):
        raise ValueError(f"{AUTOMATION_VARIABLE} is 'on' or 'off', not {value!r}")
    return value == "on"


def nightly_schedule() -> dg.ScheduleDefinition:
    cron = os.environ.get(SCHEDULE_VARIABLE, NIGHTLY_CRON).strip()
    timezone = os.environ.get(TIMEZONE_VARIABLE, NIGHTLY_TIMEZONE).strip()
    try:
        return dg.ScheduleDefinition(
            name=NIGHTLY_LOAD,
            job=load_job,
            cron_schedule=cron,
            execution_timezone=timezone,
            default_status=dg.DefaultScheduleStatus.RUNNING
            if automation_on()
            else dg.DefaultScheduleStatus.STOPPED,
            description=(
                f"The nightly load ({cron}, {timezone}): everything new under the landing zone, "
                "the same job as `cpmds run`. Queued behind a load already running, never "
                "beside it."
            ),
        )
    except dg.DagsterInvalidDefinitionError as error:
        # Dagster's message names the bad value; say which settings hold it.
        raise ValueError(f"{SCHEDULE_VARIABLE} / {TIMEZONE_VARIABLE}: {error}") from None
