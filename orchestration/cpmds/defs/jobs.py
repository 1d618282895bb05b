"""The load job: what the nightly schedule, the sensor and `cpmds run` all run."""

from __future__ import annotations

import dagster as dg

# In one process, one stage after another: the state store takes one writer at a time, and a run
# handles every new file in one go rather than a run (or a process) per file.
load_job = dg.define_asset_job(
    "load",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="One full load of everything new under the landing zone.",
)
