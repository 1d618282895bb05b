"""``write_landing_zone``: a history's record versions as the files partners deliver."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import polars as pl

from cpmds.contract import Contract, load_contract
from cpmds.progress import stage
from cpmds.synthetic import GenerateResult
from cpmds.synthetic.history import History
from cpmds.synthetic.options import GenerateOptions
from cpmds.synthetic.writer.defects import inject_defects, manifest
from cpmds.synthetic.writer.deliveries import Delivery, schedule
from cpmds.synthetic.writer.noise import KeyMinter, add_corrections, add_deletions
from cpmds.synthetic.writer.output import csv_bytes, with_overrides, xlsx_bytes
from cpmds.synthetic.writer.plan import plan_senders
from cpmds.synthetic.writer.randomness import rng_for
from cpmds.synthetic.writer.render import DELIVERY, output_columns, render_cells
from cpmds.synthetic.writer.styles import choose_style
from cpmds.synthetic.writer.tuning import DEFAULT_TUNING, Tuning

WRITER_THREADS = 4


def ensure_empty(out: Path) -> None:
    """Refuse to write into a directory that already holds files: they may be a partner's."""
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty: generate into a new or empty directory")


def write_landing_zone(
    history: History,
    options: GenerateOptions,
    progress: bool = True,
    *,
    tuning: Tuning = DEFAULT_TUNING,
) -> GenerateResult:
    """Write every sender's deliveries under ``options.out`` (and the defects manifest beside it).

    ``out`` must be new or empty: the files are written beside it first and moved into place at the
    end, so a sensor watching the landing zone never sees half of it.
    """
    contract = load_contract()
    out = Path(options.out)
    ensure_empty(out)

    plans = plan_senders(contract, history, options)
    styles = {
        (plan.dataset.partner, plan.org): choose_style(
            contract, plan.dataset.partner, plan.org, options.seed, tuning
        )
        for plan in plans
    }
    senders = schedule(contract, plans, styles, options, tuning)
    minter = KeyMinter(history)
    add_deletions(senders, contract, minter, options, tuning)
    add_corrections(senders, contract, minter, options, tuning)
    defects = inject_defects(senders, contract, options, minter) if options.defects else []

    deliveries = [delivery for group in senders for delivery in group]
    paths = [delivery.path for delivery in deliveries]
    if len(set(paths)) != len(paths):
        raise RuntimeError("two deliveries share a path: the schedule is inconsistent")

    staging = out.parent / f".{out.name}.writing"
    if staging.exists():
        shutil.rmtree(staging)  # left by an interrupted run of this function
    staging.mkdir(parents=True)
    try:
        rows = _write_all(senders, contract, options, tuning, staging, len(deliveries), progress)
        if out.exists():
            out.rmdir()
        staging.replace(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise

    manifest_path = options.manifest_path
    if options.defects:
        _write_json(manifest_path, manifest(defects, options))
    elif manifest_path.exists():
        manifest_path.unlink()  # a stale manifest would describe files that are not there
    return GenerateResult(
        out=out,
        files=len(deliveries),
        rows=rows,
        manifest=manifest_path if options.defects else None,
    )


def _write_all(
    senders: list[list[Delivery]],
    contract: Contract,
    options: GenerateOptions,
    tuning: Tuning,
    root: Path,
    total: int,
    progress: bool,
) -> int:
    """Render sender by sender; threads write the bytes meanwhile (file creation is slow I/O)."""
    rows = 0
    sources = {id(d.same_bytes_as) for group in senders for d in group if d.same_bytes_as}
    kept: dict[int, bytes] = {}
    copies: list[Delivery] = []
    with (
        stage("Writing partner files", total=total, enabled=progress) as advance,
        ThreadPoolExecutor(max_workers=WRITER_THREADS) as pool,
    ):
        pending = []
        for group in senders:
            for delivery, data in _render_sender(group, contract, options, tuning):
                if id(delivery) in sources:
                    kept[id(delivery)] = data
                pending.append(pool.submit(_write_file, root, delivery, data))
                rows += delivery.rows.height if delivery.raw is None else 0
                advance(1)
            copies += [delivery for delivery in group if delivery.same_bytes_as is not None]
        for copy in copies:
            assert copy.same_bytes_as is not None
            pending.append(pool.submit(_write_file, root, copy, kept[id(copy.same_bytes_as)]))
            rows += copy.rows.height
            advance(1)
        for future in pending:
            future.result()  # raise the first write that failed
    return rows


def _render_sender(
    group: list[Delivery], contract: Contract, options: GenerateOptions, tuning: Tuning
) -> list[tuple[Delivery, bytes]]:
    """Every delivery of one sender's dataset, formatted in one vectorised pass."""
    own = [d for d in group if d.same_bytes_as is None]
    if not own:
        return []
    first = own[0]
    dataset, style = first.dataset, first.style
    columns = output_columns(
        dataset, style, contract, rng_for(options.seed, "columns", dataset.id, first.org)
    )
    heights = [delivery.rows.height for delivery in own]
    stacked = pl.concat([delivery.rows for delivery in own]).with_columns(
        pl.Series(DELIVERY, np.repeat(np.arange(len(own), dtype=np.uint32), heights))
    )
    cells = render_cells(
        stacked,
        dataset,
        style,
        contract,
        columns,
        f"{options.seed}/{dataset.id}/{first.org}",
        tuning.retired_code_share,
    )
    parts = cells.partition_by(DELIVERY, as_dict=True, include_key=False, maintain_order=True)
    empty = cells.clear().drop(DELIVERY)
    chi_columns = dataset.identifier_columns("chi")
    written = []
    for index, delivery in enumerate(own):
        if delivery.raw is not None:
            written.append((delivery, delivery.raw))
            continue
        part = parts.get((index,), empty)
        if delivery.dropped_columns:
            part = part.drop(delivery.dropped_columns)
        headers = [style.header(name) for name in part.columns]
        if style.extension == "csv":
            data = csv_bytes(with_overrides(part, delivery.overrides), headers, style)
        else:
            data = xlsx_bytes(
                part, headers, style, chi_columns, delivery.overrides, delivery.submitted
            )
        written.append((delivery, data))
    return written


def _write_file(root: Path, delivery: Delivery, data: bytes) -> None:
    path = root / delivery.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _write_json(path: Path, document: object) -> None:
    temporary = path.with_name(f".{path.name}.writing")
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)
