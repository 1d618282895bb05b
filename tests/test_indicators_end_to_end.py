"""`marts.indicator_values` against an independent reading of indicators.md.

A small national landing zone (all 32 councils, so Scotland and the joint CPCs are computable; no
defects; 14 months so the statistical year 2023/24 is fully covered) is generated and loaded by the
real pipeline. The expected cells are then computed here in plain Polars from the landing zone as
``tests/landing.py`` reads it (the loader's reader, current state, raw un-pseudonymised values),
following the spec's words, never the dbt models:

- an area's rows are its councils' ``sw`` rows (the sending council) or the rows whose
  ``council_code`` is one of its councils (police);
- flow indicators count events dated inside the period, inclusive; stock indicators count what is
  open at the period's last day (started on or before it, not ended on or before it);
- children are counted once by linked child key: the CHI where the sw ``children`` row holds a valid
  one (the reader leaves ``chi`` null when it is invalid), else the council's own ``child_id``;
- rates are per 1,000 of the area's NRS population aged 0-17 from the estimate of the calendar year
  the period ends in; a sex row uses that sex's population and the ``U`` row has none.

Only whole cells are compared (numerator, denominator, value, unit and period dates); counts must be
equal, rates and percentages equal to ``rel=1e-9``. Areas and periods are chosen deterministically
from the data (the busiest council, month, ...) so that every checked cell is non-zero.

A Scotland row exists only when every council covers every month (extracts.md, Coverage), and the
generator writes no files at all for a dataset a council never has a record of: at scale 0.05 Orkney
sends no registrations, so there is no Scotland MDS19. The scale is 0.1 for that reason, and a test
checks the coverage the Scotland cells rely on, so that a change of generator fails clearly.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from landing import LandingZone, read_landing_zone

from cpmds.catalogue import load_catalogue
from cpmds.contract import load_contract
from cpmds.pipeline.runner import run_load
from cpmds.publish.atomic import published_path
from cpmds.settings import Settings
from cpmds.synthetic import GenerateOptions, generate

REFERENCE = load_contract().reference
ALL_COUNCILS = tuple(council.code for council in REFERENCE.councils)
SCOTLAND = REFERENCE.scotland.code
JOINT_CPC = "S12000005+S12000030"  # Clackmannanshire and Stirling
UNITS = {"count", "distinct_children", "rate_per_1000", "percent", "median_days"}
PERIOD_FROM, PERIOD_TO = 202306, 202407


@dataclass(frozen=True)
class Period:
    type: str
    label: str
    start: date
    end: date


YEAR = Period("year", "2023/24", date(2023, 8, 1), date(2024, 7, 31))
QUARTER = Period("quarter", "2024-Q2", date(2024, 4, 1), date(2024, 6, 30))


def month(year: int, number: int) -> Period:
    last = calendar.monthrange(year, number)[1]
    return Period("month", f"{year}-{number:02d}", date(year, number, 1), date(year, number, last))


@dataclass(frozen=True)
class Area:
    type: str
    code: str

    @property
    def councils(self) -> tuple[str, ...]:
        if self.type == "scotland":
            return ALL_COUNCILS
        return tuple(self.code.split("+"))


@dataclass(frozen=True)
class Expected:
    """One expected row: a count (value = numerator), a rate per 1,000 or a percentage."""

    indicator: str
    area: Area
    period: Period
    kind: str  # count, rate, percent
    numerator: int
    denominator: int | None = None  # population (rate) or base (percent); None: no value
    breakdown: str = "total"
    breakdown_value: str = "total"

    @property
    def value(self) -> float | None:
        if self.kind == "count":
            return self.numerator
        if not self.denominator:
            return None
        return self.numerator / self.denominator * (1000 if self.kind == "rate" else 100)


@dataclass(frozen=True)
class Built:
    zone: LandingZone
    warehouse: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    base = tmp_path_factory.mktemp("indicators")
    options = GenerateOptions.build(
        out=base / "raw",
        seed=2,
        councils="all",
        period_from=PERIOD_FROM,
        period_to=PERIOD_TO,
        scale=0.1,
        defects=False,
    )
    generate(options, progress=False)
    settings = Settings(raw=options.out, home=base / "home")
    outcome = run_load(settings)
    assert outcome.exit_code == 0, outcome.describe()
    warehouse = published_path(settings.home)
    assert warehouse is not None
    return Built(read_landing_zone(options.out), warehouse)


@pytest.fixture(scope="module")
def warehouse(built: Built):
    with duckdb.connect(str(built.warehouse), read_only=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def zone(built: Built) -> LandingZone:
    return built.zone


# --- the independent calculation -----------------------------------------------------------


def dated_in(column: str, period: Period) -> pl.Expr:
    """A flow event: dated inside the period, both ends inclusive."""
    return pl.col(column).is_between(period.start, period.end, closed="both")


def open_at(start: str, end: str, day: date) -> pl.Expr:
    """A stock: started on or before ``day`` and not ended on or before it."""
    return (pl.col(start) <= day) & (pl.col(end).is_null() | (pl.col(end) > day))


def sent_by(area: Area) -> pl.Expr:
    """sw rows belong to the council that sent them."""
    return pl.col("_org").is_in(area.councils)


def living_in(area: Area) -> pl.Expr:
    """police, health, scra and thirdsector rows belong to their council_code."""
    return pl.col("council_code").is_in(area.councils)


def child_keys(zone: LandingZone) -> pl.DataFrame:
    """(_org, child_id) -> linked child key and sex, from the sw children file's current state."""
    children = zone.current("sw__children")
    return children.select(
        "_org",
        "child_id",
        pl.when(pl.col("chi").is_not_null())
        .then(pl.lit("chi:") + pl.col("chi"))
        .otherwise(pl.lit("ref:") + pl.col("_org") + pl.lit(":") + pl.col("child_id"))
        .alias("child_key"),
        pl.coalesce("sex", "chi__sex", pl.lit("U")).alias("child_sex"),
    )


