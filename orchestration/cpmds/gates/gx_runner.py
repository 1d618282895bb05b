"""Run a suite file over a pandas frame with Great Expectations 1.x; keep only where it failed.

GX is imported inside these functions: importing it costs seconds, and most commands never run a
suite. What comes back is, per expectation, its rule code and the index columns of the failing
rows. GX's lists of unexpected values are never asked for (``exclude_unexpected_values``), and
nothing else of its results leaves this module: they may hold identifiers.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

_LOCK = threading.Lock()
_INDEX_PREFIX = "__index__"


class SuiteError(RuntimeError):
    """A suite could not be loaded or run: the pipeline's problem, never the partner's.

    The message names the suite, rule and expectation type only: GX's own messages and tracebacks
    may quote values from the data.
    """


@dataclass(frozen=True)
class Failure:
    rule: str
    index: dict[str, list[Any]]
    """Index column -> values, one entry per failing row, in the same order across columns."""


def run_suite(path: Path, frame: pd.DataFrame, index_columns: Sequence[str]) -> list[Failure]:
    """Validate ``frame`` against the suite at ``path``; the failing rows of each expectation,
    named by the values of ``index_columns`` (columns of ``frame``, which keeps them)."""
    import pandas as pd

    text = path.read_text(encoding="utf-8")
    # GX reads failing rows' index from a named pandas index several times faster than from
    # columns (a Python loop over the failing rows either way): copy the index columns into one.
    levels = [_INDEX_PREFIX + name for name in index_columns]
    frame = frame.set_axis(
        pd.MultiIndex.from_arrays([frame[name] for name in index_columns], names=levels)
    )
    result_format = {
        "result_format": "COMPLETE",
        "unexpected_index_column_names": levels,
        "exclude_unexpected_values": True,
        "return_unexpected_index_query": False,
        "partial_unexpected_count": 0,
    }
    with _LOCK:
        suite = _suite(text)
        _, batch_definition = _context()
        # Batch.validate, not ValidationDefinition.run: the latter also serialises every result
        # into the context's results store, which nothing reads (a sixth of a small suite's run)
        # and which would keep each run's failing rows in memory until the process ends.
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(suite, result_format=result_format)
    failures = []
    for outcome in result.results:
        rule = outcome.expectation_config.meta["rule"]
        if _raised(outcome.exception_info):
            kind = outcome.expectation_config.type
            raise SuiteError(f"{path.name}: expectation {kind} of rule {rule} could not run")
        if outcome.success:
            continue
        index = _index_of_failures(outcome.result.get("unexpected_index_list"), levels)
        if not index[levels[0]]:
            raise SuiteError(f"{path.name}: rule {rule} failed without naming its rows")
        failures.append(
            Failure(
                rule=rule,
                index={
                    name: index[level] for name, level in zip(index_columns, levels, strict=True)
                },
            )
        )
    return failures


def _raised(exception_info: dict[str, Any] | None) -> bool:
    """Whether GX caught an exception: its report is flat for an expectation's own, and keyed by
    metric for a metric's that failed to compute (a missing column, an incomparable type)."""
    if not exception_info:
        return False
    if "raised_exception" in exception_info:
        return bool(exception_info["raised_exception"])
    return any(
        isinstance(info, dict) and info.get("raised_exception") for info in exception_info.values()
    )


def _index_of_failures(
    listed: list[Any] | None, index_columns: Sequence[str]
) -> dict[str, list[Any]]:
    """The index columns of the failing rows, whichever of GX's two layouts came back: one dict of
    lists (values excluded) or one dict per row (which would also hold the row's values: those
    keys are dropped here)."""
    index: dict[str, list[Any]] = {name: [] for name in index_columns}
    for entry in listed or ():
        for name in index_columns:
            value = entry[name]
            if isinstance(value, list):
                index[name].extend(value)
            else:
                index[name].append(value)
    return index


@cache
def _context() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints each batch for its result's metadata by hashing every cell (and skips it
    # for a frame over HASH_THRESHOLD bytes); nothing here reads the fingerprint, and hashing a
    # national batch costs more than validating it. Which expectations run, and on what, is
    # unchanged.
    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    datasource = context.data_sources.add_pandas("cpmds")
    batch_definition = datasource.add_dataframe_asset("frame").add_batch_definition_whole_dataframe(
        "whole"
    )
    return context, batch_definition


@cache
def _suite(text: str) -> Any:
    """The expectation suite of a suite's JSON text, built once per text (building one costs more
    than validating a small frame)."""
    import great_expectations as gx

    context, _ = _context()
    document = json.loads(text)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    suite = gx.ExpectationSuite(
        name=f"{document['name']}__{digest}",
        expectations=document["expectations"],
        meta=document.get("meta"),
    )
    # GX drops an expectation it cannot build with a log line only: a suite must lose none.
    if len(suite.expectations) != len(document["expectations"]):
        raise SuiteError(f"{document['name']}: some expectations are not valid for this GX")
    return context.suites.add(suite)
