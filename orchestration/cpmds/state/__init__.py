"""The pipeline's state store: load log, landing tables, run/gate/row-failure history."""

from __future__ import annotations

from pathlib import Path

from cpmds.state.lock import StateStoreBusyError
from cpmds.state.records import (
    FILE_STATUSES,
    DecidedStatus,
    FileDecision,
    FileRecord,
    FileStatus,
    GateResult,
    NewFile,
    RunRecord,
    RunStatus,
    SupersessionChange,
)
from cpmds.state.schema import SCHEMA_VERSION
from cpmds.state.store import (
    ROW_FAILURE_COLUMNS,
    PseudonymKeyMismatchError,
    StateStore,
    StateStoreError,
    state_path,
)

__all__ = [
    "FILE_STATUSES",
    "ROW_FAILURE_COLUMNS",
    "SCHEMA_VERSION",
    "DecidedStatus",
    "FileDecision",
    "FileRecord",
    "FileStatus",
    "GateResult",
    "NewFile",
    "PseudonymKeyMismatchError",
    "RunRecord",
    "RunStatus",
    "StateStore",
    "StateStoreBusyError",
    "StateStoreError",
    "SupersessionChange",
    "reset_for_rebuild",
    "state_path",
]


def reset_for_rebuild(
    home: Path, period_from: int | None = None, period_to: int | None = None
) -> int:
    """Open the store at ``home`` and :meth:`StateStore.reset_for_rebuild` it (after a key
    rotation: no periods, so every file is re-ingested by the next run)."""
    with StateStore.open(home) as store:
        return store.reset_for_rebuild(period_from, period_to)
