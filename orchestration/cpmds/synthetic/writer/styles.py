"""How each sender writes its files: fixed per sender by the seed, varied as real partners vary.

Every choice stays inside the contract's "Formats" (encodings, date formats, boolean and missing
tokens, separators, header spellings): a style is variety, never a defect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cpmds.contract import Contract
from cpmds.synthetic.writer.randomness import rng_for
from cpmds.synthetic.writer.tuning import Tuning

HEADER_CASINGS = (("lower", 0.5), ("title", 0.3), ("upper", 0.2))
# Words a title-cased header writes in capitals, as people do ("Child ID", not "Child Id").
ACRONYMS = frozenset({"id", "chi", "ird", "pf", "sw", "scra"})
BLANK_MISSING_WEIGHT = 0.6  # the rest is shared by the other missing tokens
TIME_SUFFIX_SHARE = 0.2
LINE_ENDING_CRLF_SHARE = 0.5
SHEET_NAMES = (("Sheet1", 0.7), ("Extract", 0.2), ("Data", 0.1))
EXCEL_DATE_FORMATS = {"%Y-%m-%d": "yyyy-mm-dd", "%d/%m/%Y": "dd/mm/yyyy"}


@dataclass(frozen=True)
class SenderStyle:
    extension: str  # csv or xlsx
    encoding: str  # utf-8, utf-8-sig (with BOM) or windows-1252; CSV only
    line_ending: str
    header_separator: str
    header_casing: str
    date_format: str  # strftime
    time_suffix: str  # "" or the contract's accepted time part
    true_token: str
    false_token: str
    missing_token: str
    code_casing: str  # as_is, lower or upper
    use_synonyms: bool
    multi_separator: str
    chi_style: str  # plain, spaced (010203 1234) or dashed (010203-1234)
    chi_as_number: bool  # XLSX: CHIs as numbers, so a leading zero is lost
    shuffle_columns: bool
    deleted_column: bool  # carries the optional deletion column in every file
    blank_when_not_deleted: bool
    team_column: bool  # an unknown extra column with Gaelic team names (Windows-1252 senders)
    sheet_name: str

    @property
    def excel_date_format(self) -> str:
        return EXCEL_DATE_FORMATS.get(self.date_format, "yyyy-mm-dd")

    def header(self, name: str) -> str:
        words = name.split("_")
        if self.header_casing == "upper":
            words = [word.upper() for word in words]
        elif self.header_casing == "title":
            words = [word.upper() if word in ACRONYMS else word.capitalize() for word in words]
        return self.header_separator.join(words)


def _pick(rng: np.random.Generator, weighted: tuple[tuple[str, float], ...]) -> str:
    names = [name for name, _ in weighted]
    weights = np.array([weight for _, weight in weighted], dtype=float)
    return names[int(rng.choice(len(names), p=weights / weights.sum()))]


def cased(token: str, casing: str) -> str:
    return {"lower": token.lower(), "upper": token.upper()}.get(casing, token)


def choose_style(
    contract: Contract, partner: str, org: str, seed: int, tuning: Tuning
) -> SenderStyle:
    """The style of the sender ``(partner, org)``: every draw made, in a fixed order."""
    rng = rng_for(seed, "style", partner, org)
    formats = contract.formats
    draws = rng.random(8)

    xlsx = bool(draws[0] < tuning.xlsx_share(contract.partner_by_id[partner].org.kind))
    encoding = _pick(rng, tuning.encoding_weights)
    crlf = bool(draws[1] < LINE_ENDING_CRLF_SHARE)

    separators = formats.header_ignored_characters
    # Underscores are what most systems export; the other separators share the rest.
    separator_weights = tuple(
        (separator, 3.0 if separator == "_" else 1.0) for separator in separators
    )
    header_separator = _pick(rng, separator_weights)
    header_casing = _pick(rng, HEADER_CASINGS)

    date_format = formats.date_formats[int(rng.integers(len(formats.date_formats)))]
    time_suffix = str(formats.dates["accepted_time_suffix"]) if draws[2] < TIME_SUFFIX_SHARE else ""

    pair = int(rng.integers(len(formats.booleans["true"])))
    bool_casing = _pick(rng, (("as_is", 0.5), ("lower", 0.25), ("upper", 0.25)))
    true_token = cased(formats.booleans["true"][pair], bool_casing)
    false_token = cased(formats.booleans["false"][pair], bool_casing)

    others = [token for token in formats.missing_tokens if token != ""]
    share = (1 - BLANK_MISSING_WEIGHT) / len(others)
    missing_weights = (("", BLANK_MISSING_WEIGHT), *((token, share) for token in others))
    missing_token = _pick(rng, missing_weights)

    code_casing = _pick(rng, (("as_is", 0.7), ("lower", 0.2), ("upper", 0.1)))
    use_synonyms = bool(draws[3] < tuning.synonym_share)
    separators = formats.multi_value_separators
    multi_separator = separators[int(rng.integers(len(separators)))]
    chi_style = _pick(rng, tuning.chi_style_weights)
    chi_as_number = bool(xlsx and draws[4] < tuning.chi_as_number_share)
    shuffle_columns = bool(draws[5] < tuning.shuffled_column_share)
    deleted_column = bool(draws[6] < tuning.deletion_capable_senders)
    sheet_name = _pick(rng, SHEET_NAMES)

    if xlsx:
        # A spreadsheet has no encoding or line ends; its missing values are empty cells.
        encoding, crlf, missing_token = "utf-8", False, ""
        if chi_as_number:
            chi_style = "plain"
    if encoding == "windows-1252":
        crlf = True  # Windows tools write Windows line ends
    return SenderStyle(
        extension="xlsx" if xlsx else "csv",
        encoding=encoding,
        line_ending="\r\n" if crlf else "\n",
        header_separator=header_separator,
        header_casing=header_casing,
        date_format=date_format,
        time_suffix=time_suffix,
        true_token=true_token,
        false_token=false_token,
        missing_token=missing_token,
        code_casing=code_casing,
        use_synonyms=use_synonyms,
        multi_separator=multi_separator,
        chi_style=chi_style,
        chi_as_number=chi_as_number,
        shuffle_columns=shuffle_columns,
        deleted_column=deleted_column,
        blank_when_not_deleted=bool(missing_token == "" and draws[7] < 0.5),
        team_column=encoding == "windows-1252",
        sheet_name=sheet_name,
    )
