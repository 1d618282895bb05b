"""`cpmds run` publishes only what passed every gate (pipeline.md, steps 7-8; security.md).

A small landing zone is loaded by the real Dagster job and published. Then: the same landing zone
again publishes nothing (the file stays byte-identical); a real fault put into the next run's marts
(a negative count, a percentage of 101, a broken register) is caught by the real gate 3, stops
publication with the reason, and leaves the published file byte-identical; the publication holds
no count from 1 to 4 and nothing restricted.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

import cpmds.defs.publish as publish_defs
from cpmds.gates.marts import check_marts
from cpmds.pipeline.runner import run_load
from cpmds.publish.atomic import published_path
from cpmds.settings import Settings
from cpmds.state import StateStore
from cpmds.synthetic import GenerateOptions, generate

SMALL = (1, 4)


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Settings:
    base = tmp_path_factory.mktemp("publish")
    options = GenerateOptions.build(
        out=base / "raw", seed=11, councils=2, period_from=202401, period_to=202406, scale=0.5
    )
    generate(options, progress=False)
    settings = Settings(raw=options.out, home=base / "home")
    outcome = run_load(settings)
    assert outcome.exit_code == 0, outcome.describe()
    assert outcome.published == published_path(settings.home)
    return settings


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def last_run(settings: Settings):
    with StateStore.open(settings.home, read_only=True) as store:
        return store.last_runs(1)[0]


def test_the_same_landing_zone_again_publishes_nothing(published):
    before = sha256(published_path(published.home))
    outcome = run_load(published)
    assert outcome.exit_code == 0 and outcome.published is None
    assert "nothing changed" in outcome.describe()
    assert sha256(published_path(published.home)) == before
    run = last_run(published)
    assert run.status == "finished" and run.published is False


FAULTS = {
    "negative_count": (
        "update marts.indicator_values set numerator = -1 "
        "where rowid = (select min(rowid) from marts.indicator_values where unit = 'count')",
        "MART-001",
    ),
    "percentage_over_100": (
        "update marts.indicator_values set value = 101 "
        "where rowid = (select min(rowid) from marts.indicator_values where unit = 'percent')",
        "MART-003",
    ),
    # Records whose dates are in order always reconcile; one deregistered before it was
    # registered cannot be placed, and the register no longer adds up.
    "register_does_not_reconcile": (
        "update marts.fct_registrations "
        "set deregistration_date = registration_date - 40 "
        "where rowid = (select min(rowid) from marts.fct_registrations "
        "where registration_date > date '2024-03-01')",
        "MART-014",
    ),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_fault_in_the_marts_stops_publication_and_leaves_the_file_as_it_was(
    published, fault, monkeypatch
):
    statement, code = FAULTS[fault]

    def check_with_fault(warehouse: Path, previous: Path | None = None):
        with duckdb.connect(str(warehouse)) as connection:
            connection.execute(statement)
        return check_marts(warehouse, previous)

    monkeypatch.setattr(publish_defs, "check_marts", check_with_fault)
    before = sha256(published_path(published.home))
    outcome = run_load(published)
    assert outcome.exit_code == 1
    assert "gate_marts" in outcome.describe() and code in outcome.describe()
    assert sha256(published_path(published.home)) == before
    run = last_run(published)
    assert run.status == "failed" and run.published is False
    assert "gate_marts" in run.why_not and code in run.why_not
    with duckdb.connect(str(published_path(published.home)), read_only=True) as connection:
        assert connection.execute("select count(*) from marts.indicator_values").fetchone()[0]


def test_the_publication_shows_no_count_from_1_to_4(published):
    path = published_path(published.home).with_name("cpmds_publication.duckdb")
    with duckdb.connect(str(path), read_only=True) as connection:
        shown = connection.sql(
            "select * from publication.indicator_values where not suppressed"
        ).pl()
        hidden = connection.sql("select * from publication.indicator_values where suppressed").pl()
    assert shown.height and hidden.height
    tested = shown.with_columns(
        tested=shown["n_children"].fill_null(shown["numerator"]),
        complement=shown["denominator"] - shown["numerator"],
    )
    for column in ("tested", "complement"):
        small = tested.filter(tested[column].is_between(*SMALL))
        if column == "complement":
            small = small.filter(small["unit"] == "percent")
        assert small.is_empty(), small.head()
    rates = tested.filter(tested["unit"].is_in(["percent", "median_days", "rate_per_1000"]))
    assert rates.filter(rates["denominator"].is_between(*SMALL)).is_empty()
    numbers = ["numerator", "denominator", "value", "ci_lower", "ci_upper", "n_children"]
    assert all(hidden[column].null_count() == hidden.height for column in numbers)


def test_the_publication_file_holds_nothing_restricted(published):
    path = published_path(published.home).with_name("cpmds_publication.duckdb")
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = {
            f"{schema}.{table}"
            for schema, table in connection.execute(
                "select schema_name, table_name from duckdb_tables()"
            ).fetchall()
        }
    assert tables == {
        "publication.indicator_values",
        "marts.dim_indicator",
        "marts.dim_area",
        "marts.dim_period",
        "quality.consistency",
    }


def test_the_published_warehouse_carries_the_quality_history(published):
    with duckdb.connect(str(published_path(published.home)), read_only=True) as connection:
        runs = connection.execute("select published from quality.runs").fetchall()
        files = connection.execute("select count(*) from quality.load_log").fetchone()[0]
        schemas = {
            schema
            for (schema,) in connection.execute(
                "select schema_name from duckdb_tables()"
            ).fetchall()
        }
    assert (True,) in runs and files > 0
    assert {"marts", "publication", "quality", "staging", "intermediate", "reference"} <= schemas
