"""Which file is current for each (partner, org, dataset, period) (extracts.md, "Files").

The file with the latest submission stamp is current, among the files that loaded and the
duplicates of files that loaded: a duplicate stands for the file whose bytes it repeats, so a
partner who re-sends an earlier file's bytes with a later stamp makes that earlier file current
again. A quarantined correction takes no part: the earlier good file stays current. Ties on the
stamp go to the later arrival, then the path, so the outcome never depends on reading order.
Worked out afresh from the whole load log each time, it cannot drift.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from cpmds.state.records import FileStatus, SupersessionChange

Group = tuple[str, str, str, int]
_STANDING = ("loaded", "superseded")


@dataclass(frozen=True)
class Standing:
    file_id: int
    path: str
    status: FileStatus
    group: Group
    submission: dt.datetime
    arrived: dt.datetime
    duplicate_of: int | None
    superseded_by: int | None


def supersession_changes(files: Iterable[Standing]) -> list[SupersessionChange]:
    """The status changes that make exactly one loaded file current in every group."""
    files = list(files)
    by_id = {file.file_id: file for file in files}
    latest: dict[Group, tuple[tuple[dt.datetime, dt.datetime, str], int]] = {}
    for file in files:
        content = _content_of(file, by_id)
        if content is None:
            continue
        rank = (file.submission, file.arrived, file.path)
        if file.group not in latest or rank > latest[file.group][0]:
            latest[file.group] = (rank, content)
    changes = []
    for file in files:
        if file.status not in _STANDING:
            continue
        current = latest[file.group][1]
        after: FileStatus = "loaded" if file.file_id == current else "superseded"
        superseded_by = None if after == "loaded" else current
        if (after, superseded_by) != (file.status, file.superseded_by):
            changes.append(
                SupersessionChange(
                    file_id=file.file_id,
                    path=file.path,
                    before=file.status,
                    after=after,
                    superseded_by=superseded_by,
                )
            )
    return changes


def _content_of(file: Standing, by_id: dict[int, Standing]) -> int | None:
    """The loaded file whose rows ``file`` stands for, if any."""
    if file.status in _STANDING:
        return file.file_id
    if file.status == "duplicate" and file.duplicate_of is not None:
        twin = by_id.get(file.duplicate_of)
        if twin is not None and twin.status in _STANDING:
            return twin.file_id
    return None
