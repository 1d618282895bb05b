"""Consistency across partners (pipeline.md, "The quality report"): aggregates the pipeline writes
into the run's warehouse as ``quality.consistency``, disclosure-controlled, so the quality report
and the shareable publication file can show them without reading anything restricted.

One row per check, area, period (or sender) and measure:

- ``ird_sources`` (council x month): ``sw_irds`` is MDS05's published count (with its suppression,
  so nothing new is shown); ``police_irds`` counts Police Scotland's IRDs by ``ird_date``, a count
  no indicator publishes, under the primary rule.
- ``registrations_meetings`` (council x month): MDS18's published registrations against MDS15's
  published numerator, the initial and pre-birth meetings whose outcome was registration.
- ``unmatched_meetings`` (council x month): MDS13's published initial (INI) meetings, MDS14's
  published base (those matched to an IRD of the council), and ``unmatched``, their difference
  from the restricted values. ``initial = matched + unmatched`` is an equation between published
  cells, so ``unmatched`` is hidden when either of the others is (else it would give the hidden one
  away), as well as under the primary rule.
- ``chi`` (partner x org x dataset x CHI column, over the rows of current files):
  ``chi_given`` (rows with a CHI, of all rows) and ``chi_valid`` (valid CHIs, of those given), as
  percentages under the primary rule for percentages (numerator, base and complement).

The primary rule is :func:`cpmds.publish.suppression.primary_suppressed`, the publication's own.
"""

from __future__ import annotations

import duckdb
import polars as pl

from cpmds.contract import Contract, load_contract
from cpmds.publish.suppression import primary_suppressed
from cpmds.state.schema import QUALITY, quote

TABLE = f"{QUALITY}.consistency"
COLUMNS: dict[str, pl.DataType] = {
    "check": pl.Utf8(),
    "area_code": pl.Utf8(),
    "partner": pl.Utf8(),
    "org": pl.Utf8(),
    "dataset": pl.Utf8(),
    "chi_column": pl.Utf8(),
    "period_label": pl.Utf8(),
    "period_start": pl.Date(),
    "measure": pl.Utf8(),
    "unit": pl.Utf8(),
    "numerator": pl.Int64(),
    "denominator": pl.Int64(),
    "value": pl.Float64(),
    "suppressed": pl.Boolean(),
    "suppression_reason": pl.Utf8(),
}

# (check, measure) -> (indicator, breakdown, breakdown value, column) of a published council-month.
PUBLISHED_MEASURES: dict[tuple[str, str], tuple[str, str, str, str]] = {
    ("ird_sources", "sw_irds"): ("MDS05", "total", "total", "numerator"),
    ("registrations_meetings", "registrations"): ("MDS18", "total", "total", "numerator"),
    ("registrations_meetings", "meetings_registered"): ("MDS15", "total", "total", "numerator"),
    ("unmatched_meetings", "initial"): ("MDS13", "meeting_type", "INI", "numerator"),
    ("unmatched_meetings", "matched"): ("MDS14", "total", "total", "denominator"),
}


def write_consistency(
    connection: duckdb.DuckDBPyConnection, contract: Contract | None = None
) -> pl.DataFrame:
    """``quality.consistency`` in the open run warehouse (after ``publication.indicator_values``
    is written); returns its rows."""
    contract = load_contract() if contract is None else contract
    rows = pl.concat(
        [
            _published(connection),
            _police_irds(connection),
            _unmatched(connection),
            _chi(connection, contract),
        ],
        how="diagonal_relaxed",
    ).select([pl.col(name).cast(dtype) for name, dtype in COLUMNS.items()])
    connection.execute(f"create schema if not exists {QUALITY}")
    connection.register("consistency_rows", rows.to_arrow())
    try:
        connection.execute(f"create or replace table {TABLE} as select * from consistency_rows")
    finally:
        connection.unregister("consistency_rows")
    connection.execute(
        f"comment on table {TABLE} is 'Consistency across partners for the quality report: "
        "counts that partners should agree on, side by side, with disclosure control applied "
        "(a suppressed row has its numbers empty).'"
    )
    return rows


