"""A sensor that starts a load when files arrive in the landing zone.

It reads only file names, sizes and modification times (never the state store, which a running
load holds), and waits until the landing zone has been quiet for a while, so a partner dropping 40
files at once starts one run, not 40. A run it asks for while a load is running waits in the
instance's run queue (``dagster.yaml``: one run at a time). Stopped until turned on, like the
nightly schedule (``CPMDS_AUTOMATION``, see :mod:`cpmds.defs.schedules`).
"""

import hashlib
import json
import time
from pathlib import Path

import dagster as dg

from cpmds.defs.jobs import load_job
from cpmds.defs.resources import PipelineResource
from cpmds.defs.schedules import automation_on

QUIET_SECONDS = 60


def landing_zone_fingerprint(raw: Path) -> tuple[str, float]:
    """A digest of every file's name, size and mtime, and the newest mtime."""
    entries = []
    newest = 0.0
    if raw.is_dir():
        for path in sorted(raw.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                stat = path.stat()
                entries.append((path.relative_to(raw).as_posix(), stat.st_size, stat.st_mtime))
                newest = max(newest, stat.st_mtime)
    digest = hashlib.sha256(json.dumps(entries).encode()).hexdigest()
    return digest, newest


@dg.sensor(
    job=load_job,
    minimum_interval_seconds=30,
    description=__doc__.splitlines()[0],
    default_status=dg.DefaultSensorStatus.RUNNING
    if automation_on()
    else dg.DefaultSensorStatus.STOPPED,
)
def raw_arrivals(context: dg.SensorEvaluationContext, pipeline: PipelineResource):
    digest, newest = landing_zone_fingerprint(pipeline.settings.raw)
    if newest == 0.0:
        return dg.SkipReason("the landing zone is empty")
    if digest == context.cursor:
        return dg.SkipReason("nothing new in the landing zone")
    if time.time() - newest < QUIET_SECONDS:
        return dg.SkipReason(f"files still arriving: waiting for {QUIET_SECONDS}s of quiet")
    context.update_cursor(digest)
    return dg.RunRequest(run_key=digest)
