"""What each stage reports: counts and reasons (rule codes), never a value from a file.

The same summary becomes a log line, Dagster metadata (plain values: the code location wraps them)
and, for gates, a quality.gate_results row.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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

    def metadata(self) -> dict[str, int]:
        return {
            "new_files": self.new_files,
            "pending_files": self.pending,
            "quarantined_by_name": self.quarantined,
            "refused_files": self.rejected,
            "duplicate_files": self.duplicates,
            "unreadable_files": self.unreadable,
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

    def failures_table(self) -> str:
        """Failures by rule code, as a Markdown table."""
        rows = [f"| {code} | {count:,} |" for code, count in sorted(self.rules.items())]
        return "| rule | failures |\n|---|---|\n" + "\n".join(rows) if rows else "no failures"

    def metadata(self) -> dict[str, int]:
        return {
            "files_checked": self.files_checked,
            "files_quarantined": self.files_failed,
            "rows_checked": self.rows_checked,
            "rows_failed": self.rows_failed,
            "rows_warned": self.rows_warned,
            "files_undecided": self.undecided,
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

    def metadata(self) -> dict[str, int]:
        return {
            "files": self.files,
            "files_loaded": self.loaded,
            "files_quarantined": self.quarantined,
            "rows_loaded": self.rows_loaded,
        }
