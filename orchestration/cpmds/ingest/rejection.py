"""Why a whole file is refused before any of its rows are read.

A rejection carries a stable key (for the load log and the quality report) and a fixed text. Neither
ever holds anything from the file: names, headers and cells are data, and may embed identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass

REJECTION_MESSAGES: dict[str, str] = {
    "outside_root": "the path resolves outside the landing zone",
    "bad_layout": "the path is not <partner>/<org_code>/<file name> under the landing zone",
    "bad_file_name": "the file name is not <dataset>_<YYYYMM>_<YYYYMMDDHHMM>.<csv|xlsx>",
    "unknown_partner": "the partner folder is not a partner named in the contract",
    "unknown_dataset": "the dataset is not one that this partner sends",
    "org_not_allowed": "the org code folder is not one that may send for this partner",
    "bad_period": "the period YYYYMM is not a valid month",
    "wrong_period_month": "the period month is not the one this annual dataset is sent for",
    "bad_submission": "the submission stamp YYYYMMDDHHMM is not a valid date and time",
    "unsupported_extension": "the file is neither CSV nor XLSX",
    "no_header_row": "the file has no header row (it is empty, blank or starts with a blank row)",
    "undecodable": "the file is not text in UTF-8 or Windows-1252",
    "malformed_csv": "the CSV cannot be parsed (a row has more fields than the header, or a quote "
    "is not closed)",
    "unreadable_xlsx": "the XLSX workbook cannot be opened or has no readable first worksheet",
}


@dataclass(frozen=True)
class Rejection:
    """A file refused whole; ``reason`` is one of :data:`REJECTION_MESSAGES`' keys."""

    reason: str
    message: str

    @classmethod
    def because(cls, reason: str) -> Rejection:
        return cls(reason=reason, message=REJECTION_MESSAGES[reason])
