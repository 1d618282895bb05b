"""What ``cpmds generate`` is asked to make."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cpmds.contract import load_contract

DEFAULT_FROM = 202208  # two statistical years: 2022/23 and 2023/24
DEFAULT_TO = 202407


def months_between(first: int, last: int) -> list[int]:
    """Every YYYYMM from ``first`` to ``last`` inclusive."""
    months = []
    year, month = divmod(first, 100)
    while year * 100 + month <= last:
        months.append(year * 100 + month)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


@dataclass(frozen=True)
class GenerateOptions:
    out: Path
    seed: int = 1
    councils: tuple[str, ...] = ()  # current council codes, in the contract's fixed order
    period_from: int = DEFAULT_FROM
    period_to: int = DEFAULT_TO
    scale: float = 1.0
    defects: bool = False

    @classmethod
    def build(
        cls,
        out: Path,
        seed: int = 1,
        councils: str | int = "all",
        period_from: int | None = None,
        period_to: int | None = None,
        scale: float = 1.0,
        defects: bool = False,
    ) -> GenerateOptions:
        order = tuple(council.code for council in load_contract().reference.councils)
        if str(councils) == "all":
            chosen = order
        else:
            try:
                count = int(councils)
            except ValueError:
                raise ValueError(
                    f"--councils must be 'all' or a number, not {councils!r}"
                ) from None
            if not 1 <= count <= len(order):
                raise ValueError(f"--councils must be between 1 and {len(order)}")
            chosen = order[:count]
        first = period_from or DEFAULT_FROM
        last = period_to or DEFAULT_TO
        for period in (first, last):
            if not 1 <= period % 100 <= 12:
                raise ValueError(f"not a YYYYMM period: {period}")
        if first > last:
            raise ValueError("--from must not be after --to")
        if not 0 < scale <= 20:
            raise ValueError("--scale must be above 0 and at most 20")
        return cls(
            out=Path(out).resolve(),
            seed=seed,
            councils=chosen,
            period_from=first,
            period_to=last,
            scale=scale,
            defects=defects,
        )

    @classmethod
    def demo(cls, out: Path) -> GenerateOptions:
        """The built-in demo: a handful of councils (a joint CPC among them), two years, defects."""
        return cls.build(out=out, seed=7, councils=8, scale=1.0, defects=True)

    @property
    def periods(self) -> list[int]:
        return months_between(self.period_from, self.period_to)

    @property
    def manifest_path(self) -> Path:
        """The defects manifest sits beside the landing zone, never inside it."""
        return self.out.parent / f"{self.out.name}.defects.json"
