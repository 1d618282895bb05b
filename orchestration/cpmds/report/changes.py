"""Section 7, the values: what the run's publication changed against the one before it.

Both are kept publication versions (``<home>/warehouse/versions/``: the current one and the one
before), compared cell by cell on the key of ``indicator_values``. Only published numbers are
shown, old and new side by side; nothing is computed from a suppressed cell.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from cpmds.catalogue import INDICATOR_VALUE_KEY
from cpmds.publish.atomic import version_run
from cpmds.report.sources import publication_versions

LARGEST_REVISIONS = 15


def value_changes(home: Path, run_id: str, published_by_run: bool) -> dict[str, Any]:
    if not published_by_run:
        return {"compared": False, "why": "This run published nothing, so it revised no value."}
    versions = publication_versions(home)
    mine = [index for index, version in enumerate(versions) if version_run(version) == run_id]
    if not mine:
        return {"compared": False, "why": "This run's publication is no longer kept."}
    if mine[-1] == 0:
        return {
            "compared": False,
            "why": "This was the first publication: there is none before it.",
        }
    before, after = versions[mine[-1] - 1], versions[mine[-1]]
    return {"compared": True, "previous_run": version_run(before), **_compare(before, after)}


def _compare(before: Path, after: Path) -> dict[str, Any]:
    key = ", ".join(INDICATOR_VALUE_KEY)
    joined = f"""
        select coalesce(new.indicator_id, old.indicator_id) as indicator_id,
            new.area_type, new.area_code, new.period_label, new.breakdown, new.unit,
            old.value as old_value, new.value as new_value,
            old.numerator as old_count, new.numerator as new_count,
            case
                when old.indicator_id is null then 'new'
                when new.indicator_id is null then 'withdrawn'
                when old.suppressed and not new.suppressed then 'now shown'
                when new.suppressed and not old.suppressed then 'now suppressed'
                when not new.suppressed and (old.numerator is distinct from new.numerator
                    or old.denominator is distinct from new.denominator
                    or old.value is distinct from new.value) then 'revised'
            end as change
        from old.publication.indicator_values as old
        full join new.publication.indicator_values as new using ({key})
    """
    with duckdb.connect() as connection:
        for name, path in (("old", before), ("new", after)):
            escaped = str(path).replace("'", "''")
            connection.execute(f"attach '{escaped}' as {name} (read_only)")
        connection.execute(f"create temp table changes as {joined}")
        by_indicator = connection.execute(
            """
            select indicator_id,
                count(*) filter (where change = 'revised'),
                count(*) filter (where change = 'new'),
                count(*) filter (where change = 'now shown'),
                count(*) filter (where change = 'now suppressed'),
                count(*) filter (where change = 'withdrawn')
            from changes where change is not null group by all order by indicator_id
            """
        ).fetchall()
        largest = connection.execute(
            """
            select indicator_id, area_type, area_code, period_label, unit, old_value, new_value,
                old_count, new_count
            from changes
            where change = 'revised' and breakdown = 'total' and area_type <> 'council'
                and old_value is not null and new_value is not null
                -- a change a reader can see at the precision published (a population alone
                -- moving a rate in its second decimal place is counted above, not listed here)
                and (round(old_value, 1) <> round(new_value, 1) or old_count <> new_count)
            order by abs(new_count - old_count) / greatest(old_count, 1) desc,
                abs(new_value - old_value) / greatest(abs(old_value), 1) desc,
                indicator_id, area_code, period_label
            limit ?
            """,
            [LARGEST_REVISIONS],
        ).fetchall()
    columns = ("indicator_id", "revised", "new", "now_shown", "now_suppressed", "withdrawn")
    rows = [dict(zip(columns, row, strict=True)) for row in by_indicator]
    totals = {name: sum(row[name] for row in rows) for name in columns[1:]}
    revisions = [
        dict(
            zip(
                (
                    "indicator_id",
                    "area_type",
                    "area_code",
                    "period",
                    "unit",
                    "old",
                    "new",
                    "old_count",
                    "new_count",
                ),
                row,
                strict=True,
            )
        )
        for row in largest
    ]
    return {"by_indicator": rows, "totals": totals, "largest": revisions}
