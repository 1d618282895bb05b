"""Realistic synthetic partner extracts: ``cpmds generate``.

Two steps with one hand-over (:mod:`cpmds.synthetic.history`): :func:`simulate` follows children's
journeys through the services and returns every record version; :func:`write_landing_zone` writes
them as partners deliver them, with the variety and the faults of real extracts. The generator reads
the contract on its own and never imports the loader.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cpmds.synthetic.options import GenerateOptions


@dataclass(frozen=True)
class GenerateResult:
    out: Path
    files: int
    rows: int
    manifest: Path | None


def generate(options: GenerateOptions, progress: bool = True) -> GenerateResult:
    from cpmds.synthetic.simulate import simulate
    from cpmds.synthetic.writer import write_landing_zone
    from cpmds.synthetic.writer.landing_zone import ensure_empty

    ensure_empty(options.out)
    history = simulate(options, progress=progress)
    return write_landing_zone(history, options, progress=progress)


__all__ = ["GenerateOptions", "GenerateResult", "generate"]
