"""What each stage reports: counts and reasons (rule codes), never a value from a file.

The same summary becomes a log line, Dagster metadata and (for gates) a quality.gate_results row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg


@dataclass(frozen=True)
class LandSummary:
    new_files: int
    pending: int
    rejected: int
    quarantined: int
    duplicates: int
    unreadable: int

    def describe(self) -> str:
        return (
            f"land: {self.new_files} new file(s); {self.pending} to ingest, "
            f"{self.quarantined} quarantined by name, {self.rejected} refused, "
            f"{self.duplicates} duplicate(s), {self.unreadable} unreadable for now"
        )

    def metadata(self) -> dict[str, dg.MetadataValue]:
        return {
            "new_files": dg.MetadataValue.int(self.new_files),
            "pending_files": dg.MetadataValue.int(self.pending),
            "quarantined_by_name": dg.MetadataValue.int(self.quarantined),
            "refused_files": dg.MetadataValue.int(self.rejected),
            "duplicate_files": dg.MetadataValue.int(self.duplicates),
            "unreadable_files": dg.MetadataValue.int(self.unreadable),
        }


@dataclass(frozen=True)
class GateSummary:
    """One gate's verdict over one dataset's new files in a run.

    ``passed`` means every file was decided (loaded or quarantined): quarantining a bad file is the
    gate doing its job (pipeline.md, step 8). It fails only when a file could not be decided.
    """

    gate: str
    passed: bool
    files_checked: int = 0
    files_failed: int = 0
    rows_checked: int = 0
    rows_failed: int = 0
    rows_warned: int = 0
    rules: dict[str, int] = field(default_factory=dict)  # rule code -> failures
    undecided: int = 0

    def metadata(self) -> dict[str, dg.MetadataValue]:
        table = "\n".join(f"| {code} | {count:,} |" for code, count in sorted(self.rules.items()))
        return {
            "files_checked": dg.MetadataValue.int(self.files_checked),
            "files_quarantined": dg.MetadataValue.int(self.files_failed),
            "rows_checked": dg.MetadataValue.int(self.rows_checked),
            "rows_failed": dg.MetadataValue.int(self.rows_failed),
            "rows_warned": dg.MetadataValue.int(self.rows_warned),
            "files_undecided": dg.MetadataValue.int(self.undecided),
            "failures_by_rule": dg.MetadataValue.md(
                "| rule | failures |\n|---|---|\n" + table if table else "no failures"
            ),
        }

    def details(self) -> dict[str, object]:
        return {"rules": dict(sorted(self.rules.items())), "files_undecided": self.undecided}


@dataclass(frozen=True)
class IngestSummary:
    dataset_id: str
    files: int
    loaded: int
    quarantined: int
    rows_loaded: int
    gate_file: GateSummary
    gate_rows: GateSummary

    def describe(self) -> str:
        return (
            f"{self.dataset_id}: {self.files} file(s), {self.loaded} loaded "
            f"({self.rows_loaded:,} rows), {self.quarantined} quarantined"
        )

    def metadata(self) -> dict[str, dg.MetadataValue]:
        return {
            "files": dg.MetadataValue.int(self.files),
            "files_loaded": dg.MetadataValue.int(self.loaded),
            "files_quarantined": dg.MetadataValue.int(self.quarantined),
            "rows_loaded": dg.MetadataValue.int(self.rows_loaded),
        }
