"""Life events that are valid data: corrected resubmissions and deletions of entries made in error.

Both add a spurious record (a copy of a real row under a new key) and take it away again, so the net
truth of the history is unchanged: a correcting file supersedes the first one whole, and a `deleted`
= Y row in the next month removes the record from that month on.
"""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl

from cpmds.contract import Contract, Dataset
from cpmds.synthetic.history import History
from cpmds.synthetic.options import GenerateOptions
from cpmds.synthetic.writer.deliveries import Delivery
from cpmds.synthetic.writer.plan import DELETED
from cpmds.synthetic.writer.randomness import rng_for
from cpmds.synthetic.writer.stamps import later_time
from cpmds.synthetic.writer.tuning import Tuning

CORRECTION_DELAY_DAYS = (1, 10)
MINTED_SEPARATOR = "-"  # a new key is an old one with -1, -2, ...


class KeyMinter:
    """New record keys that no version in the history (nor an earlier minted key) uses."""

    def __init__(self, history: History) -> None:
        self._history = history
        self._taken: dict[str, set[str]] = {}

    def mint(self, dataset: Dataset, original: str) -> str:
        taken = self._taken.get(dataset.id)
        if taken is None:
            values = self._history[dataset.id].get_column(dataset.key[0]).drop_nulls()
            # Only a key with the separator in it can be equal to a minted one.
            values = values.filter(values.str.contains(MINTED_SEPARATOR, literal=True))
            taken = self._taken[dataset.id] = set(values.to_list())
        number = 1
        while f"{original}{MINTED_SEPARATOR}{number}" in taken:
            number += 1
        minted = f"{original}{MINTED_SEPARATOR}{number}"
        taken.add(minted)
        return minted


def can_mint_keys(dataset: Dataset) -> bool:
    return dataset.column_map[dataset.key[0]].type == "text"


def insert_row(rows: pl.DataFrame, row: pl.DataFrame, position: int) -> pl.DataFrame:
    return pl.concat([rows.slice(0, position), row, rows.slice(position)])


def _changed_value(
    row: pl.DataFrame, dataset: Dataset, contract: Contract, rng: np.random.Generator
) -> pl.DataFrame:
    """The row with one coded value changed to another valid code (where one can be changed)."""
    candidates = []
    # Codes whose validity depends on another column, and the columns they depend on (a meeting's
    # outcome and its type): changing either could make the pair invalid, so leave both alone.
    conditional = {
        name
        for column in dataset.columns
        if column.code_list is not None
        for code in contract.code_list_by_id[column.code_list].codes
        if code.when
        for name in (column.name, *code.when)
    }
    for column in dataset.columns:
        if column.type != "code" or column.name in dataset.key or row[column.name][0] is None:
            continue
        if column.name in conditional:
            continue
        others = [c for c in contract.allowed_codes(column) if c != row[column.name][0]]
        if others:
            candidates.append((column.name, others))
    if not candidates:
        return row
    name, others = candidates[int(rng.integers(len(candidates)))]
    return row.with_columns(pl.lit(others[int(rng.integers(len(others)))]).alias(name))


def spurious_copy(
    delivery: Delivery,
    minter: KeyMinter,
    rng: np.random.Generator,
    contract: Contract,
    change_value: bool = False,
) -> pl.DataFrame:
    """A real row of ``delivery`` under a new key: an entry made in error."""
    dataset = delivery.dataset
    source = delivery.rows.slice(int(rng.integers(delivery.rows.height)), 1)
    key = dataset.key[0]
    row = source.with_columns(pl.lit(minter.mint(dataset, str(source[key][0]))).alias(key))
    return _changed_value(row, dataset, contract, rng) if change_value else row


def _eligible(delivery: Delivery) -> bool:
    return (
        not delivery.touched
        and delivery.rows.height > 0
        and can_mint_keys(delivery.dataset)
        and delivery.raw is None
    )


def add_deletions(
    senders: list[list[Delivery]],
    contract: Contract,
    minter: KeyMinter,
    options: GenerateOptions,
    tuning: Tuning,
) -> None:
    """A spurious record in one monthly file, listed again as deleted in the next month's."""
    for deliveries in senders:
        if not deliveries or not deliveries[0].style.deleted_column:
            continue
        if deliveries[0].dataset.cadence != "monthly":
            continue
        first = deliveries[0]
        rng = rng_for(options.seed, "deletions", first.dataset.id, first.org)
        for current, following in itertools.pairwise(deliveries):
            if rng.random() >= tuning.deletion_share or not _eligible(current):
                continue
            if following.touched:
                continue
            spurious = spurious_copy(current, minter, rng, contract)
            position = int(rng.integers(current.rows.height + 1))
            current.rows = insert_row(current.rows, spurious, position)
            following.rows = pl.concat(
                [following.rows, spurious.with_columns(pl.lit(True).alias(DELETED))]
            )
            current.touched = following.touched = True


def add_corrections(
    senders: list[list[Delivery]],
    contract: Contract,
    minter: KeyMinter,
    options: GenerateOptions,
    tuning: Tuning,
) -> None:
    """A first delivery with an entry made in error, superseded by a later correct one."""
    for index, deliveries in enumerate(senders):
        if not deliveries:
            continue
        first = deliveries[0]
        rng = rng_for(options.seed, "corrections", first.dataset.id, first.org)
        corrected: list[Delivery] = []
        for delivery in deliveries:
            if rng.random() < tuning.correction_share and _eligible(delivery):
                spurious = spurious_copy(delivery, minter, rng, contract, change_value=True)
                position = int(rng.integers(delivery.rows.height + 1))
                mistaken = delivery.clone(
                    rows=insert_row(delivery.rows, spurious, position), touched=True
                )
                delivery.submitted = later_time(rng, mistaken.submitted, CORRECTION_DELAY_DAYS)
                delivery.touched = True
                corrected.append(mistaken)
            corrected.append(delivery)
        senders[index] = corrected
