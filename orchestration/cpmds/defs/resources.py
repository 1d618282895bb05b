"""Resources: where the landing zone and the state home are (settings.py decides the defaults)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from cpmds.pipeline.load_lock import holding_load_lock
from cpmds.settings import Settings


class PipelineResource(dg.ConfigurableResource):
    """The landing zone the pipeline reads and the home it keeps its state, key and outputs in."""

    raw: str
    home: str

    @property
    def settings(self) -> Settings:
        return Settings(raw=Path(self.raw), home=Path(self.home))


class LoadLockResource(dg.ConfigurableResource):
    """The home's load lock (:mod:`cpmds.pipeline.load_lock`), held from the start of a run to its
    end: Dagster sets a run's resources up once, before its first step, and tears them down after
    its last. A run started while another load holds it waits, and says so in its log."""

    home: str

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[LoadLockResource]:
        def waiting(message: str) -> None:
            if context.log is not None:
                context.log.warning(message)

        run_id = context.run.run_id if context.run is not None else "outside a run"
        with holding_load_lock(Path(self.home), run_id, on_wait=waiting):
            yield self
