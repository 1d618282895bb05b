"""One small published load shared by the test modules that read what a published run leaves
behind (the accessible workbook, the analysts' guide's queries), so the session pays for one
pipeline run rather than one per module.

Two councils (with their health boards) over 18 months at a third of the national volume: enough
for monthly, quarterly and yearly figures, small counts that disclosure control suppresses, and
re-registrations. No defects: nothing here is about bad files.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from cpmds.pipeline.runner import run_load
from cpmds.settings import Settings
from cpmds.synthetic import GenerateOptions, generate


@cache
def published_demo(base: Path) -> Settings:
    """Generate and load the landing zone under ``base`` (once per session and ``base``)."""
    options = GenerateOptions.build(
        out=base / "raw", seed=12, councils=2, period_from=202301, period_to=202406, scale=0.3
    )
    generate(options, progress=False)
    settings = Settings(raw=options.out, home=base / "home")
    outcome = run_load(settings)
    assert outcome.exit_code == 0 and outcome.published is not None, outcome.describe()
    return settings
