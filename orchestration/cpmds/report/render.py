"""Drawing the report's charts: asked for while the report is gathered, drawn together at the end.

- **Kept.** Each chart's SVG is kept under the home (``<home>/reports/.charts/<key>.svg``), its
  key a SHA-256 of exactly what it is drawn from (the kind of chart and every argument: titles,
  values, run-chart signals, month labels, unit) and of the code that draws it (``charts.py``,
  matplotlib's version and settings, the font it finds, :data:`FORMAT`). A report over unchanged
  published values (a no-change re-run, ``cpmds report`` again) draws nothing. A kept chart is
  only ever used for the very same inputs, so a stale one is never shown: it is simply not asked
  for, and charts no build has asked for in :data:`KEEP_UNUSED_SECONDS` are deleted. A kept file
  that cannot be read whole is drawn again. The charts hold what the report shows, published and
  disclosure-controlled aggregates, and no identifier.
- **Drawn in parallel.** Charts not kept are shared out between this process and a pool of one
  worker process per further core (spawned, so nothing of the caller's open databases or threads
  is inherited), heaviest first; with one core, or a few charts, all are drawn here. The same
  inputs give the same SVG in any process and in any order (matplotlib's ``svg.hashsalt`` is
  fixed).
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

CACHE_FOLDER = ".charts"
FORMAT = "1"  # change to drop every kept chart
KEEP_UNUSED_SECONDS = 3600
POOL_FROM = 4  # fewer charts to draw than this are drawn in this process
WORKER_START_WEIGHT = 40  # a worker's start (a new Python, matplotlib), in panels drawn meanwhile
KINDS = ("run_chart", "journey")


@dataclass(frozen=True)
class Chart:
    """One chart to draw: ``kind`` one of :data:`KINDS`, ``arguments`` those of its function in
    :mod:`cpmds.report.charts`."""

    kind: str
    arguments: tuple[Any, ...]

    @property
    def weight(self) -> int:
        """Roughly how long it takes to draw (its panels), for the order of the pool's work."""
        first = self.arguments[0] if self.arguments else ()
        return len(first) if isinstance(first, Sequence) else 1


@dataclass
class Pending:
    """A chart asked for; ``svg`` is set once :meth:`Charts.draw` has run."""

    chart: Chart
    svg: str | None = None


