"""The simulated world: councils, their children, the calendar of events, and ids and draws."""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import heapq
import itertools
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from cpmds.contract import load_contract
from cpmds.synthetic.options import GenerateOptions
from cpmds.synthetic.people import Mothers, Population, build_populations
from cpmds.synthetic.recorder import Recorder

DATA_DIR = Path(__file__).parent


@cache
def load_targets() -> dict[str, Any]:
    with (DATA_DIR / "targets.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@cache
def load_model() -> dict[str, Any]:
    with (DATA_DIR / "model.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def stable_seed(*parts: object) -> int:
    """A seed from names, stable across processes (unlike ``hash``)."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@dataclass(eq=False)
class Child:
    council: str
    index: int
    date_of_birth: dt.date
    sex: str
    chi: str
    chi_known: bool
    ethnicity: str
    disability: bool | None
    postcode: str
    sw_ids: dict[str, str] = field(default_factory=dict)
    busy_until: dt.date = dt.date.min
    looked_after_until: dt.date = dt.date.min
    registered: list[tuple[dt.date, dt.date]] = field(default_factory=list)
    looked_after: list[tuple[dt.date, dt.date]] = field(default_factory=list)

    def age(self, day: dt.date) -> int:
        return age_on(self.date_of_birth, day)

    def born_by(self, day: dt.date) -> bool:
        return self.date_of_birth <= day

    @property
    def eighteenth_birthday(self) -> dt.date:
        return add_years(self.date_of_birth, 18)


class World:
    """Shared state of one simulation run: everything the journeys read and write."""

    def __init__(self, options: GenerateOptions) -> None:
        self.options = options
        self.model = load_model()
        self.targets = load_targets()
        self.contract = load_contract()
        self.rng = random.Random(stable_seed(options.seed, "journeys"))
        self.first_day = _month_start(options.period_from)
        self.last_day = _month_end(options.period_to)
        self.recorder = Recorder(keep_from=options.period_from)
        self.councils = options.councils
        self.board_of = {
            council.code: council.health_board for council in self.contract.reference.councils
        }
        self.children_per_council = self._children_per_council()
        self.practice = self._practice_factors()
        warm_up = self.model["warm_up_years"]
        oldest = self.first_day.year - warm_up["looked_after"] - 18
        self.populations, self.mothers = self._build_people(oldest)
        self._children: dict[tuple[str, int], Child] = {}
        self._children_by_council: dict[str, list[Child]] | None = None
        self._counters: dict[tuple[str, str], int] = {}
        self._calendar: list[tuple[dt.date, int, Callable[..., None], tuple[Any, ...]]] = []
        self._sequence = 0
        self._tables: dict[int, tuple[Mapping[Any, float], list[Any], list[float]]] = {}

    # -- people ------------------------------------------------------------------------------
    def _children_per_council(self) -> dict[str, float]:
        councils = self.targets["councils"]
        total = sum(spec["children"] for spec in councils.values())
        national = self.targets["targets"]["children_0_17"]["value"]
        return {
            code: councils[code]["children"] * national / total * self.options.scale
            for code in self.councils
        }

    def _practice_factors(self) -> dict[str, float]:
        councils = self.targets["councils"]
        weighted = sum(spec["children"] * spec["practice"] for spec in councils.values())
        mean = weighted / sum(spec["children"] for spec in councils.values())
        return {code: councils[code]["practice"] / mean for code in self.councils}

    def _build_people(self, oldest_birth_year: int) -> tuple[dict[str, Population], Mothers]:
        births = {code: count / 18 for code, count in self.children_per_council.items()}
        mothers = max(200, round(self.model["pre_birth"]["referrals_per_year"] * 8))
        return build_populations(
            births,
            first_birth_year=oldest_birth_year,
            last_birth_year=self.last_day.year + 1,
            male_share=self.model["children"]["male_share"],
            mothers=round(mothers * self.options.scale) + 50,
            rng=np.random.default_rng(stable_seed(self.options.seed, "people")),
        )

    def child(self, council: str, index: int) -> Child:
        key = (council, index)
        found = self._children.get(key)
        if found is None:
            population = self.populations[council]
            model = self.model["children"]
            found = Child(
                council=council,
                index=index,
                date_of_birth=population.date_of_birth(index),
                sex=population.sex(index),
                chi=population.chi_text(index),
                chi_known=self.rng.random() < model["chi_known_to_social_work"],
                ethnicity=self.choose(model["ethnicity"]),
                disability={"Y": True, "N": False, "blank": None}[self.choose(model["disability"])],
                postcode=self._postcode(council),
            )
            self._children[key] = found
        return found

    def children_of(self, council: str) -> list[Child]:
        """The council's children that any partner has written about."""
        if self._children_by_council is None:
            self._children_by_council = {}
            for child in self._children.values():
                self._children_by_council.setdefault(child.council, []).append(child)
        return self._children_by_council.get(council, [])

    def pick_child(self, council: str, day: dt.date, youngest: int, oldest: int) -> Child | None:
        """A child of the council aged ``youngest``..``oldest`` on ``day``."""
        earliest = add_years(day, -(oldest + 1)) + dt.timedelta(days=1)
        latest = add_years(day, -youngest)
        index = self.populations[council].pick_born_between(earliest, latest, self.rng)
        return None if index is None else self.child(council, index)

    def pick_child_in_band(self, council: str, day: dt.date, bands: Mapping[str, float]):
        """A child whose age falls in a band drawn from ``bands`` (keys such as ``"5-10"``)."""
        youngest, _, oldest = self.choose(bands).partition("-")
        return self.pick_child(council, day, int(youngest), int(oldest or youngest))

    def pick_unborn(self, council: str, born_from: dt.date, born_to: dt.date) -> Child | None:
        index = self.populations[council].pick_born_between(born_from, born_to, self.rng)
        return None if index is None else self.child(council, index)

    def _postcode(self, council: str) -> str:
        area = self.model["postcode_areas"][council]
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        return (
            f"{area}{self.rng.randint(1, 40)} {self.rng.randint(1, 9)}"
            f"{self.rng.choice(letters)}{self.rng.choice(letters)}"
        )

    # -- draws ---------------------------------------------------------------------------------
    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def choose(self, weights: Mapping[Any, float]) -> Any:
        table = self._tables.get(id(weights))
        if table is None or table[0] is not weights:
            keys = list(weights)
            cumulative = list(itertools.accumulate(weights[key] for key in keys))
            table = (weights, keys, cumulative)
            self._tables[id(weights)] = table
        _, keys, cumulative = table
        return keys[bisect.bisect(cumulative, self.rng.random() * cumulative[-1])]

    def days(self, low: int, high: int) -> dt.timedelta:
        return dt.timedelta(days=self.rng.randint(low, high))

    def next_id(self, org: str, prefix: str, width: int = 6) -> str:
        key = (org, prefix)
        number = self._counters.get(key)
        if number is None:
            number = self.rng.randint(1, 9) * 10 ** (width - 2)
        self._counters[key] = number + 1
        return f"{prefix}{number:0{width}d}"

    # -- the calendar ------------------------------------------------------------------------
    def at(self, day: dt.date, action: Callable[..., None], *args: Any) -> None:
        """Schedule ``action(day, *args)``; events after the last day never happen."""
        if day <= self.last_day:
            self._sequence += 1
            heapq.heappush(self._calendar, (day, self._sequence, action, args))

    def arrivals(self, per_year: float, start: dt.date, action, *args: Any) -> None:
        """Poisson arrivals at ``per_year`` from ``start`` to the last day, with seasonality."""
        seasonality = self.model["children"]["seasonality"]
        day = start
        one = dt.timedelta(days=1)
        while day <= self.last_day:
            rate = per_year / 365.25 * seasonality[day.month - 1]
            for _ in range(_poisson(self.rng, rate)):
                self.at(day, action, *args)
            day += one

    def run_calendar(self, on_day: Callable[[dt.date], None] | None = None) -> None:
        while self._calendar:
            day, _, action, args = heapq.heappop(self._calendar)
            if on_day is not None:
                on_day(day)
            action(day, *args)

    def warm_up_start(self, kind: str) -> dt.date:
        return add_years(self.first_day, -self.model["warm_up_years"][kind])

    def council_rate(self, council: str, national_per_year: float, practice: bool = True) -> float:
        national = self.targets["targets"]["children_0_17"]["value"]
        share = self.children_per_council[council] / national
        return national_per_year * share * (self.practice[council] if practice else 1.0)


def _month_start(period: int) -> dt.date:
    return dt.date(period // 100, period % 100, 1)


def _month_end(period: int) -> dt.date:
    year, month = divmod(period, 100)
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: the daily means here are small (well under 30).
    limit = np.exp(-mean)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
