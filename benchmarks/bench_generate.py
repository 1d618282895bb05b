"""Benchmark (not a test): how fast `cpmds generate` writes a national landing zone.

Prints rows per second and files per second for a national year at --scale 1 (or the scale and
months given), split into the simulation and the writing of files.

    uv run python benchmarks/bench_generate.py [--scale 1.0] [--from 202308] [--to 202407]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from cpmds.synthetic import GenerateOptions
from cpmds.synthetic.simulate import simulate
from cpmds.synthetic.writer import write_landing_zone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--from", dest="period_from", type=int, default=202308)
    parser.add_argument("--to", dest="period_to", type=int, default=202407)
    parser.add_argument("--councils", default="all")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        options = GenerateOptions.build(
            out=Path(scratch) / "raw",
            councils=arguments.councils,
            period_from=arguments.period_from,
            period_to=arguments.period_to,
            scale=arguments.scale,
            defects=True,
        )
        started = time.perf_counter()
        history = simulate(options, progress=False)
        simulated = time.perf_counter()
        result = write_landing_zone(history, options, progress=False)
        written = time.perf_counter()
        size = sum(path.stat().st_size for path in options.out.rglob("*") if path.is_file())
    simulation, writing, total = simulated - started, written - simulated, written - started
    print(
        f"cpmds generate benchmark on {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} cores"
    )
    print(
        f"  councils {arguments.councils}, scale {arguments.scale}, "
        f"periods {arguments.period_from}-{arguments.period_to}"
    )
    print(f"  files            {result.files:>12,}")
    print(f"  rows             {result.rows:>12,}")
    print(f"  bytes            {size:>12,}")
    print(f"  simulate         {simulation:>11.1f}s")
    print(f"  write            {writing:>11.1f}s")
    print(f"  total            {total:>11.1f}s")
    print(f"  rows per second  {result.rows / total:>12,.0f}")
    print(f"  files per second {result.files / total:>12,.1f}")


if __name__ == "__main__":
    main()
