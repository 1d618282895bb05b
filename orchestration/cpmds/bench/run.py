"""`cpmds bench`: a national landing zone through the real pipeline, three ways, with floors.

1. cold: a full backfill of N statistical years (all 32 councils, 14 boards) into an empty home;
2. nightly: one more month of files on top of it (the month held back from the cold run);
3. no change: the same landing zone again.

Each is a real `cpmds run` (the load job, in this process); the stages mark their spans
(:mod:`cpmds.pipeline.timing`) and a sampler follows the memory of the process tree. The landing
zone and the homes live in a scratch folder that is removed afterwards; only the figures are kept,
as ``<home>/bench.json``.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import platform
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path

from cpmds.bench.floors import copy_floor, landing_files, read_floor
from cpmds.bench.memory import MemorySampler
from cpmds.pipeline.incremental import BUILD_START_LINE
from cpmds.pipeline.timing import SPANS, STAGES
from cpmds.settings import Settings

LAST_PERIOD = 202407  # the nightly month: July 2024, the first month of 2024/25
BENCH_FILE = "bench.json"
INGEST_STAGES = ("land", "gate 1", "ingest", "gate 2")
PACKAGES = ("dagster", "dbt-core", "dbt-duckdb", "duckdb", "great-expectations", "polars")


@dataclass
class StageFigure:
    stage: str
    seconds: float
    rows: int
    peak_mib: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 and self.rows else 0.0


@dataclass
class Scenario:
    name: str
    files: int
    rows: int
    wall_seconds: float
    peak_mib: float
    exit_code: int
    stages: list[StageFigure] = field(default_factory=list)
    build_start: str = ""  # how the dbt build started (from the last published build, or empty)


@dataclass
class BenchResult:
    scale: float
    years: int
    councils: str
    cores: int
    python: str
    versions: dict[str, str]
    files: int
    rows: int
    generate_seconds: float
    scenarios: list[Scenario]
    floors: dict[str, float]
    ratios: dict[str, float]

    def to_json(self) -> dict:
        data = asdict(self)
        for scenario, source in zip(data["scenarios"], self.scenarios, strict=True):
            for stage, figure in zip(scenario["stages"], source.stages, strict=True):
                stage["rows_per_second"] = round(figure.rows_per_second, 1)
        return data


def run_bench(
    home: Path, scale: float, years: int, councils: str | int = "all", progress: bool = True
) -> BenchResult:
    """Measure everything; write ``<home>/bench.json``; return the figures."""
    from cpmds.pipeline.runner import run_load

    home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cpmds-bench-", dir=home) as scratch:
        raw = Path(scratch) / "raw"
        started = time.perf_counter()
        generated = _generate(raw, scale, years, councils, progress)
        generate_seconds = time.perf_counter() - started
        held_back = _hold_back_last_month(raw, Path(scratch) / "next-month")
        floor = read_floor(raw)

        settings = Settings(raw=raw, home=Path(scratch) / "home")
        scenarios = [_measure("cold full backfill", settings, run_load, progress)]
        for path, target in held_back:
            target.parent.mkdir(parents=True, exist_ok=True)
            path.replace(target)
        scenarios.append(_measure("nightly: one new month", settings, run_load, progress))
        scenarios.append(_measure("no-change re-run", settings, run_load, progress))
        from cpmds.publish.atomic import published_path

        published = published_path(settings.home)
        publish_floor = copy_floor(published) if published.exists() else 0.0

    cold = scenarios[0]
    ingest_seconds = sum(s.seconds for s in cold.stages if s.stage in INGEST_STAGES)
    publish_seconds = sum(s.seconds for s in cold.stages if s.stage == "publish")
    result = BenchResult(
        scale=scale,
        years=years,
        councils=str(councils),
        cores=os.cpu_count() or 1,
        python=f"{platform.python_implementation()} {platform.python_version()}",
        versions={name: version(name) for name in PACKAGES},
        files=generated.files,
        rows=generated.rows,
        generate_seconds=round(generate_seconds, 2),
        scenarios=scenarios,
        floors={
            "ingest_read_polars_seconds": round(floor.polars_seconds, 2),
            "ingest_read_duckdb_seconds": round(floor.duckdb_seconds, 2),
            "ingest_read_seconds": round(floor.seconds, 2),
            "ingest_read_files": floor.files,
            "publish_copy_seconds": round(publish_floor, 3),
        },
        ratios={
            "ingest_vs_read_floor": round(ingest_seconds / floor.seconds, 2)
            if floor.seconds
            else 0,
            "publish_vs_copy_floor": _ratio(publish_seconds, publish_floor),
        },
    )
    (home / BENCH_FILE).write_text(json.dumps(result.to_json(), indent=2) + "\n")
    return result


def _ratio(seconds: float, floor: float) -> float:
    return round(seconds / floor, 2) if floor else 0.0


def _generate(raw: Path, scale: float, years: int, councils: str | int, progress: bool):
    from cpmds.synthetic import GenerateOptions, generate

    first = (LAST_PERIOD // 100 - years) * 100 + 8  # August, N statistical years before 2024/25
    options = GenerateOptions.build(
        out=raw,
        councils=councils,
        period_from=first,
        period_to=LAST_PERIOD,
        scale=scale,
        defects=False,
    )
    # the generator in a process of its own: its memory is not the pipeline's
    with ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        return pool.submit(generate, options, progress).result()


def _hold_back_last_month(raw: Path, aside: Path) -> list[tuple[Path, Path]]:
    """Move the last month's deliveries aside; return (where they are now, where they go back)."""
    moves = []
    for path in sorted(raw.rglob(f"*_{LAST_PERIOD}_*")):
        if path.is_file():
            parked = aside / path.relative_to(raw)
            parked.parent.mkdir(parents=True, exist_ok=True)
            path.replace(parked)
            moves.append((parked, path))
    return moves


class _BuildStartSeen(logging.Handler):
    """Keeps the transform step's line saying where the build started."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seen = ""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(BUILD_START_LINE):
            self.seen = message.removeprefix(BUILD_START_LINE)


def _measure(name: str, settings: Settings, run_load, progress: bool) -> Scenario:
    SPANS.clear()
    build_start = _BuildStartSeen()
    pipeline_logger = logging.getLogger("cpmds")
    pipeline_logger.addHandler(build_start)
    pipeline_logger.setLevel(logging.INFO)
    try:
        with MemorySampler() as sampler:
            started = time.perf_counter()
            outcome = run_load(settings, progress=progress)
            wall = time.perf_counter() - started
    finally:
        pipeline_logger.removeHandler(build_start)
    stages = []
    for stage in STAGES:
        spans = [span for span in SPANS.spans if span.stage == stage]
        stages.append(
            StageFigure(
                stage=stage,
                seconds=round(sum(span.seconds for span in spans), 3),
                rows=sum(span.rows for span in spans),
                peak_mib=round(
                    max((sampler.peak(s.started, s.finished) for s in spans), default=0) / 2**20, 1
                ),
            )
        )
    return Scenario(
        name=name,
        files=len(landing_files(settings.raw)),
        rows=stages[2].rows,  # what the ingest stage read in this run
        wall_seconds=round(wall, 2),
        peak_mib=round(sampler.peak() / 2**20, 1),
        exit_code=outcome.exit_code,
        stages=stages,
        build_start=build_start.seen or "skipped (nothing new)",
    )
