"""Files the project generates from its data (docs, rules, suites, dbt sources), kept in the repo
for review: written only when their text changes, or checked for staleness without writing."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def sync_generated_files(files: Mapping[Path, str], check: bool = False) -> list[Path]:
    """Write each path's text where it differs; return those paths (with ``check``: the stale
    ones, writing nothing)."""
    changed = []
    for path, text in files.items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        changed.append(path)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
    return changed
