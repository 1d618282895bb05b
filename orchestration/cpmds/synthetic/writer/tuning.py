"""How often each kind of variety and noise happens; tests turn these up, production keeps these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tuning:
    # Files
    late_share: float = 0.05  # files produced after their due date
    correction_share: float = 0.02  # files first sent with an entry made in error, then corrected
    # Monthly files of a deletion-capable sender with a spurious record (about 1% of all files).
    deletion_share: float = 0.03
    deletion_capable_senders: float = 0.35  # senders whose files carry the `deleted` column
    retired_folder_share: float = 0.10  # files of a council with a retired code sent under it
    retired_code_share: float = 0.02  # council_code values of such councils given the retired code
    # Sender styles: the weight of each choice
    xlsx_share_by_org_kind: tuple[tuple[str, float], ...] = (
        ("health_board", 0.85),
        ("council", 0.08),
        ("charity", 0.25),
        ("fixed", 0.0),
    )
    encoding_weights: tuple[tuple[str, float], ...] = (
        ("utf-8", 0.55),
        ("utf-8-sig", 0.25),
        ("windows-1252", 0.20),
    )
    shuffled_column_share: float = 0.20
    synonym_share: float = 0.30  # senders that write a code's synonym (Male) where it has one
    chi_style_weights: tuple[tuple[str, float], ...] = (
        ("plain", 0.70),
        ("spaced", 0.15),
        ("dashed", 0.15),
    )
    chi_as_number_share: float = 0.50  # XLSX senders whose CHIs are numbers (leading zero lost)

    def xlsx_share(self, org_kind: str) -> float:
        return dict(self.xlsx_share_by_org_kind).get(org_kind, 0.0)


DEFAULT_TUNING = Tuning()
