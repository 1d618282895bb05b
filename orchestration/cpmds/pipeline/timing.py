"""Where a run spends its time: wall-clock spans per pipeline stage, for `cpmds bench`.

The stages mark themselves (``with stage_span("gate 1", rows=...)``); a reader (the benchmark)
collects the spans of the runs it starts in this process. Recording costs a clock read and an
append, so the stages always do it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

STAGES = ("land", "gate 1", "ingest", "gate 2", "dbt build", "gate 3", "publish", "report")


@dataclass
class Span:
    stage: str
    started: float  # time.monotonic()
    finished: float = 0.0
    rows: int = 0

    @property
    def seconds(self) -> float:
        return self.finished - self.started


@dataclass
class SpanLog:
    spans: list[Span] = field(default_factory=list)

    def clear(self) -> None:
        self.spans.clear()


SPANS = SpanLog()


@contextmanager
def stage_span(stage: str, rows: int = 0) -> Iterator[Span]:
    """Time one piece of a stage; set ``span.rows`` inside when the count is known only then."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; one of {', '.join(STAGES)}")
    span = Span(stage=stage, started=time.monotonic(), rows=rows)
    try:
        yield span
    finally:
        span.finished = time.monotonic()
        SPANS.spans.append(span)
