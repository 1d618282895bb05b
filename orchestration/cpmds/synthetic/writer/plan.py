"""Which files each sender owes, and which record versions each of them lists.

A sender owes one file per period of the range (an annual dataset: one per annual period inside it;
reference data: one per calendar year the range touches, up to the range's last month),
whether or not anything happened (a nil return). A monthly file lists the versions the history
dates to its period; a sender's first file also carries the baseline (extracts.md, "Baseline"), and
every ``child_id`` a council's social work files name is listed in its ``children`` files no later
than the period that first names it.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from cpmds.contract import Contract, Dataset
from cpmds.synthetic.history import META_COLUMNS, History
from cpmds.synthetic.options import GenerateOptions

ORG, PERIOD = META_COLUMNS
DELETED = "_deleted"  # beside the canonical columns: this row marks an entry made in error


@dataclass(frozen=True)
class SenderPlan:
    """One sender's files for one dataset: period -> rows (contract columns and the flag)."""

    dataset: Dataset
    org: str
    files: dict[int, pl.DataFrame]


def dataset_periods(dataset: Dataset, options: GenerateOptions) -> list[int]:
    if dataset.cadence == "monthly":
        return options.periods
    if dataset.coverage == "reference":
        # Rates read the estimate of the calendar year a period ends in, so a range starting in
        # August still gets that year's June estimate; a mid-year after the range's end is not yet.
        years = range(options.period_from // 100, options.period_to // 100 + 1)
        periods = [year * 100 + dataset.period_month for year in years]
        return [period for period in periods if period <= options.period_to]
    return [period for period in options.periods if period % 100 == dataset.period_month]


def plan_senders(
    contract: Contract, history: History, options: GenerateOptions
) -> list[SenderPlan]:
    """Every sender's files, datasets in contract order and senders in code order."""
    placed: dict[str, pl.DataFrame] = {}
    senders: dict[str, list[str]] = {}
    for dataset in contract.datasets:
        if dataset.id not in history:
            continue
        frame = _checked(dataset, history[dataset.id])
        periods = dataset_periods(dataset, options)
        if frame.is_empty() or not periods:
            continue
        senders[dataset.id] = sorted(frame.get_column(ORG).unique().to_list())
        placed[dataset.id] = _place_versions(dataset, frame, periods, options)
    _complete_children(contract, history, placed, options)
    _every_expected_sender(contract, senders)

    plans = []
    for dataset in contract.datasets:
        if dataset.id not in placed:
            continue
        periods = dataset_periods(dataset, options)
        rows = placed[dataset.id].select(
            *dataset.column_names, pl.lit(False).alias(DELETED), ORG, PERIOD
        )
        parts = rows.partition_by(
            [ORG, PERIOD], as_dict=True, maintain_order=True, include_key=False
        )
        empty = rows.clear().drop(ORG, PERIOD)
        for org in senders[dataset.id]:
            files = {period: parts.get((org, period), empty) for period in periods}
            plans.append(SenderPlan(dataset=dataset, org=org, files=files))
    return plans


def _every_expected_sender(contract: Contract, senders: dict[str, list[str]]) -> None:
    """A partner's org that sends any expected dataset owes every expected dataset of its partner,
    nil returns included: a council with no learning review in the range still sends its monthly
    nil return (extracts.md, "Files"), or its areas' indicators could not be computed."""
    by_partner: dict[str, set[str]] = {}
    for dataset_id, orgs in senders.items():
        by_partner.setdefault(contract.dataset_by_id[dataset_id].partner, set()).update(orgs)
    for dataset in contract.datasets:
        if dataset.coverage == "expected" and dataset.id in senders:
            senders[dataset.id] = sorted(by_partner[dataset.partner])


def _checked(dataset: Dataset, frame: pl.DataFrame) -> pl.DataFrame:
    wanted = (*dataset.column_names, *META_COLUMNS)
    missing = [name for name in wanted if name not in frame.columns]
    if missing:
        raise ValueError(f"history for {dataset.id} lacks columns {missing}")
    return frame.select(wanted)


def _latest_versions(frame: pl.DataFrame, key: tuple[str, ...]) -> pl.DataFrame:
    """Each record's version with the latest period (the later of two in one period)."""
    return frame.sort(PERIOD, maintain_order=True).unique(
        subset=[ORG, *key], keep="last", maintain_order=True
    )


def _place_versions(
    dataset: Dataset, frame: pl.DataFrame, periods: list[int], options: GenerateOptions
) -> pl.DataFrame:
    """The versions each file lists, ``_period`` set to the file's period; baseline rows first."""
    frame = frame.filter(pl.col(PERIOD) <= options.period_to)
    in_range = frame.filter(pl.col(PERIOD) >= min(options.period_from, periods[0]))
    if dataset.cadence == "annual":
        # An annual file covers the months up to its period, so a version dated inside the range
        # goes to the first annual period at or after it.
        slot_of = {
            value: next((period for period in periods if period >= value), None)
            for value in in_range.get_column(PERIOD).unique().to_list()
        }
        in_range = in_range.with_columns(
            pl.col(PERIOD).replace_strict(slot_of, default=None, return_dtype=pl.Int64)
        ).filter(pl.col(PERIOD).is_not_null())
    # One extract lists a record once, in its state when the extract was taken.
    in_range = in_range.unique(subset=[ORG, PERIOD, *dataset.key], keep="last", maintain_order=True)
    in_range = in_range.with_columns(pl.col(PERIOD).cast(pl.Int64))
    if dataset.baseline_open_when_blank is None:
        return in_range

    first = periods[0]
    before = frame.filter(pl.col(PERIOD) < first)
    still_open = _latest_versions(before, dataset.key).filter(
        pl.col(dataset.baseline_open_when_blank).is_null()
    )
    # A record that also changed in the first month is listed once, in its first-month state.
    in_first_file = in_range.filter(pl.col(PERIOD) == first).select(ORG, *dataset.key)
    baseline = still_open.join(
        in_first_file, on=[ORG, *dataset.key], how="anti", nulls_equal=True, maintain_order="left"
    )
    baseline = baseline.with_columns(pl.lit(first, dtype=pl.Int64).alias(PERIOD))
    return pl.concat([baseline, in_range])


def _complete_children(
    contract: Contract,
    history: History,
    placed: dict[str, pl.DataFrame],
    options: GenerateOptions,
) -> None:
    """List each named child in the council's ``children`` file of the period first naming it."""
    children = contract.dataset("sw", "children")
    if children.id not in placed:
        return
    child = children.key[0]
    naming = [
        dataset
        for dataset in contract.datasets
        if dataset.partner == children.partner
        and dataset.id != children.id
        and child in dataset.column_map
        and dataset.id in placed
    ]
    if not naming:
        return
    named = (
        pl.concat([placed[dataset.id].select(ORG, PERIOD, child) for dataset in naming])
        .filter(pl.col(child).is_not_null())
        .group_by(ORG, child)
        .agg(pl.col(PERIOD).min().alias("_named"))
    )
    listed = placed[children.id].group_by(ORG, child).agg(pl.col(PERIOD).min().alias("_listed"))
    unlisted = (
        named.join(listed, on=[ORG, child], how="left")
        .filter(pl.col("_listed").is_null() | (pl.col("_listed") > pl.col("_named")))
        .drop("_listed")
    )
    if unlisted.is_empty():
        return
    versions = (
        _checked(children, history[children.id])
        .filter(pl.col(PERIOD) <= options.period_to)
        .with_row_index("_order")
        .join(unlisted, on=[ORG, child], how="inner", maintain_order="left")
    )
    # The child as known by then; failing that (the history dates the child later), as first known.
    known_by_then = versions.filter(pl.col(PERIOD) <= pl.col("_named"))
    latest = known_by_then.sort(PERIOD, "_order").unique(
        subset=[ORG, child], keep="last", maintain_order=True
    )
    earliest = (
        versions.join(latest.select(ORG, child), on=[ORG, child], how="anti", maintain_order="left")
        .sort(PERIOD, "_order")
        .unique(subset=[ORG, child], keep="first", maintain_order=True)
    )
    added = (
        pl.concat([latest, earliest])
        .sort("_named", ORG, child)
        .with_columns(pl.col("_named").cast(pl.Int64).alias(PERIOD))
        .select(*children.column_names, ORG, PERIOD)
    )
    placed[children.id] = pl.concat([placed[children.id], added])
