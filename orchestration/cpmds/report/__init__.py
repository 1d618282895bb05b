"""The quality report for the Care Inspectorate (pipeline.md, "The quality report"): one
self-contained HTML file per run, from the state store's quality history and the shareable
publication file only."""

from cpmds.report.build import ReportResult, build_report, latest_path, report_path
from cpmds.report.sources import NoRunError

__all__ = ["NoRunError", "ReportResult", "build_report", "latest_path", "report_path"]
