"""Run-chart rules (pipeline.md, "The quality report"; NHS Scotland quality improvement rules).

A series is a list of values in time order, ``None`` where a point is suppressed or missing. Gaps
take no part in anything: they are not points, so they neither count towards a run nor break it.

- **Median**: of the points shown (the non-gap values).
- **Shift**: :data:`SHIFT_POINTS` or more consecutive points all above, or all below, the median.
  A point on the median neither counts nor breaks the run.
- **Trend**: :data:`TREND_POINTS` or more consecutive points each higher, or each lower, than the
  one before. A point equal to the one before it neither counts nor breaks the run.

Each rule gives the positions (in the series, gaps included) of the points that count, so a chart
can mark them; points that neither count nor break a run are not marked.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

SHIFT_POINTS = 6
TREND_POINTS = 5


@dataclass(frozen=True)
class Run:
    """One signal: ``kind`` is ``shift`` or ``trend``, ``direction`` ``up`` or ``down`` (above or
    below the median, for a shift); ``points`` the positions in the series that count."""

    kind: str
    direction: str
    points: tuple[int, ...]


@dataclass(frozen=True)
class RunChart:
    median: float | None
    shifts: tuple[Run, ...]
    trends: tuple[Run, ...]

    @property
    def signals(self) -> tuple[Run, ...]:
        return self.shifts + self.trends


def median_of(values: Sequence[float | None]) -> float | None:
    shown = [value for value in values if value is not None]
    return statistics.median(shown) if shown else None


def shifts(values: Sequence[float | None], median: float | None = None) -> tuple[Run, ...]:
    """Runs of :data:`SHIFT_POINTS` or more points on one side of the median."""
    median = median_of(values) if median is None else median
    if median is None:
        return ()
    found: list[Run] = []
    side, run = "", []
    for position, value in enumerate(values):
        if value is None or value == median:
            continue  # a gap, or a point on the median: neither counts nor breaks
        here = "up" if value > median else "down"
        if here != side:
            _keep(found, "shift", side, run, SHIFT_POINTS)
            side, run = here, []
        run.append(position)
    _keep(found, "shift", side, run, SHIFT_POINTS)
    return tuple(found)


def trends(values: Sequence[float | None]) -> tuple[Run, ...]:
    """Runs of :data:`TREND_POINTS` or more points each higher (or lower) than the one before."""
    found: list[Run] = []
    direction, run = "", []
    previous: float | None = None
    for position, value in enumerate(values):
        if value is None:
            continue  # a gap: the next point is compared with the last point shown
        if previous is None:
            previous, run = value, [position]
            continue
        if value == previous:
            continue  # an equal neighbour neither counts nor breaks
        here = "up" if value > previous else "down"
        if here != direction:
            _keep(found, "trend", direction, run, TREND_POINTS)
            # The point before the turn starts the new run: it is the one the next is higher
            # (or lower) than.
            direction, run = here, [run[-1]]
        run.append(position)
        previous = value
    _keep(found, "trend", direction, run, TREND_POINTS)
    return tuple(found)


def run_chart(values: Sequence[float | None]) -> RunChart:
    median = median_of(values)
    return RunChart(median=median, shifts=shifts(values, median), trends=trends(values))


def _keep(found: list[Run], kind: str, direction: str, run: list[int], threshold: int) -> None:
    if direction and len(run) >= threshold:
        found.append(Run(kind=kind, direction=direction, points=tuple(run)))
