"""The ``cpmds`` command (interface.md, "Commands")."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from pathlib import Path

import click

from cpmds.publish.atomic import published_path
from cpmds.settings import resolve_settings

EXIT_USAGE = 2

PERIOD = click.DateTime(formats=["%Y%m"])


def _period(value) -> int:
    return value.year * 100 + value.month


def _report_generated(changed: list[Path], check: bool) -> None:
    for path in changed:
        click.echo(f"{'stale' if check else 'wrote'}: {path}")
    if check and changed:
        sys.exit(1)


raw_option = click.option(
    "--raw",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Landing zone (default: $CPMDS_RAW, else raw/ in the project).",
)
home_option = click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="State home (default: $CPMDS_HOME, else .cpmds/ in the project).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """cpmds: Scotland's child protection minimum dataset, from partner extracts to indicators."""


@main.command()
@home_option
def demo(home: Path | None) -> None:
    """Make a demo landing zone and run one full load on it."""
    from cpmds.pipeline.runner import run_load
    from cpmds.settings import Settings
    from cpmds.synthetic import GenerateOptions, generate

    # The demo keeps its own home inside the state home, made afresh each time: it never
    # touches a real landing zone or state store.
    demo_home = resolve_settings(home=home).home / "demo"
    shutil.rmtree(demo_home, ignore_errors=True)
    settings = Settings(raw=demo_home / "raw", home=demo_home)
    result = generate(GenerateOptions.demo(settings.raw), progress=True)
    click.echo(f"Demo landing zone: {result.out} ({result.files} files, {result.rows:,} rows)")
    if result.manifest is not None:
        click.echo(f"Defects manifest:  {result.manifest}")
    outcome = run_load(settings, progress=True)
    click.echo(outcome.describe())
    click.echo(f"State store:       {settings.home / 'state' / 'cpmds_state.duckdb'}")
    built = published_path(settings.home)
    if built.exists():
        click.echo(f"Warehouse:         {built}")
        query = (
            "select area_code, period_label, numerator, value from marts.indicator_values "
            "where indicator_id = 'MDS19' and area_type = 'cpc' and period_type = 'year' "
            "and breakdown = 'total'"
        )
        click.echo(
            f'Try:               uv run python -c "import duckdb; '
            f'duckdb.connect(\'{built}\', read_only=True).sql(\\"{query}\\").show()"'
        )
    click.echo(f"What happened:     uv run cpmds status --home {settings.home}")
    publication = built.with_name("cpmds_publication.duckdb")
    if publication.exists():
        click.echo(f"Shareable file:    {publication} (disclosure-controlled; nothing restricted)")
    if outcome.report is not None:
        click.echo(f"Quality report:    {outcome.report}")
    sys.exit(outcome.exit_code)


@main.command()
@click.option(
    "--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Target dir."
)
@click.option("--seed", default=1, show_default=True, type=int, help="Random seed.")
@click.option(
    "--councils",
    default="all",
    show_default=True,
    help="'all', or N: the first N councils in a fixed order, with their health boards.",
)
@click.option("--from", "period_from", type=PERIOD, default=None, help="First period, YYYYMM.")
@click.option("--to", "period_to", type=PERIOD, default=None, help="Last period, YYYYMM.")
@click.option(
    "--scale", default=1.0, show_default=True, type=float, help="Volume relative to Scotland."
)
@click.option("--defects/--no-defects", default=False, show_default=True, help="Add bad inputs.")
@click.option("--quiet", is_flag=True, help="No progress output.")
def generate(
    out: Path,
    seed: int,
    councils: str,
    period_from,
    period_to,
    scale: float,
    defects: bool,
    quiet: bool,
) -> None:
    """Write synthetic partner extracts under OUT in the contract's layout."""
    from cpmds.synthetic import GenerateOptions, generate

    try:
        options = GenerateOptions.build(
            out=out,
            seed=seed,
            councils=councils,
            period_from=_period(period_from) if period_from else None,
            period_to=_period(period_to) if period_to else None,
            scale=scale,
            defects=defects,
        )
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    try:
        result = generate(options, progress=not quiet)
    except FileExistsError as error:
        message = f"--out {out} already holds files: choose an empty directory"
        raise click.UsageError(message) from error
    click.echo(f"Wrote {result.files} files, {result.rows:,} rows under {result.out}")
    if result.manifest is not None:
        click.echo(f"Defects manifest: {result.manifest}")


@main.command()
@click.option("--check", is_flag=True, help="Fail if the written docs are out of date.")
def docs(check: bool) -> None:
    """Write the contract and indicator reference docs from the contract and catalogue data, and
    the rule-code table in raw/README.md from the rule registry."""
    from cpmds.docs import write_reference_docs
    from cpmds.rule_table import write_rule_table

    _report_generated(write_reference_docs(check=check) + write_rule_table(check=check), check)


@main.command()
@click.option("--check", is_flag=True, help="Fail if the rule registry or suites are stale.")
def suites(check: bool) -> None:
    """Write the gate rule registry and the Great Expectations suites from the contract."""
    from cpmds.gates import write_suites

    _report_generated(write_suites(check=check), check)