def with_child(zone: LandingZone, frame: pl.DataFrame) -> pl.DataFrame:
    """sw rows with their child's key and sex (no children row: the council's own reference)."""
    return frame.join(child_keys(zone), on=["_org", "child_id"], how="left").with_columns(
        pl.coalesce(
            "child_key", pl.lit("ref:") + pl.col("_org") + pl.lit(":") + pl.col("child_id")
        ),
        pl.col("child_sex").fill_null("U"),
    )


def population(zone: LandingZone, area: Area, period: Period, sexes=("M", "F")) -> int:
    """NRS population aged 0-17 of the area, from the estimate of the year the period ends in."""
    rows = zone.rows["nrs__population"].filter(~pl.col("deleted").fill_null(False))
    years = sorted({p // 100 for p in rows["_period"].to_list()})
    year = max(y for y in years if y <= period.end.year)
    assert year == period.end.year, "the test's periods all have their own estimate loaded"
    chosen = rows.filter(
        (pl.col("_period") // 100 == year)
        & living_in(area)
        & pl.col("age").is_between(0, 17)
        & pl.col("sex").is_in(list(sexes))
    )
    return int(chosen["population"].sum())


def registrations_in(zone: LandingZone, area: Area, period: Period) -> pl.DataFrame:
    """MDS18's registrations: sw registrations by registration_date, with the child's sex."""
    registrations = zone.current("sw__registrations").filter(
        sent_by(area) & dated_in("registration_date", period)
    )
    return with_child(zone, registrations)


def children_on_register(zone: LandingZone, area: Area, period: Period) -> int:
    """MDS19: distinct children with a registration open at the period's last day."""
    registrations = zone.current("sw__registrations").filter(
        sent_by(area) & open_at("registration_date", "deregistration_date", period.end)
    )
    return with_child(zone, registrations)["child_key"].n_unique()


def children_looked_after(zone: LandingZone, area: Area, period: Period) -> int:
    """MDS34: distinct children with a placement open at the period's last day."""
    placements = zone.current("sw__placements").filter(
        sent_by(area) & open_at("placement_start", "placement_end", period.end)
    )
    return with_child(zone, placements)["child_key"].n_unique()


def concern_reports_in(zone: LandingZone, area: Area, period: Period) -> pl.DataFrame:
    """MDS02's police child concern reports by report_date."""
    return zone.current("police__concern_reports").filter(
        living_in(area) & dated_in("report_date", period)
    )


def irds_in(zone: LandingZone, area: Area, period: Period) -> int:
    """MDS05: distinct sw IRDs (council, ird_id) dated in the period."""
    irds = zone.current("sw__irds").filter(sent_by(area) & dated_in("ird_date", period))
    return irds.select("_org", "ird_id").n_unique()


def first_meetings_in(zone: LandingZone, area: Area, period: Period) -> pl.DataFrame:
    """MDS13's meetings: sw cppms of type INI or PRE by meeting_date."""
    return zone.current("sw__cppms").filter(
        sent_by(area)
        & pl.col("meeting_type").is_in(["INI", "PRE"])
        & dated_in("meeting_date", period)
    )


def busiest(frame: pl.DataFrame, by: list[str]) -> tuple:
    """The group with the most rows, ties broken by the smallest key: a deterministic choice."""
    counts = frame.group_by(by).len().sort(["len", *by], descending=[True] + [False] * len(by))
    assert counts.height, "nothing to choose from"
    return tuple(counts.row(0)[: len(by)])


def senders_of(zone: LandingZone, dataset_id: str) -> dict[str, set[int]]:
    """Council -> the months its loaded (current) files of the dataset cover, nil returns too."""
    partner, dataset = dataset_id.split("__")
    covered: dict[str, set[int]] = {}
    for path, outcome in zone.outcomes.items():
        sender, org, name = path.split("/")
        if outcome.status == "loaded" and sender == partner and name.startswith(dataset + "_"):
            code = REFERENCE.current_council_code[org]
            covered.setdefault(code, set()).add(int(name[len(dataset) + 1 :][:6]))
    return covered


# --- comparison -----------------------------------------------------------------------------

COLUMNS = "numerator, denominator, value, unit, period_start, period_end"


def actual_row(warehouse, cell: Expected) -> dict | None:
    rows = warehouse.execute(
        f"""
        SELECT {COLUMNS} FROM marts.indicator_values
        WHERE indicator_id = ? AND area_type = ? AND area_code = ? AND period_type = ?
          AND period_label = ? AND breakdown = ? AND breakdown_value = ?
        """,
        [
            cell.indicator,
            cell.area.type,
            cell.area.code,
            cell.period.type,
            cell.period.label,
            cell.breakdown,
            cell.breakdown_value,
        ],
    ).fetchall()
    assert len(rows) <= 1, f"{describe(cell)}: {len(rows)} rows"
    return (
        dict(zip([c.strip() for c in COLUMNS.split(",")], rows[0], strict=True)) if rows else None
    )


def describe(cell: Expected) -> str:
    return (
        f"{cell.indicator} {cell.area.type} {cell.area.code} {cell.period.label} "
        f"{cell.breakdown}={cell.breakdown_value}"
    )


def mismatches(warehouse, cell: Expected) -> list[str]:
    """What differs between the expected cell and its row in marts.indicator_values."""
    row = actual_row(warehouse, cell)
    name = describe(cell)
    if row is None:
        return [f"{name}: no row (expected numerator {cell.numerator})"]
    unit = load_catalogue().indicator_by_id[cell.indicator].unit
    expected = {
        "numerator": cell.numerator,
        "denominator": None if cell.kind == "count" else cell.denominator,
        "value": cell.value,
        "unit": unit,
        "period_start": cell.period.start,
        "period_end": cell.period.end,
    }
    problems = []
    for column, want in expected.items():
        got = row[column]
        if column == "value" and want is not None and cell.kind != "count":
            same = got is not None and got == pytest.approx(want, rel=1e-9)
        else:
            same = got == want
        if not same:
            problems.append(f"{name}: {column} is {got!r}, expected {want!r}")
    return problems


def check(warehouse, cells: list[Expected]) -> None:
    assert all(cell.numerator > 0 for cell in cells if cell.breakdown == "total"), cells
    problems = [problem for cell in cells for problem in mismatches(warehouse, cell)]
    assert not problems, "\n".join(problems)


# --- the cells ------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ["sw__registrations", "sw__children", "sw__placements"])
def test_every_council_covers_every_month_so_scotland_is_computable(zone, dataset):
    """The Scotland cells below exist only if every council sent every month (extracts.md)."""
    months = {*range(202308, 202313), *range(202401, 202408)}  # the statistical year 2023/24
    covered = senders_of(zone, dataset)
    gaps = {code: sorted(months - covered.get(code, set())) for code in ALL_COUNCILS}
    assert {code: missing for code, missing in gaps.items() if missing} == {}


def test_mds18_registrations_for_the_busiest_council(warehouse, zone):
    everyone = registrations_in(zone, Area("scotland", SCOTLAND), YEAR)
    (code,) = busiest(everyone, ["_org"])
    council = Area("council", code)
    year_rows = registrations_in(zone, council, YEAR)
    (busy_month,) = busiest(
        year_rows.with_columns(pl.col("registration_date").dt.strftime("%Y%m").alias("ym")),
        ["ym"],
    )
    the_month = month(int(busy_month[:4]), int(busy_month[4:]))
    cells = [
        Expected(
            "MDS18",
            council,
            the_month,
            "rate",
            registrations_in(zone, council, the_month).height,
            population(zone, council, the_month),
        ),
        Expected("MDS18", council, YEAR, "rate", year_rows.height, population(zone, council, YEAR)),
    ]
    for sex in ("M", "F", "U"):
        count = year_rows.filter(pl.col("child_sex") == sex).height
        denominator = population(zone, council, YEAR, sexes=(sex,)) if sex != "U" else None
        cells.append(Expected("MDS18", council, YEAR, "rate", count, denominator, "sex", sex))
    check(warehouse, cells)


@pytest.mark.parametrize(
    "area", [Area("cpc", JOINT_CPC), Area("scotland", SCOTLAND)], ids=["joint_cpc", "scotland"]
)
def test_mds19_children_on_the_register_at_31_july_2024(warehouse, zone, area):
    cell = Expected(
        "MDS19",
        area,
        YEAR,
        "rate",
        children_on_register(zone, area, YEAR),
        population(zone, area, YEAR),
    )
    check(warehouse, [cell])


def test_mds34_children_looked_after_in_scotland_at_31_july_2024(warehouse, zone):
    scotland = Area("scotland", SCOTLAND)
    cell = Expected(
        "MDS34",
        scotland,
        YEAR,
        "rate",
        children_looked_after(zone, scotland, YEAR),
        population(zone, scotland, YEAR),
    )
    check(warehouse, [cell])


def test_mds02_and_mds03_police_concern_reports_in_scotland_2024_q2(warehouse, zone):
    scotland = Area("scotland", SCOTLAND)
    reports = concern_reports_in(zone, scotland, QUARTER)
    shared = reports.filter(pl.col("shared_with_sw").fill_null(False)).height
    check(
        warehouse,
        [
            Expected(
                "MDS02",
                scotland,
                QUARTER,
                "rate",
                reports.height,
                population(zone, scotland, QUARTER),
            ),
            Expected("MDS03", scotland, QUARTER, "percent", shared, reports.height),
        ],
    )


def test_mds05_irds_for_the_busiest_council_month(warehouse, zone):
    irds = zone.current("sw__irds").filter(dated_in("ird_date", YEAR))
    dated = irds.select(
        "_org", "ird_id", pl.col("ird_date").dt.strftime("%Y%m").alias("ym")
    ).unique()
    code, busy_month = busiest(dated, ["_org", "ym"])
    council = Area("council", code)
    the_month = month(int(busy_month[:4]), int(busy_month[4:]))
    cell = Expected(
        "MDS05",
        council,
        the_month,
        "rate",
        irds_in(zone, council, the_month),
        population(zone, council, the_month),
    )
    check(warehouse, [cell])


def test_mds13_initial_and_pre_birth_meetings_for_the_busiest_council(warehouse, zone):
    everyone = first_meetings_in(zone, Area("scotland", SCOTLAND), YEAR)
    (code,) = busiest(everyone, ["_org"])
    council = Area("council", code)
    meetings = first_meetings_in(zone, council, YEAR)
    cells = [Expected("MDS13", council, YEAR, "count", meetings.height)]
    for meeting_type in ("INI", "PRE"):
        count = meetings.filter(pl.col("meeting_type") == meeting_type).height
        cells.append(
            Expected("MDS13", council, YEAR, "count", count, None, "meeting_type", meeting_type)
        )
    check(warehouse, cells)


# --- structure ------------------------------------------------------------------------------


def distinct(warehouse, column: str) -> set:
    sql = f"SELECT DISTINCT {column} FROM marts.indicator_values"
    return {row[0] for row in warehouse.sql(sql).fetchall()}


def test_every_catalogue_indicator_and_only_those_has_rows(warehouse):
    catalogue = {indicator.id for indicator in load_catalogue().indicators}
    assert catalogue == {f"MDS{n:02d}" for n in range(1, 42)}
    assert distinct(warehouse, "indicator_id") == catalogue


def test_units_are_the_interface_units(warehouse):
    assert distinct(warehouse, "unit") <= UNITS


def test_the_row_key_is_unique(warehouse):
    duplicates = warehouse.sql(
        """
        SELECT indicator_id, area_type, area_code, period_type, period_label, breakdown,
               breakdown_value, count(*) AS n
        FROM marts.indicator_values
        GROUP BY ALL HAVING count(*) > 1 LIMIT 5
        """
    ).fetchall()
    assert duplicates == []


def test_councils_cpcs_and_scotland_all_occur(warehouse):
    assert {"council", "cpc", "scotland"} <= distinct(warehouse, "area_type")
