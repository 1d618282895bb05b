"""`cpmds restore-previous`: the published warehouse back to the version published before it.

For when a published warehouse turns out to be wrong in a way the gates did not catch (runbook,
"Restore the previous published warehouse"). It waits for a load in progress to finish first, so
it never races one; the version it replaces is withdrawn, not deleted.
"""

from __future__ import annotations

from collections.abc import Callable

from cpmds.pipeline.load_lock import holding_load_lock
from cpmds.pipeline.unchanged import forget_build
from cpmds.publish.atomic import (
    NothingToRestoreError,
    PublishBusyError,
    published_path,
    restore_previous,
)
from cpmds.settings import Settings

EXIT_RESTORED = 0
EXIT_NOT_RESTORED = 1


def restore(settings: Settings, echo: Callable[[str], None]) -> int:
    """Restore the previous version; returns the exit status."""
    with holding_load_lock(settings.home, "restore-previous", on_wait=echo):
        try:
            restored = restore_previous(settings.home)
            # the record describes the version just withdrawn: the next run neither skips its
            # build nor starts it from the restored version on its word
            forget_build(settings.home)
        except (NothingToRestoreError, PublishBusyError) as error:
            echo(f"Nothing restored: {error}.")
            return EXIT_NOT_RESTORED
    echo(
        f"{published_path(settings.home)} now points at {restored.name}; the version it replaced "
        "is kept under versions/withdrawn/ until the next publication.\n"
        "The next load publishes again whatever passes its gates: correct what was wrong first "
        "(see docs/runbook.md), or stop the schedule and the sensor until it is."
    )
    return EXIT_RESTORED