@main.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--as", "as_path", default=None, help="Check FILE as if it were at this raw/ path.")
@click.option(
    "--report",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every finding (file, Excel row, column, rule, severity, message) to this "
    ".xlsx or .csv file.",
)
def validate(files: tuple[Path, ...], as_path: str | None, report: Path | None) -> None:
    """A partner's self-check: gates 1 and 2 on FILES, as the pipeline runs them, before sending.

    Exit status 0 when every file would load whole, 1 when a file would be quarantined or have
    rows left out, 2 for a usage error.
    """
    from cpmds.validate import UsageError, report_format, write_report
    from cpmds.validate import validate as check_files

    try:
        if report is not None:
            report_format(report)
        validation = check_files(list(files), as_path)
    except UsageError as error:
        raise click.UsageError(str(error)) from error
    click.echo(validation.describe())
    if report is not None:
        click.echo(f"Report: {write_report(validation, report)}")
    sys.exit(validation.exit_code)


@main.command()
@raw_option
@home_option
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Build the warehouse from nothing rather than from the last published build.",
)
def run(raw: Path | None, home: Path | None, full_refresh: bool) -> None:
    """One full load of everything new under the landing zone."""
    from cpmds.pipeline.incremental import FULL_REFRESH_VARIABLE
    from cpmds.pipeline.runner import run_load

    settings = resolve_settings(raw=raw, home=home)
    if not settings.raw.is_dir():
        raise click.UsageError(f"the landing zone {settings.raw} is not a directory")
    if full_refresh:
        os.environ[FULL_REFRESH_VARIABLE] = "1"
    outcome = run_load(settings, progress=True)
    click.echo(outcome.describe())
    sys.exit(outcome.exit_code)


@main.command()
@click.option("--from", "period_from", type=PERIOD, required=True)
@click.option("--to", "period_to", type=PERIOD, required=True)
@raw_option
@home_option
def backfill(period_from, period_to, raw: Path | None, home: Path | None) -> None:
    """Re-read the landing zone's files for those periods and rebuild."""
    from cpmds.pipeline.backfill import Periods, run_backfill

    settings = resolve_settings(raw=raw, home=home)
    if not settings.raw.is_dir():
        raise click.UsageError(f"the landing zone {settings.raw} is not a directory")
    try:
        periods = Periods(_period(period_from), _period(period_to))
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    outcome = run_backfill(settings, periods, progress=True)
    click.echo(outcome.describe())
    sys.exit(outcome.exit_code)


@main.command()
@home_option
@click.option("--runs", default=10, show_default=True, help="How many recent runs to list.")
def status(home: Path | None, runs: int) -> None:
    """The last runs, what each published, the quarantined files and why."""
    from cpmds.pipeline.status import status_report

    settings = resolve_settings(home=home)
    click.echo(status_report(settings, runs))


@main.command()
@home_option
@click.option("--port", default=3000, show_default=True, type=int)
def ui(home: Path | None, port: int) -> None:
    """Start the Dagster webserver and daemon on 127.0.0.1 (Ctrl-C stops both)."""
    from cpmds.ui import serve

    sys.exit(serve(resolve_settings(home=home), port, echo=click.echo))


@main.command("restore-previous")
@home_option
def restore_previous(home: Path | None) -> None:
    """Point the published warehouse back at the version published before the current one."""
    from cpmds.pipeline.restore import restore

    sys.exit(restore(resolve_settings(home=home), echo=click.echo))


@main.command("rotate-key")
@home_option
@click.option("--yes", is_flag=True, help="Confirm: every pseudonym changes.")
def rotate_key(home: Path | None, yes: bool) -> None:
    """Rotate the pseudonymisation key (every pseudonym changes; the next run re-ingests)."""
    from cpmds.pipeline.keys import rotate

    if not yes:
        click.confirm(
            "Rotating the key changes every pseudonym; the next run re-reads every file. Go on?",
            abort=True,
        )
    click.echo(rotate(resolve_settings(home=home)))


@main.command()
@click.option("--run", "run_id", default=None, help="Run id (default: the latest).")
@home_option
def report(run_id: str | None, home: Path | None) -> None:
    """Rebuild the quality report of a run."""
    from cpmds.report import NoRunError, build_report
    from cpmds.state.lock import StateStoreBusyError

    settings = resolve_settings(home=home)
    try:
        result = build_report(settings.home, run_id)
    except NoRunError as error:
        raise click.UsageError(str(error)) from error
    except StateStoreBusyError as error:  # a run holds the state store: try again after it
        raise click.ClickException(str(error)) from error
    click.echo(result.describe())
    if result.latest is not None:
        click.echo(f"Latest:         {result.latest}")


@main.command()
@click.option("--scale", default=1.0, show_default=True, type=click.FloatRange(0.001, 20))
@click.option("--years", default=5, show_default=True, type=click.IntRange(1, 10))
@click.option("--councils", default="all", show_default=True, help="'all' or the first N.")
@home_option
def bench(scale: float, years: int, councils: str, home: Path | None) -> None:
    """The benchmark: prints its figures and writes <home>/bench.json.

    A national landing zone (or the first N councils) of YEARS statistical years at SCALE, in a
    scratch folder under the home: a cold full backfill, then one new month on top, then a
    no-change re-run.
    """
    from cpmds.bench.run import BENCH_FILE, run_bench
    from cpmds.bench.table import print_result
    from cpmds.pseudonymise import KEY_VARIABLE

    settings = resolve_settings(home=home)
    # a throw-away key for the scratch homes: the benchmark's data is synthetic
    os.environ[KEY_VARIABLE] = secrets.token_hex(32)
    result = run_bench(settings.home, scale=scale, years=years, councils=councils)
    print_result(result)
    click.echo(f"Figures: {settings.home / BENCH_FILE}")
