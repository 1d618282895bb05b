"""Resources: where the landing zone and the state home are (settings.py decides the defaults)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from cpmds.settings import Settings


class PipelineResource(dg.ConfigurableResource):
    """The landing zone the pipeline reads and the home it keeps its state, key and outputs in."""

    raw: str
    home: str

    @property
    def settings(self) -> Settings:
        return Settings(raw=Path(self.raw), home=Path(self.home))
