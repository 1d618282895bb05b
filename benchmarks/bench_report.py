"""Benchmark (not a test): how long the quality report takes to build, and how big it is.

Generates a national landing zone (all 32 councils; two statistical years at --scale 1 by default)
in a scratch directory, runs the real load job once (which publishes and writes the report), then
builds the report again on its own (with no chart kept, then with every chart kept) and prints the
build times, the file's size and what is in it.
The targets (the report issue): under 30 s and under 10 MB for a national two-year run.

    uv run python benchmarks/bench_report.py [--years 2] [--scale 1.0] [--councils all]
    uv run python benchmarks/bench_report.py --home DIR   # rebuild the report of DIR's last run
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from cpmds.pipeline.runner import run_load
from cpmds.pseudonymise import KEY_VARIABLE
from cpmds.report import build_report
from cpmds.report.build import REPORTS
from cpmds.report.render import CACHE_FOLDER
from cpmds.settings import Settings
from cpmds.synthetic import GenerateOptions, generate

TEST_KEY = "0123456789abcdef" * 4  # a fixed 256-bit key, for this process only
LAST_PERIOD = 202407
TARGET_SECONDS, TARGET_BYTES = 30, 10_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=2, help="statistical years, ending 2023/24")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--councils", default="all", help="'all' or the first N councils")
    parser.add_argument("--home", type=Path, default=None, help="an existing home: report only")
    arguments = parser.parse_args()
    if arguments.home is not None:
        measure(arguments.home.resolve())
        return
    os.environ[KEY_VARIABLE] = TEST_KEY
    with tempfile.TemporaryDirectory(prefix="cpmds-bench-report-") as scratch:
        settings = Settings(raw=Path(scratch) / "raw", home=Path(scratch) / "home")
        options = GenerateOptions.build(
            out=settings.raw,
            councils=arguments.councils,
            period_from=(LAST_PERIOD // 100 - arguments.years) * 100 + 8,
            period_to=LAST_PERIOD,
            scale=arguments.scale,
            defects=True,
        )
        started = time.perf_counter()
        generated = generate(options, progress=False)
        print(f"generated {generated.files:,} files, {generated.rows:,} rows "
              f"in {time.perf_counter() - started:.0f} s")  # fmt: skip
        started = time.perf_counter()
        outcome = run_load(settings, progress=False)
        print(f"load: {outcome.describe()} ({time.perf_counter() - started:.0f} s)")
        measure(settings.home)


def measure(home: Path) -> None:
    # Once with every chart drawn (none kept, as after a run that changed the published values),
    # then again with every chart kept (as a re-run over unchanged values).
    shutil.rmtree(home / REPORTS / CACHE_FOLDER, ignore_errors=True)
    result = build_report(home)
    kept = build_report(home)
    html = result.path.read_text(encoding="utf-8")
    rows = [
        ("report", str(result.path)),
        ("build time", f"{result.seconds:.1f} s, charts drawn (target < {TARGET_SECONDS} s)"),
        ("rebuilt", f"{kept.seconds:.1f} s, charts kept"),
        ("size", f"{result.size / 1e6:.2f} MB (target < {TARGET_BYTES / 1e6:.0f} MB)"),
        ("inline SVG charts", f"{html.count('<svg'):,}"),
        ("of which SVG", f"{sum(len(s) for s in html.split('<svg')[1:]) / 1e6:.2f} MB"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
