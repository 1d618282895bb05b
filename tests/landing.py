"""Reads a whole landing zone the way the contract says it is meant, for tests of generated data.

It uses the loader's reading step (``cpmds.ingest``), never the generator, so the counts a test
makes from it are an independent reading of what the generator wrote. Supersession, duplicates and
current state follow extracts.md: the latest submission for a (partner, org, dataset, period) wins
unless it is quarantined; a record's state is its row in the latest period's current file; a row
with ``deleted`` = Y removes it.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from cpmds.contract import load_contract
from cpmds.ingest import Delivery, FileRead, normalise_frames, parse_delivery, read_delivery

ERROR_THRESHOLD = load_contract().formats.gates["row_error_threshold"]


@dataclass
class FileOutcome:
    path: str
    status: str  # loaded, quarantined, rejected, duplicate, superseded
    reason: str = ""
    rows: int = 0
    failures: pl.DataFrame | None = None


@dataclass
class LandingZone:
    outcomes: dict[str, FileOutcome] = field(default_factory=dict)
    rows: dict[str, pl.DataFrame] = field(default_factory=dict)  # dataset id -> loaded rows

    def current(self, dataset_id: str) -> pl.DataFrame:
        """Each record's state: its row from the latest period's current file, deletions applied."""
        dataset = load_contract().dataset_by_id[dataset_id]
        frame = self.rows.get(dataset_id)
        if frame is None:
            return pl.DataFrame()
        latest = (
            frame.sort("_period", "_row")
            .group_by(["_org", *dataset.key], maintain_order=True)
            .last()
        )
        return latest.filter(~pl.col("deleted").fill_null(False))


def read_landing_zone(root: Path) -> LandingZone:
    zone = LandingZone()
    contract = load_contract()
    candidates: dict[tuple[str, str, int], list[tuple[Delivery, FileRead, str]]] = defaultdict(list)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        delivery = parse_delivery(path, root)
        if not isinstance(delivery, Delivery):
            status = "rejected" if delivery.reason == "outside_root" else "quarantined"
            zone.outcomes[relative] = FileOutcome(relative, status, delivery.reason)
            continue
        dataset = contract.dataset_by_id[delivery.dataset_id]
        read = read_delivery(path, dataset, delivery.extension)
        if not isinstance(read, FileRead):
            zone.outcomes[relative] = FileOutcome(relative, "quarantined", read.reason)
            continue
        if read.missing_required_columns or read.duplicate_columns:
            zone.outcomes[relative] = FileOutcome(relative, "quarantined", "columns")
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        key = (delivery.dataset_id, delivery.org, delivery.period)
        candidates[key].append((delivery, read, digest))

    by_dataset: dict[str, list[tuple[Delivery, FileRead]]] = defaultdict(list)
    for files in candidates.values():
        seen: set[str] = set()
        for delivery, read, digest in sorted(files, key=lambda item: item[0].submitted_at):
            if digest in seen:
                zone.outcomes[delivery.relative_path] = FileOutcome(
                    delivery.relative_path, "duplicate"
                )
                continue
            seen.add(digest)
            by_dataset[delivery.dataset_id].append((delivery, read))

    for dataset_id, files in by_dataset.items():
        dataset = contract.dataset_by_id[dataset_id]
        typed = normalise_frames(
            [(read.frame, delivery.submitted_at.date()) for delivery, read in files], dataset
        )
        accepted: dict[tuple[str, int], tuple[Delivery, pl.DataFrame]] = {}
        for (delivery, _), result in zip(files, typed, strict=True):
            path = delivery.relative_path
            errors = result.failures.filter(pl.col("severity") == "error")
            bad_rows = errors["_row"].n_unique()
            if result.frame.height and bad_rows / result.frame.height > ERROR_THRESHOLD:
                zone.outcomes[path] = FileOutcome(path, "quarantined", "rows", 0, result.failures)
                continue
            good = result.frame.join(errors.select("_row").unique(), on="_row", how="anti")
            zone.outcomes[path] = FileOutcome(path, "loaded", "", good.height, result.failures)
            slot = (delivery.org, delivery.period)
            earlier = accepted.get(slot)
            if earlier is not None:
                zone.outcomes[earlier[0].relative_path].status = "superseded"
            stamped = good.with_columns(
                pl.lit(delivery.org).alias("_org"), pl.lit(delivery.period).alias("_period")
            )
            accepted[slot] = (delivery, stamped)
        if accepted:
            zone.rows[dataset_id] = pl.concat([frame for _, frame in accepted.values()])
    return zone
