"""Deliveries: the files a sender sends, each with its period, folder and submission stamp."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import polars as pl

from cpmds.contract import Contract, Dataset
from cpmds.synthetic.options import GenerateOptions
from cpmds.synthetic.writer.output import Overrides
from cpmds.synthetic.writer.plan import SenderPlan
from cpmds.synthetic.writer.randomness import rng_for
from cpmds.synthetic.writer.stamps import format_stamp, submission_time
from cpmds.synthetic.writer.styles import SenderStyle
from cpmds.synthetic.writer.tuning import Tuning


@dataclass(eq=False)
class Delivery:
    dataset: Dataset
    org: str  # the sender's current org code
    folder: str  # the org folder it lands in (a retired council code, now and then)
    period: int
    submitted: dt.datetime
    rows: pl.DataFrame  # canonical contract columns and the deletion flag
    style: SenderStyle
    file_name_override: str | None = None  # a name that breaks the contract's grammar
    overrides: Overrides = field(default_factory=dict)
    dropped_columns: tuple[str, ...] = ()
    raw: bytes | None = None  # written instead of a rendering of the rows
    same_bytes_as: Delivery | None = None  # a second copy of another delivery's bytes
    touched: bool = False  # taken by a correction, deletion or defect: the others leave it alone

    @property
    def file_name(self) -> str:
        if self.file_name_override is not None:
            return self.file_name_override
        stamp = format_stamp(self.submitted)
        return f"{self.dataset.dataset}_{self.period}_{stamp}.{self.style.extension}"

    @property
    def path(self) -> str:
        """Relative to the landing zone, with forward slashes."""
        return f"{self.dataset.partner}/{self.folder}/{self.file_name}"

    def clone(self, **changes: object) -> Delivery:
        copied = replace(self, overrides={k: dict(v) for k, v in self.overrides.items()})
        return replace(copied, **changes)  # type: ignore[arg-type]


def schedule(
    contract: Contract,
    plans: list[SenderPlan],
    styles: dict[tuple[str, str], SenderStyle],
    options: GenerateOptions,
    tuning: Tuning,
) -> list[list[Delivery]]:
    """Each sender's deliveries in period order, one per planned file."""
    retired_of = {council.code: council.retired_codes for council in contract.reference.councils}
    senders = []
    for plan in plans:
        dataset = plan.dataset
        style = styles[(dataset.partner, plan.org)]
        council_kind = contract.partner_by_id[dataset.partner].org.kind == "council"
        retired = retired_of.get(plan.org, ()) if council_kind else ()
        rng = rng_for(options.seed, "schedule", dataset.id, plan.org)
        deliveries = []
        for period, rows in plan.files.items():
            late, under_retired = rng.random(2) < (tuning.late_share, tuning.retired_folder_share)
            submitted = submission_time(rng, dataset, period, contract.formats, bool(late))
            deliveries.append(
                Delivery(
                    dataset=dataset,
                    org=plan.org,
                    folder=retired[0] if retired and under_retired else plan.org,
                    period=period,
                    submitted=submitted,
                    rows=rows,
                    style=style,
                )
            )
        senders.append(deliveries)
    return senders
