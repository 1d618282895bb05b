"""Finding a delivered file's identifiers in what the pipeline wrote (security.md, severity one):
the input's CHIs, child and pupil references, postcodes and full dates of birth, and a scan of any
text for them. Shared by the tests that scan the state store, the warehouse, the logs, the exports
and the quality report."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from cpmds.contract import load_contract
from cpmds.ingest import Delivery, FileRead, parse_delivery, read_delivery

CONTRACT = load_contract()
TOKEN = re.compile(r"[A-Za-z0-9]+")
# A decimal number is one token here: a timing's fraction ("execution_time": 0.18092012) is not a
# date of birth written DDMMYYYY.
BIRTH_TOKEN = re.compile(r"\d+(?:\.\d+)+|[A-Za-z0-9]+")
POSTCODE = re.compile(r"\b[A-Z]{1,2}[0-9][0-9A-Z]?\s*[0-9][A-Z]{2}\b")


def found_in(text: str, identifiers: set[str]) -> set[str]:
    """Identifiers in ``text``: whole tokens (CHIs, references), or postcodes however spaced."""
    candidates = set(TOKEN.findall(text))
    candidates |= {re.sub(r"\s", "", match) for match in POSTCODE.findall(text.upper())}
    return candidates & identifiers


def births_in(text: str, births: set[str]) -> set[str]:
    """Dates of birth in ``text``: written with separators anywhere, or as DDMMYYYY only as a whole
    token (eight digits also occur inside timings and hashes, and as a timing's fraction)."""
    tokens = set(BIRTH_TOKEN.findall(text))
    return {birth for birth in births if (birth in tokens if birth.isdigit() else birth in text)}


def identifiers_in_input(raw: Path) -> tuple[set[str], set[str]]:
    """(identifiers: CHIs, child and pupil references, postcodes (without spaces); full dates of
    birth), each in the forms a partner may write them."""
    tokens: set[str] = set()
    births: set[str] = set()
    for path in sorted(p for p in raw.rglob("*") if p.is_file()):
        delivery = parse_delivery(path, raw)
        if not isinstance(delivery, Delivery):
            continue
        dataset = CONTRACT.dataset_by_id[delivery.dataset_id]
        read = read_delivery(path, dataset, delivery.extension)
        if not isinstance(read, FileRead):
            continue
        frame = read.frame
        for column in dataset.columns:
            values = [v for v in frame[column.name].drop_nulls().to_list() if v.strip()]
            if column.identifier == "chi":
                for value in values:
                    digits = re.sub(r"[\s-]", "", value)
                    tokens |= {digits, digits.zfill(10)}
            elif column.identifier == "child_ref":
                tokens |= {value.strip() for value in values}
            elif column.identifier == "postcode":
                tokens |= {re.sub(r"\s", "", value).upper() for value in values}
            elif column.identifier == "date_of_birth":
                for value in values:
                    births |= _date_spellings(value)
    # A missing-value token ("NA", "NULL") in an identifier column is not an identifier.
    missing = {token.upper() for token in CONTRACT.formats.missing_tokens}
    return {token for token in tokens if token.upper() not in missing}, births


def _date_spellings(text: str) -> set[str]:
    text = text.strip().removesuffix(" 00:00:00")
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            day = dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        if day.day == 1:
            return set()  # a first of the month is what the warehouse keeps, by design
        return {day.isoformat(), day.strftime("%d/%m/%Y"), day.strftime("%d%m%Y")}
    return set()
