"""The report's charts drawn ahead, beside publish's own work.

Publish writes the accessible workbook in one process for several seconds while the other cores
wait, and the report that follows spends most of its time drawing run charts from the figures just
published. :func:`charts_drawn_meanwhile` draws those charts in spawned processes while publish
writes its exports (one per core, up to :data:`MAX_PROCESSES`, each drawing its share: the charts
are more work than the exports). They are kept under the home (:mod:`cpmds.report.render`), so
the report reads them instead of drawing them. It waits for the processes before it returns, so
nothing outlives the publish step and the state store is free again for the run's closing write.
Anything that goes wrong only costs the time: it is logged, and the report draws whatever is not
kept. Measured on the national five years (2 cores): the exports and the report took 11.6 s one
after the other, 10.0 s with the charts drawn ahead.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)

MAX_PROCESSES = 4


@contextmanager
def charts_drawn_meanwhile(home: Path) -> Iterator[None]:
    """Draw the current publication's report charts in other processes during the block."""
    from cpmds.report.build import draw_published_charts
    from cpmds.report.render import cores

    parts = max(1, min(cores(), MAX_PROCESSES))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=parts, mp_context=context) as pool:
        try:
            drawing = [
                pool.submit(draw_published_charts, home, part, parts) for part in range(parts)
            ]
        except Exception as error:  # no process to draw in: the report draws them itself
            logger.warning("the report's charts are not drawn ahead: %s", error)
            drawing = []
        try:
            yield
        finally:
            _wait(drawing)


def _wait(drawing: list[Future[int]]) -> None:
    drawn = 0
    for share in drawing:
        try:
            drawn += share.result()
        except Exception as error:
            logger.warning("the report's charts were not drawn ahead: %s", error)
            return
    logger.debug("drew %d report chart(s) ahead of the report", drawn)