def _published(connection: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Published council-month cells, as they are published (suppression included)."""
    frames = []
    for (check, measure), (indicator, breakdown, value, column) in PUBLISHED_MEASURES.items():
        frames.append(
            connection.sql(
                f"""
                select ? as "check", area_code, period_label, period_start, ? as measure,
                    'count' as unit, {column} as numerator, suppressed, suppression_reason
                from publication.indicator_values
                where indicator_id = ? and area_type = 'council' and period_type = 'month'
                    and breakdown = ? and breakdown_value = ?
                """,
                params=[check, measure, indicator, breakdown, value],
            ).pl()
        )
    return pl.concat(frames, how="diagonal_relaxed")


def _police_irds(connection: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    counts = connection.sql(
        """
        select 'ird_sources' as "check", irds.council_code as area_code, months.period_label,
            months.period_start, 'police_irds' as measure, 'count' as unit,
            count(distinct irds.police_ird_id) as numerator
        from marts.fct_police_irds as irds
        inner join marts.dim_period as months
            on months.period_type = 'month'
            and irds.ird_date between months.period_start and months.period_end
        group by all
        """
    ).pl()
    return _primary(counts)


def _unmatched(connection: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Initial meetings not matched to an IRD: MDS13's INI count less MDS14's base, restricted
    values; hidden where the published cells they come from are hidden or missing."""
    rows = connection.sql(
        """
        with restricted as (
            select initial.area_code, initial.period_label, initial.period_start,
                initial.numerator - matched.denominator as numerator
            from marts.indicator_values as initial
            inner join marts.indicator_values as matched
                using (area_type, area_code, period_type, period_label)
            where initial.indicator_id = 'MDS13' and initial.breakdown = 'meeting_type'
                and initial.breakdown_value = 'INI' and matched.indicator_id = 'MDS14'
                and matched.breakdown = 'total'
                and initial.area_type = 'council' and initial.period_type = 'month'
        ),
        published as (
            select area_code, period_label, bool_or(suppressed) as hidden
            from publication.indicator_values
            where area_type = 'council' and period_type = 'month' and (
                (indicator_id = 'MDS13' and breakdown_value = 'INI')
                or (indicator_id = 'MDS14' and breakdown = 'total'))
            group by all
            having count(*) = 2
        )
        select 'unmatched_meetings' as "check", restricted.*, 'unmatched' as measure,
            'count' as unit, coalesce(published.hidden, true) as hidden
        from restricted
        left join published using (area_code, period_label)
        """
    ).pl()
    return _primary(rows, also=pl.col("hidden")).drop("hidden")


def _chi(connection: duckdb.DuckDBPyConnection, contract: Contract) -> pl.DataFrame:
    frames = []
    for dataset in contract.datasets:
        for column in dataset.identifier_columns("chi"):
            valid = quote(f"{column}_valid")
            frames.append(
                connection.sql(
                    f"""
                    select ? as partner, _org as org, ? as dataset, ? as chi_column,
                        count(*) as rows, count({valid}) as given,
                        count(*) filter (where {valid}) as valid
                    from staging.{quote(f"stg_{dataset.id}")}
                    group by _org
                    """,
                    params=[dataset.partner, dataset.id, column],
                ).pl()
            )
    senders = pl.concat(frames)
    measures = [
        senders.with_columns(
            measure=pl.lit(measure), numerator=pl.col(numerator), denominator=pl.col(denominator)
        )
        for measure, numerator, denominator in (
            ("chi_given", "given", "rows"),
            ("chi_valid", "valid", "given"),
        )
    ]
    rows = pl.concat(measures).drop("rows", "given", "valid")
    rows = rows.with_columns(
        pl.lit("chi").alias("check"),
        pl.lit("percent").alias("unit"),
        pl.when(pl.col("denominator") > 0)
        .then(pl.col("numerator") * 100.0 / pl.col("denominator"))
        .alias("value"),
    )
    return _primary(rows)


def _primary(rows: pl.DataFrame, also: pl.Expr | None = None) -> pl.DataFrame:
    """The primary rule (and ``also``, a reason to hide from the published cells), applied."""
    tested = rows.with_columns(
        *(pl.lit(None, pl.Int64).alias(c) for c in ("denominator", "n_children") if c not in rows)
    )
    primary = primary_suppressed(tested)
    hidden = primary | (
        tested.select(also.fill_null(True)).to_series() if also is not None else False
    )
    numbers = [c for c in ("numerator", "denominator", "value") if c in tested.columns]
    return tested.with_columns(
        hidden.alias("suppressed"),
        pl.when(primary)
        .then(pl.lit("primary"))
        .when(hidden)
        .then(pl.lit("consistency"))
        .alias("suppression_reason"),
    ).with_columns(pl.when(~pl.col("suppressed")).then(pl.col(c)).alias(c) for c in numbers)
