"""The CHI number as Polars expressions (extracts.md, "Identifiers").

``DDMMYY`` date of birth, six digits; the ninth digit odd for male, even for female; the tenth a
modulus-11 check digit over the first nine (weights 10..2). The century is the latest that does not
put the date of birth after the file's submission date.
"""

from __future__ import annotations

import polars as pl

CHI_DIGITS = 10
CHECK_WEIGHTS = tuple(range(10, 1, -1))
VALID_SUFFIX = "__valid"
BIRTH_MONTH_SUFFIX = "__birth_month"
SEX_SUFFIX = "__sex"


def chi_check_columns(name: str) -> tuple[str, str, str]:
    """The columns derived from CHI column ``name``: valid, birth month, sex."""
    return name + VALID_SUFFIX, name + BIRTH_MONTH_SUFFIX, name + SEX_SUFFIX


def with_chi_checks(
    frame: pl.LazyFrame, name: str, submitted: pl.Expr, sex_codes: tuple[str, str]
) -> pl.LazyFrame:
    """Check the CHI column ``name`` (already stripped, missing tokens already null).

    ``name`` becomes the 10-digit CHI, or null when blank or invalid; ``<name>__valid`` is null for
    a blank cell, else whether it held a valid CHI; ``<name>__birth_month`` and ``<name>__sex``
    (``sex_codes`` = (male, female)) are derived from a valid one. ``submitted`` is a Date
    expression: the submission date of the row's file. Intermediate steps are materialised as
    columns because Polars' cost per query grows with the size of each expression tree.
    """
    candidate, birth_date, check_digit_ok = (
        f"__{name}__{step}" for step in ("chi", "dob", "check")
    )
    valid, birth_month, sex = chi_check_columns(name)
    compact = pl.col(name).str.replace_all(r"[\s\-]", "")
    # A spreadsheet that stored the CHI as a number dropped the leading zero of a day 01-09.
    padded = (
        pl.when(compact.str.contains(rf"^\d{{{CHI_DIGITS - 1}}}$"))
        .then(pl.lit("0") + compact)
        .otherwise(compact)
    )
    is_valid = (
        pl.col(candidate).str.contains(rf"^\d{{{CHI_DIGITS}}}$")
        & pl.col(check_digit_ok)
        & pl.col(birth_date).is_not_null()
    ).fill_null(False)
    male, female = sex_codes
    ninth_digit = _digit(pl.col(candidate), 8)
    return (
        frame.with_columns(padded.alias(candidate))
        .with_columns(
            _birth_date(pl.col(candidate), submitted).alias(birth_date),
            _check_digit_ok(pl.col(candidate)).alias(check_digit_ok),
        )
        .with_columns(pl.when(pl.col(name).is_not_null()).then(is_valid).alias(valid))
        .with_columns(
            pl.when(valid).then(pl.col(candidate)).alias(name),
            pl.when(valid).then(pl.col(birth_date).dt.month_start()).alias(birth_month),
            pl.when(valid)
            .then(pl.when(ninth_digit % 2 == 1).then(pl.lit(male)).otherwise(pl.lit(female)))
            .alias(sex),
        )
        .drop(candidate, birth_date, check_digit_ok)
    )


def _digit(chi: pl.Expr, index: int) -> pl.Expr:
    return chi.str.slice(index, 1).cast(pl.Int64, strict=False)


def _check_digit_ok(chi: pl.Expr) -> pl.Expr:
    weighted = pl.sum_horizontal(_digit(chi, i) * w for i, w in enumerate(CHECK_WEIGHTS))
    check = 11 - weighted % 11
    # A check of 10 equals no digit, so such a number fails here as the contract says it must.
    return pl.when(check == 11).then(0).otherwise(check) == _digit(chi, 9)


def _birth_date(chi: pl.Expr, submitted: pl.Expr) -> pl.Expr:
    """DDMMYY in the latest century not putting it after ``submitted``; null if no such date."""
    day_month = chi.str.slice(0, 4)
    two_digit_year = chi.str.slice(4, 2)
    century = submitted.dt.year() // 100

    def in_century(hundreds: pl.Expr) -> pl.Expr:
        return (day_month + hundreds.cast(pl.Utf8) + two_digit_year).str.strptime(
            pl.Date, "%d%m%Y", strict=False
        )

    latest = in_century(century)
    return (
        pl.when(latest.is_not_null() & (latest <= submitted))
        .then(latest)
        .otherwise(in_century(century - 1))
    )
