"""Type a dataset's string frame per the contract (pipeline step 3), vectorised in Polars.

Every contract column comes out in its contract type (text and code ``Utf8``, codes ``List(Utf8)``,
date ``Date``, bool ``Boolean``, integer ``Int64``); a cell that cannot be typed becomes null and
is listed in the failures frame (``_row``, ``column``, ``problem``, ``severity``), which never holds
a value. Each CHI column ``c`` gains ``c__valid``, ``c__birth_month`` and ``c__sex``; an invalid CHI
is nulled (a warning: the row stays, the CHI counts as missing). Cross-field rules other than
``required_with`` belong to the row gate.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from cpmds.contract import Column, Contract, Dataset, load_contract
from cpmds.ingest.chi import chi_check_columns, with_chi_checks
from cpmds.ingest.read import ROW_COLUMN

PROBLEM_SEVERITY: dict[str, str] = {
    "required_missing": "error",
    "required_with_missing": "error",
    "bad_date": "error",
    "bad_bool": "error",
    "bad_code": "error",
    "bad_integer": "error",
    "out_of_range": "error",
    "chi_invalid": "warning",
}
FAILURE_SCHEMA = {"_row": pl.Int64, "column": pl.Utf8, "problem": pl.Utf8, "severity": pl.Utf8}
_PROBLEM_PREFIX = "__problem__"
_FILE = "__file"
_SUBMITTED = "__submitted"


@dataclass(frozen=True)
class Normalised:
    frame: pl.DataFrame
    failures: pl.DataFrame


def normalise_frame(
    frame: pl.DataFrame,
    dataset: Dataset,
    submitted: dt.date,
    contract: Contract | None = None,
) -> Normalised:
    """Type ``frame`` (``read_delivery``'s strings) as ``dataset``.

    ``submitted`` (the file's submission) bounds the century of a CHI's date of birth. A contract
    column the frame lacks is read as all blank; other columns are dropped.
    """
    (normalised,) = normalise_frames([(frame, submitted)], dataset, contract)
    return normalised


def normalise_frames(
    deliveries: Sequence[tuple[pl.DataFrame, dt.date]],
    dataset: Dataset,
    contract: Contract | None = None,
) -> list[Normalised]:
    """:func:`normalise_frame` for several files of one dataset, in one Polars pass.

    For small files Polars' fixed cost per query outweighs the rows, so a backfill types a
    dataset's files together; each result is exactly what ``normalise_frame`` gives for its file.
    """
    if not deliveries:
        return []
    batch = normalise_batch(deliveries, dataset, contract)
    frames, failures = batch.frame, batch.failures
    if len(deliveries) == 1:
        return [Normalised(frame=frames.drop(_FILE), failures=failures.drop(_FILE))]
    frame_by_file, failures_by_file = _by_file(frames), _by_file(failures)
    return [
        Normalised(frame=frame_by_file[index], failures=failures_by_file[index])
        for index in range(len(deliveries))
    ]


@dataclass(frozen=True)
class NormalisedBatch:
    """:func:`normalise_frames`' results for several files, not split by file: each frame has
    ``__file`` (:data:`FILE_INDEX`, the file's index in the list given) first, and its rows are
    the files' in order, so the rows of file ``i`` are exactly ``normalise_frames``' ``i``-th."""

    frame: pl.DataFrame
    failures: pl.DataFrame
    heights: tuple[int, ...]
    """Each file's typed rows."""


FILE_INDEX = _FILE


def normalise_batch(
    deliveries: Sequence[tuple[pl.DataFrame, dt.date]],
    dataset: Dataset,
    contract: Contract | None = None,
) -> NormalisedBatch:
    """Type several files of one dataset in one Polars pass, without splitting them apart."""
    if not deliveries:
        raise ValueError("a batch needs at least one file")
    plan = _plan(contract or load_contract(), dataset)
    strings = _strings(deliveries, plan.names)
    typed = plan.apply(strings)
    frames, failures = pl.collect_all(
        [typed.drop(plan.problem_columns), _failures(typed, plan.problem_columns)]
    )
    heights = np.bincount(frames[_FILE].to_numpy(), minlength=len(deliveries))
    return NormalisedBatch(
        frame=frames, failures=failures, heights=tuple(int(height) for height in heights)
    )


def _strings(
    deliveries: Sequence[tuple[pl.DataFrame, dt.date]], names: Sequence[str]
) -> pl.LazyFrame:
    """The files' string frames as one, with ``__file`` (the index) and ``__submitted``.

    Frames of one shape (``read_delivery``'s, for one dataset) are stacked as they are and the two
    columns added once, rather than a query per file: Polars' cost per query outweighs the rows.
    """
    frames = [frame for frame, _ in deliveries]
    shape = frames[0].schema
    if (
        all(frame.schema == shape for frame in frames)
        and all(dtype == pl.Utf8 for name, dtype in shape.items() if name != ROW_COLUMN)
        and ROW_COLUMN in shape
    ):
        heights = [frame.height for frame in frames]
        index = np.repeat(np.arange(len(frames), dtype=np.int64), heights)
        dates = [_as_date(submitted) for _, submitted in deliveries]
        stacked = pl.concat(frames, how="vertical", rechunk=False).with_columns(
            pl.Series(_FILE, index),
            pl.Series(_SUBMITTED, dates, dtype=pl.Date).gather(index),
        )
        return stacked.lazy().select(
            pl.col(_FILE),
            pl.col(_SUBMITTED),
            pl.col(ROW_COLUMN).cast(pl.Int64),
            *(
                pl.col(name) if name in shape else pl.lit(None, pl.Utf8).alias(name)
                for name in names
            ),
        )
    return pl.concat(
        frame.lazy().select(
            pl.lit(index, pl.Int64).alias(_FILE),
            pl.lit(_as_date(submitted), pl.Date).alias(_SUBMITTED),
            pl.col(ROW_COLUMN).cast(pl.Int64),
            *(
                pl.col(name).cast(pl.Utf8)
                if name in frame.columns
                else pl.lit(None, pl.Utf8).alias(name)
                for name in names
            ),
        )
        for index, (frame, submitted) in enumerate(deliveries)
    )


@dataclass(frozen=True)
class _Plan:
    """A dataset's typing as Polars expressions, built once: building them costs more than
    running them on a small file."""

    names: tuple[str, ...]
    cleaning: tuple[pl.Expr, ...]
    chi_columns: tuple[str, ...]
    sex_codes: tuple[str, str]
    outputs: tuple[pl.Expr, ...]
    problems: tuple[pl.Expr, ...]

    @property
    def problem_columns(self) -> list[str]:
        return [expr.meta.output_name() for expr in self.problems]

    def apply(self, strings: pl.LazyFrame) -> pl.LazyFrame:
        cleaned = strings.with_columns(self.cleaning)
        for name in self.chi_columns:
            cleaned = with_chi_checks(cleaned, name, pl.col(_SUBMITTED), self.sex_codes)
        return cleaned.select(*self.outputs, *self.problems)


_PLANS: dict[tuple[int, str], tuple[Contract, _Plan]] = {}


def _plan(contract: Contract, dataset: Dataset) -> _Plan:
    # Keyed by the contract's identity, which the cached entry keeps alive, so ids are never reused.
    key = (id(contract), dataset.id)
    if key not in _PLANS:
        _PLANS[key] = (contract, _build_plan(contract, dataset))
    return _PLANS[key][1]


def _build_plan(contract: Contract, dataset: Dataset) -> _Plan:
    deletion = contract.formats.deletion_column
    names = (*dataset.column_names, deletion)
    rules = _Rules(contract, dataset)
    outputs: list[pl.Expr] = [pl.col(_FILE), pl.col(ROW_COLUMN)]
    problems: list[pl.Expr] = []
    for column in dataset.columns:
        typed = rules.type_column(column)
        outputs += [typed.value.alias(column.name), *typed.extras]
        problems.append(typed.problem.alias(_PROBLEM_PREFIX + column.name))
    deleted = rules.boolean(deletion)
    # An absent or blank deletion flag means the row stands; a bad one is null and an error.
    outputs.append(
        pl.when(pl.col(deletion).is_null()).then(False).otherwise(deleted.value).alias(deletion)
    )
    problems.append(deleted.problem.alias(_PROBLEM_PREFIX + deletion))
    return _Plan(
        names=names,
        cleaning=tuple(_without_missing(name, contract) for name in names),
        chi_columns=dataset.identifier_columns("chi"),
        sex_codes=_sex_codes(contract),
        outputs=tuple(outputs),
        problems=tuple(problems),
    )


def _as_date(submitted: dt.date) -> dt.date:
    return submitted.date() if isinstance(submitted, dt.datetime) else submitted


def _by_file(frame: pl.DataFrame) -> defaultdict[int, pl.DataFrame]:
    parts = frame.partition_by(_FILE, as_dict=True, include_key=False, maintain_order=True)
    empty = frame.drop(_FILE).clear()
    by_file: defaultdict[int, pl.DataFrame] = defaultdict(lambda: empty)
    by_file.update({key[0]: part for key, part in parts.items()})
    return by_file


@dataclass(frozen=True)
class _Typed:
    value: pl.Expr
    problem: pl.Expr
    """The cell's problem key, or null."""
    extras: tuple[pl.Expr, ...] = ()


class _Rules:
    """The contract's typing rules as Polars expressions over cleaned (missing -> null) strings."""

    def __init__(self, contract: Contract, dataset: Dataset) -> None:
        self.contract = contract
        self.dataset = dataset
        self.deleted = self.boolean(contract.formats.deletion_column).value.fill_null(False)

    def type_column(self, column: Column) -> _Typed:
        if column.identifier == "chi":
            return self._chi(column)
        if column.type == "codes":
            return self._codes(column)
        if column.type == "integer":
            return self._integer(column)
        cell = pl.col(column.name)
        if column.type == "date":
            typed = self._checked(self._date(column.name), cell, "bad_date")
        elif column.type == "bool":
            typed = self.boolean(column.name)
        elif column.type == "code":
            typed = self._checked(self._code(column), cell, "bad_code")
        else:
            typed = _Typed(value=cell, problem=pl.lit(None, pl.Utf8))
        return self._with_required(column, typed, blank=cell.is_null())

    def _chi(self, column: Column) -> _Typed:
        """``with_chi_checks`` has already done the work, in earlier steps of the query."""
        derived = chi_check_columns(column.name)
        valid = pl.col(derived[0])
        typed = _Typed(
            value=pl.col(column.name),
            problem=_problem_when(~valid, "chi_invalid"),
            extras=tuple(pl.col(name) for name in derived),
        )
        return self._with_required(column, typed, blank=valid.is_null())

    def boolean(self, name: str) -> _Typed:
        folded = pl.col(name).str.to_uppercase()
        spellings = self.contract.formats.booleans
        value = (
            pl.when(folded.is_in(_upper(spellings["true"])))
            .then(True)
            .when(folded.is_in(_upper(spellings["false"])))
            .then(False)
            .otherwise(None)
        )
        return self._checked(value, pl.col(name), "bad_bool")

    def _date(self, name: str) -> pl.Expr:
        suffix = str(self.contract.formats.dates["accepted_time_suffix"])
        text = pl.col(name).str.strip_suffix(suffix)
        # chrono accepts short years and unpadded fields, so each format's shape is checked too.
        return pl.coalesce(
            pl.when(text.str.contains(_shape_of(fmt))).then(
                text.str.strptime(pl.Date, fmt, strict=False)
            )
            for fmt in self.contract.formats.date_formats
        )

    def _code(self, column: Column) -> pl.Expr:
        return (
            pl.col(column.name)
            .str.to_uppercase()
            .replace_strict(self._spellings(column), default=None, return_dtype=pl.Utf8)
        )

    def _codes(self, column: Column) -> _Typed:
        separators = re.escape("".join(self.contract.formats.multi_value_separators))
        # A code is a run between separators holding something other than blanks.
        elements = pl.col(column.name).str.extract_all(
            rf"[^{separators}]*[^{separators}\s][^{separators}]*"
        )
        canonical = elements.list.eval(
            pl.element()
            .str.strip_chars()
            .str.to_uppercase()
            .replace_strict(self._spellings(column), default=None, return_dtype=pl.Utf8)
        )
        unknown = canonical.list.drop_nulls().list.len() < canonical.list.len()
        blank = elements.list.len().fill_null(0) == 0
        value = (
            pl.when(blank | unknown)
            .then(None)
            .otherwise(canonical.list.unique(maintain_order=True))
        )
        typed = _Typed(value=value, problem=_problem_when(~blank & unknown, "bad_code"))
        return self._with_required(column, typed, blank=blank)

    def _integer(self, column: Column) -> _Typed:
        cell = pl.col(column.name)
        number = cell.str.to_integer(strict=False)
        if column.blank_means is not None:
            number = pl.when(cell.is_null()).then(column.blank_means).otherwise(number)
        too_small = number < column.min if column.min is not None else pl.lit(False)
        too_large = number > column.max if column.max is not None else pl.lit(False)
        out_of_range = (too_small | too_large).fill_null(False)
        problem = (
            pl.when(cell.is_not_null() & number.is_null())
            .then(pl.lit("bad_integer"))
            .when(out_of_range)
            .then(pl.lit("out_of_range"))
            .otherwise(pl.lit(None, pl.Utf8))
        )
        typed = _Typed(value=pl.when(out_of_range).then(None).otherwise(number), problem=problem)
        blank = cell.is_null() if column.blank_means is None else pl.lit(False)
        return self._with_required(column, typed, blank=blank)

    def _checked(self, value: pl.Expr, cell: pl.Expr, problem: str) -> _Typed:
        return _Typed(
            value=value, problem=_problem_when(cell.is_not_null() & value.is_null(), problem)
        )

    def _with_required(self, column: Column, typed: _Typed, blank: pl.Expr) -> _Typed:
        """A blank required cell is an error; a deletion row needs only its key."""
        if column.required:
            needed = pl.lit(True) if column.name in self.dataset.key else ~self.deleted
            problem_key = "required_missing"
        elif column.required_with is not None:
            needed = pl.col(column.required_with).is_not_null() & ~self.deleted
            problem_key = "required_with_missing"
        else:
            return typed
        problem = pl.when(blank & needed).then(pl.lit(problem_key)).otherwise(typed.problem)
        return _Typed(value=typed.value, problem=problem, extras=typed.extras)

    def _spellings(self, column: Column) -> dict[str, str]:
        assert column.code_list is not None
        allowed = set(self.contract.allowed_codes(column))
        lookup = self.contract.code_list_by_id[column.code_list].lookup
        return {spelling: code for spelling, code in lookup.items() if code in allowed}


def _sex_codes(contract: Contract) -> tuple[str, str]:
    lookup = contract.code_list_by_id["SEX"].lookup
    return lookup["MALE"], lookup["FEMALE"]


def _without_missing(name: str, contract: Contract) -> pl.Expr:
    text = pl.col(name).str.strip_chars()
    missing = text.is_null() | text.str.to_uppercase().is_in(
        _upper(contract.formats.missing_tokens)
    )
    return pl.when(missing).then(None).otherwise(text).alias(name)


def _problem_when(condition: pl.Expr, problem: str) -> pl.Expr:
    return pl.when(condition).then(pl.lit(problem)).otherwise(pl.lit(None, pl.Utf8))


def _upper(spellings: tuple[str, ...]) -> list[str]:
    return [spelling.upper() for spelling in spellings]


_STRFTIME_SHAPES = {"%Y": r"\d{4}", "%m": r"\d{2}", "%d": r"\d{2}"}


def _shape_of(date_format: str) -> str:
    """The exact text a strftime date format stands for, as an anchored regex."""
    shape = []
    for piece in re.split(r"(%.)", date_format):
        if piece.startswith("%") and piece not in _STRFTIME_SHAPES:
            raise ValueError(f"date format directive {piece} is not supported")
        shape.append(_STRFTIME_SHAPES.get(piece, re.escape(piece)))
    return "^" + "".join(shape) + "$"


def _failures(typed: pl.LazyFrame, problem_columns: list[str]) -> pl.LazyFrame:
    return (
        typed.select(_FILE, ROW_COLUMN, *problem_columns)
        .unpivot(index=[_FILE, ROW_COLUMN], variable_name="column", value_name="problem")
        .drop_nulls("problem")
        .sort(_FILE, ROW_COLUMN, maintain_order=True)
        .select(
            _FILE,
            pl.col(ROW_COLUMN).cast(pl.Int64),
            pl.col("column").str.strip_prefix(_PROBLEM_PREFIX).cast(pl.Utf8),
            pl.col("problem").cast(pl.Utf8),
            pl.col("problem")
            .replace_strict(PROBLEM_SEVERITY, return_dtype=pl.Utf8)
            .alias("severity"),
        )
    )
