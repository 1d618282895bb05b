"""security.md, severity one: nothing the pipeline writes holds a CHI, a child or pupil reference, a
full date of birth or a postcode from its input.

A load of a generated landing zone (with its defects) runs as the real Dagster job; then every
DuckDB table of the state store (every column cast to text), every log line and every Dagster event
(messages and metadata) is scanned for every identifier in the input, token by token.
"""

from __future__ import annotations

import logging
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from dagster._serdes import serialize_value
from identifiers import births_in, found_in, identifiers_in_input

from cpmds.pipeline.home import dagster_home
from cpmds.pipeline.runner import run_load
from cpmds.publish.atomic import published_path
from cpmds.settings import Settings
from cpmds.state import state_path
from cpmds.synthetic import GenerateOptions, generate
from cpmds.transform import warehouse_build


@pytest.fixture(scope="module")
def load(tmp_path_factory):
    base = tmp_path_factory.mktemp("scan")
    options = GenerateOptions.build(
        out=base / "raw", seed=21, councils=2, period_from=202401, period_to=202404, defects=True
    )
    generate(options, progress=False)
    settings = Settings(raw=options.out, home=base / "home")
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level=logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.DEBUG)
    try:
        outcome = run_load(settings, progress=True)
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
    assert outcome.exit_code == 0, outcome.describe()
    lines = [record.getMessage() for record in records]
    return settings, lines, outcome.run_id


def table_texts(settings: Settings) -> dict[str, pl.DataFrame]:
    """Every table of the state store, the published warehouse and the publication file, every
    column cast to text."""
    published = published_path(settings.home)
    files = (
        ("state", state_path(settings.home)),
        ("warehouse", published),
        ("publication", published.with_name("cpmds_publication.duckdb")),
    )
    texts = {}
    for label, path in files:
        texts |= {f"{label}:{name}": frame for name, frame in _tables_as_text(path).items()}
    return texts


def _tables_as_text(path: Path) -> dict[str, pl.DataFrame]:
    with duckdb.connect(str(path), read_only=True) as connection:
        names = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall()
        texts = {}
        for schema, table in names:
            columns = connection.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                [schema, table],
            ).fetchall()
            as_text = ", ".join(f'CAST("{name}" AS VARCHAR) AS "{name}"' for (name,) in columns)
            texts[f"{schema}.{table}"] = connection.sql(
                f'SELECT {as_text} FROM "{schema}"."{table}"'
            ).pl()
        return texts


def test_the_scan_would_see_an_identifier(load):
    """The scan is not empty-handed: the input has identifiers, the tables have rows."""
    settings, lines, _ = load
    tokens, births = identifiers_in_input(settings.raw)
    assert len(tokens) > 500 and len(births) > 50
    tables = table_texts(settings)
    assert tables["state:landing.sw__children"].height > 100
    assert tables["warehouse:marts.fct_registrations"].height > 10
    assert tables["warehouse:marts.indicator_values"].height > 1000
    assert lines


def test_no_table_holds_an_identifier(load):
    settings, _, _ = load
    tokens, _ = identifiers_in_input(settings.raw)
    for name, frame in table_texts(settings).items():
        for column in frame.columns:
            cells = frame[column].drop_nulls().unique().to_list()
            assert not any(found_in(cell, tokens) for cell in cells), f"{name}.{column}"


def test_birth_dates_are_kept_as_months_only(load):
    """Events happen on children's birthdays, so a full date of birth is looked for where births
    are kept: there, every date is the first of its month."""
    settings, _, _ = load
    for name, frame in table_texts(settings).items():
        births = (c for c in frame.columns if c == "date_of_birth" or "birth_month" in c)
        for column in births:
            days = {value[8:10] for value in frame[column].drop_nulls().to_list()}
            assert days <= {"01"}, f"{name}.{column}"


def test_no_postcode_column_survives(load):
    settings, _, _ = load
    for name, frame in table_texts(settings).items():
        assert "postcode" not in frame.columns, name


def test_no_dbt_log_export_or_artifact_holds_an_identifier(load):
    settings, _, run_id = load
    tokens, births = identifiers_in_input(settings.raw)
    artifacts = warehouse_build(settings, run_id).artifacts
    # What a run's data can reach: dbt's logs and its results, and the CSV exports. (The manifest
    # and parse cache are the project itself, whose unit-test fixtures hold made-up dates that may
    # equal a birth date.)
    texts = [
        path
        for path in artifacts.rglob("*")
        if path.suffix == ".log" or path.name == "run_results.json"
    ]
    assert {"dbt.log", "console.log", "run_results.json"} <= {path.name for path in texts}
    for path in texts:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert not found_in(text, tokens), path.name
        assert not births_in(text, births), path.name


def test_no_export_holds_an_identifier(load):
    """The CSV exports: no identifier anywhere; no date of birth outside the period columns (a
    period's first or last day is a date some child was born on)."""
    settings, _, _ = load
    tokens, births = identifiers_in_input(settings.raw)
    exports = list((settings.home / "exports").glob("*.csv"))
    assert exports
    for path in exports:
        frame = pl.read_csv(path, infer_schema=False)
        assert not found_in(path.read_text(encoding="utf-8"), tokens), path.name
        text = frame.drop("period_start", "period_end").write_csv()
        assert not births_in(text, births), path.name


def test_no_log_line_or_dagster_event_holds_an_identifier(load):
    settings, lines, run_id = load
    tokens, births = identifiers_in_input(settings.raw)
    with dg.DagsterInstance.from_config(str(dagster_home(settings))) as instance:
        events = [serialize_value(record) for record in instance.all_logs(run_id)]
    assert any("gate_rows" in event for event in events)  # check results and their metadata
    for text in [*lines, *events]:
        assert not found_in(text, tokens)
        assert not births_in(text, births)


def test_no_file_under_the_home_holds_an_identifier(load):
    """Everything the run left under the home (Dagster's storage and compute logs, dbt's files,
    exports, docs), read as text: no identifier of the input. DuckDB files are scanned table by
    table above (their pages are compressed, so a text scan would prove nothing)."""
    settings, _, _ = load
    tokens, _ = identifiers_in_input(settings.raw)
    scanned = 0
    for path in sorted(p for p in settings.home.rglob("*") if p.is_file()):
        if path.suffix in (".duckdb", ".wal") or path.parent.name == "secrets":
            continue
        text = path.read_bytes().decode("latin-1")
        assert not found_in(text, tokens), path.relative_to(settings.home)
        scanned += 1
    assert scanned > 20


def test_the_scan_finds_a_birth_date_however_written_but_not_in_a_timing():
    births = {"18092012", "18/09/2012"}
    assert births_in("born 18092012.", births) == {"18092012"}
    assert births_in("dob=18/09/2012", births) == {"18/09/2012"}
    assert births_in('"execution_time": 0.18092012,', births) == set()
    assert births_in("sha 0a18092012ff", births) == set()
