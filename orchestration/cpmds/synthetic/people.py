"""The children of each council: a synthetic population with fake, valid-looking CHI numbers.

Every child any partner writes about is drawn from here, so one child's CHI links their police
reports, social work records, Reporter referrals and school attendance as it would in real data.
CHIs are random (date of birth, two random digits, a sex digit, a correct modulus-11 check digit):
they look real and link consistently, but are made up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

CHI_WEIGHTS = np.arange(10, 1, -1)


def chi_check_digit(first_nine: str) -> int | None:
    """The modulus-11 check digit for nine CHI digits, or None where no valid one exists."""
    total = sum(int(d) * w for d, w in zip(first_nine, CHI_WEIGHTS, strict=True))
    check = 11 - total % 11
    return None if check == 10 else (0 if check == 11 else check)


def unique_chis(dobs: np.ndarray, males: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Distinct CHIs (int64) for dates of birth (days since 1970) and sexes.

    A date of birth and sex leave 500 serial and sex-digit combinations; children sharing both take
    distinct combinations (a random start and a stride coprime to 500), skipping those without a
    valid check digit, so no two children ever share a CHI.
    """
    dates = dobs.astype("datetime64[D]")
    years = dates.astype("datetime64[Y]").astype(int) + 1970
    months = dates.astype("datetime64[M]").astype(int) % 12 + 1
    days = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    prefix = (days * 10_000 + months * 100 + years % 100).astype(np.int64)  # DDMMYY
    male = males.astype(np.int64)
    group_key = prefix * 2 + male
    order = np.argsort(group_key, kind="stable")
    _, group_of_sorted, group_sizes = np.unique(
        group_key[order], return_inverse=True, return_counts=True
    )
    if group_sizes.max(initial=0) * 3 > COMBINATIONS * 2:
        raise ValueError("too many children share a date of birth for distinct CHIs")
    group_starts = np.concatenate([[0], np.cumsum(group_sizes)[:-1]])
    group = np.empty(len(dobs), dtype=np.int64)
    group[order] = group_of_sorted
    step = np.empty(len(dobs), dtype=np.int64)
    step[order] = np.arange(len(dobs)) - group_starts[group_of_sorted]
    next_step = group_sizes.copy()
    offset = rng.integers(0, COMBINATIONS, len(group_sizes))[group]
    chis = np.zeros(len(dobs), dtype=np.int64)
    pending = np.arange(len(dobs))
    while len(pending):
        combination = (offset[pending] + step[pending] * STRIDE) % COMBINATIONS
        serial, sex_slot = np.divmod(combination, 5)
        nine = prefix[pending] * 1000 + serial * 10 + sex_slot * 2 + male[pending]
        digits = (nine[:, None] // 10 ** np.arange(8, -1, -1)) % 10
        check = 11 - (digits @ CHI_WEIGHTS) % 11
        check = np.where(check == 11, 0, check)
        valid = check != 10
        chis[pending[valid]] = nine[valid] * 10 + check[valid]
        pending = pending[~valid]
        # Each re-draw takes its group's next unused step, so steps (and CHIs) never repeat.
        pending = pending[np.argsort(group[pending], kind="stable")]
        pending_groups = group[pending]
        firsts = np.searchsorted(pending_groups, pending_groups, "left")
        step[pending] = next_step[pending_groups] + np.arange(len(pending)) - firsts
        np.add.at(next_step, pending_groups, 1)
        if len(pending) and next_step.max() > COMBINATIONS:
            raise ValueError("too many children share a date of birth for distinct CHIs")
    return chis


COMBINATIONS = 500  # 100 serials x 5 sex digits
STRIDE = 419  # coprime to 500


@dataclass
class Population:
    """One council's children, born from ``first_birth_year`` on, sorted by date of birth."""

    council: str
    dob: np.ndarray  # days since 1970-01-01, sorted
    male: np.ndarray  # bool
    chi: np.ndarray  # int64, 10 digits when printed with leading zero
    pupil_id: np.ndarray  # int64 Scottish Candidate Numbers
    used: set[int] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.dob)

    def pick_born_between(self, earliest: dt.date, latest: dt.date, rng) -> int | None:
        """A random child born in [earliest, latest], preferring children not yet picked."""
        low = int(np.searchsorted(self.dob, _days(earliest), "left"))
        high = int(np.searchsorted(self.dob, _days(latest), "right"))
        if high <= low:
            return None
        for _ in range(4):
            index = rng.randrange(low, high)
            if index not in self.used:
                break
        self.used.add(index)
        return index

    def date_of_birth(self, index: int) -> dt.date:
        return EPOCH + dt.timedelta(days=int(self.dob[index]))

    def sex(self, index: int) -> str:
        return "M" if self.male[index] else "F"

    def chi_text(self, index: int) -> str:
        return f"{int(self.chi[index]):010d}"


EPOCH = dt.date(1970, 1, 1)


@dataclass
class Mothers:
    """Adult women whose CHI a midwife records on a pre-birth referral."""

    chi: np.ndarray
    next_index: int = 0

    def next_chi(self) -> str:
        chi = self.chi[self.next_index % len(self.chi)]
        self.next_index += 1
        return f"{int(chi):010d}"


def build_populations(
    births_per_year: dict[str, float],
    first_birth_year: int,
    last_birth_year: int,
    male_share: float,
    mothers: int,
    rng: np.random.Generator,
) -> tuple[dict[str, Population], Mothers]:
    """Every council's children and a pool of mothers, with CHIs distinct across all of them."""
    start = _days(dt.date(first_birth_year, 1, 1))
    end = _days(dt.date(last_birth_year + 1, 1, 1))
    years = last_birth_year - first_birth_year + 1
    sizes = {council: max(1, round(rate * years)) for council, rate in births_per_year.items()}
    dobs = [np.sort(rng.integers(start, end, size)) for size in sizes.values()]
    mother_dobs = rng.integers(
        _days(dt.date(last_birth_year - 45, 1, 1)),
        _days(dt.date(last_birth_year - 17, 1, 1)),
        mothers,
    )
    all_dobs = np.concatenate([*dobs, mother_dobs])
    males = np.concatenate([rng.random(size) < male_share for size in sizes.values()])
    males = np.concatenate([males, np.zeros(mothers, dtype=bool)])
    chis = unique_chis(all_dobs, males, rng)
    pupil_ids = 100_000_000 + rng.permutation(len(all_dobs)).astype(np.int64) * 37 + 5
    populations: dict[str, Population] = {}
    offset = 0
    for (council, size), dob in zip(sizes.items(), dobs, strict=True):
        part = slice(offset, offset + size)
        populations[council] = Population(council, dob, males[part], chis[part], pupil_ids[part])
        offset += size
    return populations, Mothers(chis[offset:])


def _days(day: dt.date) -> int:
    return (day - EPOCH).days
