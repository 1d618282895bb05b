"""When a partner produces each file: its submission stamp (extracts.md, "Files")."""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np

from cpmds.contract import Dataset, Formats

STAMP_FORMAT = "%Y%m%d%H%M"
ON_TIME_DAYS = (2, 12)  # after the period ends
LATE_DAYS_AFTER_DUE = (5, 45)  # monthly: 20-60 days after the period ends
WORKING_HOURS = (8, 17)  # first and last hour a file may be produced in


def period_end(period: int) -> dt.date:
    year, month = divmod(period, 100)
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def due_date(dataset: Dataset, period: int, formats: Formats) -> dt.date:
    end = period_end(period)
    if dataset.due is None:
        return end + dt.timedelta(days=formats.monthly_due_days)
    due = dt.date(end.year, dataset.due.month, dataset.due.day)
    return due if due > end else dt.date(end.year + 1, dataset.due.month, dataset.due.day)


def _working_time(rng: np.random.Generator, day: dt.date) -> dt.datetime:
    while day.weekday() >= 5:  # partners produce extracts on weekdays
        day += dt.timedelta(days=1)
    hour = int(rng.integers(WORKING_HOURS[0], WORKING_HOURS[1] + 1))
    return dt.datetime(day.year, day.month, day.day, hour, int(rng.integers(0, 60)))


def submission_time(
    rng: np.random.Generator, dataset: Dataset, period: int, formats: Formats, late: bool
) -> dt.datetime:
    due = due_date(dataset, period, formats)
    if late:
        days = int(rng.integers(LATE_DAYS_AFTER_DUE[0], LATE_DAYS_AFTER_DUE[1] + 1))
        return _working_time(rng, due + dt.timedelta(days=days))
    days = int(rng.integers(ON_TIME_DAYS[0], ON_TIME_DAYS[1] + 1))
    stamp = _working_time(rng, period_end(period) + dt.timedelta(days=days))
    if stamp.date() > due:  # a weekend pushed it past the due date: the Friday before instead
        stamp = stamp - dt.timedelta(days=3)
    return stamp


def later_time(rng: np.random.Generator, after: dt.datetime, days: tuple[int, int]) -> dt.datetime:
    """A working time some whole days after ``after`` (a resubmission, a second copy)."""
    offset = int(rng.integers(days[0], days[1] + 1))
    return _working_time(rng, (after + dt.timedelta(days=offset)).date())


def format_stamp(moment: dt.datetime) -> str:
    return moment.strftime(STAMP_FORMAT)