@dataclass
class Charts:
    """The charts of one report. ``folder`` keeps drawn charts (``None``: keep nothing)."""

    folder: Path | None = None
    asked: list[Pending] = field(default_factory=list)
    drawn: int = 0  # how many the last draw() had to draw (the rest were kept)

    def ask(self, kind: str, *arguments: Any) -> Pending:
        if kind not in KINDS:
            raise ValueError(f"unknown chart kind {kind!r}")
        pending = Pending(Chart(kind, arguments))
        self.asked.append(pending)
        return pending

    def draw(self) -> None:
        """Every chart asked for, from the kept ones where they exist, the rest drawn."""
        keys = [chart_key(p.chart) for p in self.asked]
        svgs: dict[str, str] = {}
        for key in set(keys):
            kept = self._kept(key)
            if kept is not None:
                svgs[key] = kept
        wanted: dict[str, Chart] = {}
        for key, pending in zip(keys, self.asked, strict=True):
            if key not in svgs:
                wanted.setdefault(key, pending.chart)
        self.drawn = len(wanted)
        for key, svg in zip(wanted, draw_all(list(wanted.values())), strict=True):
            svgs[key] = svg
            self._keep(key, svg)
        for key, pending in zip(keys, self.asked, strict=True):
            pending.svg = svgs[key]
        self._prune(set(keys))

    def keep_missing(self, part: int = 0, parts: int = 1) -> int:
        """Draw in this process, and keep, the charts asked for that are not kept yet, of every
        ``parts``-th chart (in the order of their keys) from the ``part``-th: several processes
        share the charts out whatever each finds kept when it starts. How many it drew; nothing
        is resolved."""
        charts = {chart_key(pending.chart): pending.chart for pending in self.asked}
        drawn = 0
        for key in sorted(charts)[part::parts]:
            if self._kept(key) is None:
                self._keep(key, draw(charts[key]))
                drawn += 1
        return drawn

    def _path(self, key: str) -> Path | None:
        return None if self.folder is None else self.folder / f"{key}.svg"

    def _kept(self, key: str) -> str | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            text = path.read_text(encoding="utf-8")
            os.utime(path)  # used now: not pruned for a while
        except (OSError, UnicodeDecodeError):
            return None
        return text if text.startswith("<svg") and text.rstrip().endswith("</svg>") else None

    def _keep(self, key: str, svg: str) -> None:
        path = self._path(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            hidden = path.with_name(f".{path.name}.{os.getpid()}.partial")
            hidden.write_text(svg, encoding="utf-8")
            hidden.replace(path)
        except OSError as error:  # a chart not kept is drawn again next time; nothing more
            logger.warning("a report chart could not be kept: %s", error)

    def _prune(self, used: set[str]) -> None:
        if self.folder is None or not self.folder.is_dir():
            return
        now = time.time()
        for path in self.folder.iterdir():
            if path.stem in used or not path.name.endswith(".svg"):
                continue
            try:
                if now - path.stat().st_mtime > KEEP_UNUSED_SECONDS:
                    path.unlink()
            except OSError:
                continue  # another build pruned it first


def resolve(value: Any) -> Any:
    """``value`` with every :class:`Pending` in it (in dicts, lists, tuples) replaced by its SVG."""
    if isinstance(value, Pending):
        if value.svg is None:
            raise RuntimeError("a chart was asked for but not drawn")
        return value.svg
    if isinstance(value, dict):
        return {k: resolve(v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(resolve(v) for v in value)
    return value


def chart_key(chart: Chart) -> str:
    """SHA-256 of the chart's inputs (their ``repr``: every float in full) and of the code."""
    digest = hashlib.sha256(_code_version().encode())
    digest.update(repr((chart.kind, chart.arguments)).encode("utf-8"))
    return digest.hexdigest()


@cache
def _code_version() -> str:
    import matplotlib
    from matplotlib import font_manager

    from cpmds.report import charts

    source = hashlib.sha256(Path(charts.__file__).read_bytes()).hexdigest()
    font = font_manager.findfont(charts.STYLE["font.family"])
    # matplotlib's defaults as configured here (a matplotlibrc could change them)
    settings = hashlib.sha256(repr(sorted(matplotlib.rcParams.items())).encode()).hexdigest()
    return "\0".join((FORMAT, matplotlib.__version__, font, source, settings))


def draw(chart: Chart) -> str:
    from cpmds.report.charts import journey_figure, run_chart_figure

    function = run_chart_figure if chart.kind == "run_chart" else journey_figure
    return function(*chart.arguments)


def draw_all(charts: list[Chart]) -> list[str]:
    """The SVG of each chart, in order. With more than one core, the charts are shared out by
    weight, heaviest first, between this process and a pool of one worker per further core
    (spawned: a new Python, so nothing of this process, its open databases or its threads is
    inherited); a share whose worker fails is drawn here."""
    workers = min(len(charts), cores()) - 1
    if workers < 1 or len(charts) < POOL_FROM:
        return [draw(chart) for chart in charts]
    shares: list[list[int]] = [[] for _ in range(workers + 1)]  # shares[0]: this process's
    loads = [0] + [WORKER_START_WEIGHT] * workers
    for index in sorted(range(len(charts)), key=lambda i: -charts[i].weight):
        lightest = loads.index(min(loads))
        shares[lightest].append(index)
        loads[lightest] += charts[index].weight
    svgs: list[str] = [""] * len(charts)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        sent = [
            (share, pool.submit(draw_share, [charts[i] for i in share]))
            for share in shares[1:]
            if share
        ]
        for index in shares[0]:
            svgs[index] = draw(charts[index])
        for share, future in sent:
            try:
                drawn = future.result()
            except Exception as error:
                logger.warning("a chart worker failed (%s); drawing its charts here", error)
                drawn = [draw(charts[i]) for i in share]
            for index, svg in zip(share, drawn, strict=True):
                svgs[index] = svg
    return svgs


def draw_share(charts: list[Chart]) -> list[str]:
    """A worker's share of the charts."""
    return [draw(chart) for chart in charts]


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
