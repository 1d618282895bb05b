"""The quality report (pipeline.md, "The quality report"; the report issue's acceptance), over two
small demo runs of one landing zone: the first loads eight months, the second the four after
them, so the second run's report has values revised against the first's publication.

Every section is there with the counts the quality schema holds; no identifier of the input is
anywhere in the HTML or in the CSV inside it; no published count from 1 to 4 is shown; the report
renders in headless Chromium (Debian's) to a screenshot that is not blank and a PDF with pages.
"""

from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from identifiers import births_in, found_in, identifiers_in_input

from cpmds.cli import main
from cpmds.pipeline.runner import run_load
from cpmds.report import build_report, latest_path, render, report_path
from cpmds.report.ahead import charts_drawn_meanwhile
from cpmds.report.build import REPORTS
from cpmds.report.render import CACHE_FOLDER
from cpmds.report.sources import publication_file
from cpmds.settings import Settings
from cpmds.state import state_path
from cpmds.synthetic import GenerateOptions, generate

FIRST_PART_LAST_PERIOD = 202403
PERIOD_IN_NAME = re.compile(r"_(\d{6})_\d{12}\.\w+$")
SECTIONS = (
    "summary",
    "submissions",
    "validation",
    "consistency",
    "indicators",
    "journey",
    "changes",
)
CHROMIUM = Path("/usr/bin/chromium")


def _move(files: list[Path], source: Path, target: Path) -> None:
    for path in files:
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, destination)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two runs: (settings, first run id, second run id, the whole landing zone's copy)."""
    base = tmp_path_factory.mktemp("report")
    options = GenerateOptions.build(
        out=base / "all", seed=5, councils=2, period_from=202308, period_to=202407, scale=0.4,
        defects=True,
    )  # fmt: skip
    generate(options, progress=False)
    files = sorted(p for p in options.out.rglob("*") if p.is_file())
    later = [
        p
        for p in files
        if (m := PERIOD_IN_NAME.search(p.name)) and int(m[1]) > FIRST_PART_LAST_PERIOD
    ]
    earlier = [p for p in files if p not in later]
    settings = Settings(raw=base / "raw", home=base / "home")
    _move(earlier, options.out, settings.raw)
    first = run_load(settings)
    assert first.exit_code == 0, first.describe()
    _move(later, options.out, settings.raw)
    second = run_load(settings)
    assert second.exit_code == 0, second.describe()
    return settings, first, second


def html_of(settings: Settings, run_id: str) -> str:
    return report_path(settings.home, run_id).read_text(encoding="utf-8")


def facts(html: str, name: str) -> list[str]:
    return re.findall(rf'data-fact="{name}"[^>]*>([^<]*)<', html)


def quality(settings: Settings, query: str, parameters: list) -> list[tuple]:
    with duckdb.connect(str(state_path(settings.home)), read_only=True) as connection:
        return connection.execute(query, parameters).fetchall()


def test_every_run_gets_its_report_and_the_latest_is_copied(runs):
    settings, first, second = runs
    assert first.report == report_path(settings.home, first.run_id)
    assert second.report == report_path(settings.home, second.run_id)
    assert first.report.is_file() and second.report.is_file()
    assert latest_path(settings.home).read_bytes() == second.report.read_bytes()


def test_every_section_is_present(runs):
    settings, _, second = runs
    html = html_of(settings, second.run_id)
    for section in SECTIONS:
        assert f'<section class="part" id="{section}">' in html, section
    # Section 5 has every indicator of the catalogue, each with its own anchor.
    assert len(re.findall(r'<article class="indicator" id="mds\d\d">', html)) == 41
    assert html.count("<svg") >= 10  # run charts and journey charts, inline


def test_the_summary_counts_are_the_quality_schema_s(runs):
    settings, _, second = runs
    html = html_of(settings, second.run_id)
    (row,) = quality(
        settings,
        "select files_new, files_loaded, files_quarantined, files_superseded, rows_loaded, "
        "published from quality.runs where run_id = ?",
        [second.run_id],
    )
    for name, expected in zip(
        ("files_new", "files_loaded", "files_quarantined", "files_superseded", "rows_loaded"),
        row,
        strict=False,
    ):
        assert facts(html, name) == [f"{expected:,}"], name
    assert row[-1] is True
    assert 'data-state="published"' in html
    assert "This run passed every gate and published its values." in html


def test_the_validation_section_counts_are_the_quality_schema_s(runs):
    settings, first, _ = runs
    html = html_of(settings, first.run_id)
    ((failures,),) = quality(
        settings, "select count(*) from quality.row_failures where run_id = ?", [first.run_id]
    )
    ((gates,),) = quality(
        settings, "select count(*) from quality.gate_results where run_id = ?", [first.run_id]
    )
    ((quarantined,),) = quality(
        settings,
        "select count(*) from quality.load_log where status in ('quarantined', 'rejected') "
        "and (decided_run_id = ? or run_id = ?)",
        [first.run_id, first.run_id],
    )
    by_rule = dict(
        quality(
            settings,
            "select rule || '/' || dataset, count(*) from quality.row_failures "
            "where run_id = ? group by all",
            [first.run_id],
        )
    )
    assert failures > 0 and quarantined > 0  # the defects made some
    assert facts(html, "row_failures") == [f"{failures:,}"]
    assert len(facts(html, "gate_result")) == gates
    assert len(re.findall(r'data-fact="quarantined_file"', html)) == quarantined
    shown = re.findall(r'data-rule="([^"]+)" data-findings="(\d+)"', html)
    assert sum(int(findings) for _, findings in shown) == failures
    assert {rule for rule, _ in shown} == {key.split("/")[0] for key in by_rule}


def test_the_row_failures_csv_is_inside_the_report(runs):
    settings, first, _ = runs
    lines = embedded_csv(html_of(settings, first.run_id)).splitlines()
    ((failures,),) = quality(
        settings, "select count(*) from quality.row_failures where run_id = ?", [first.run_id]
    )
    assert lines[0] == "path,dataset,row,column,rule,severity,message"
    assert len(lines) == failures + 1


def embedded_csv(html: str) -> str:
    (encoded,) = re.findall(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', html)
    return base64.b64decode(encoded).decode("utf-8")


def test_the_submissions_grid_shows_the_load_log(runs):
    settings, first, _ = runs
    html = html_of(settings, first.run_id)
    # A quarantined file with a parsed name is a Q in its sender's month (unless another file of
    # that month loaded).
    ((parsed_quarantined,),) = quality(
        settings,
        "select count(*) from quality.load_log as q where status = 'quarantined' "
        "and dataset is not null and not exists (select 1 from quality.load_log as l "
        "where l.status = 'loaded' and l.partner = q.partner and l.org = q.org "
        "and l.dataset = q.dataset and l.period = q.period)",
        [],
    )
    assert parsed_quarantined > 0
    assert len(re.findall(r'<td class="st-quarantined"', html)) == parsed_quarantined
    assert len(re.findall(r'<td class="st-(received|late|corrected)"', html)) > 100


def test_the_changes_section_compares_with_the_previous_publication(runs):
    settings, first, second = runs
    html = html_of(settings, second.run_id)
    changes = html[html.index('id="changes"') :]
    assert f"Against the publication of run <code>{first.run_id}</code>" in changes
    assert "value(s) revised" in changes
    first_html = html_of(settings, first.run_id)
    assert "This was the first publication" in first_html[first_html.index('id="changes"') :]


def test_the_publication_file_carries_the_disclosure_controlled_consistency_checks(runs):
    settings, _, _ = runs
    with duckdb.connect(str(publication_file(settings.home)), read_only=True) as connection:
        rows = connection.execute(
            'select "check", unit, numerator, denominator, suppressed from quality.consistency'
        ).fetchall()
    checks = {row[0] for row in rows}
    assert checks == {"ird_sources", "registrations_meetings", "unmatched_meetings", "chi"}
    for _, unit, numerator, denominator, suppressed in rows:
        if suppressed:
            assert numerator is None and denominator is None
            continue
        assert not 1 <= (numerator or 0) <= 4
        if unit == "percent":
            assert not 1 <= (denominator or 0) <= 4
            assert not 1 <= (denominator or 0) - (numerator or 0) <= 4
    assert any(row[4] for row in rows) and not all(row[4] for row in rows)


def test_no_published_count_from_1_to_4_is_shown(runs):
    settings, first, second = runs
    for run in (first, second):
        html = html_of(settings, run.run_id)
        counts = re.findall(r'<span class="pub count">([^<]*)</span>', html)
        suppressed = re.findall(r'<span class="pub count suppressed"[^>]*>\*</span>', html)
        assert len(counts) > 50 and suppressed  # counts are shown, and some are hidden
        for text in counts:
            assert not 1 <= float(text.replace(",", "")) <= 4, text


def test_no_identifier_of_the_input_is_in_the_report(runs):
    settings, first, second = runs
    tokens, births = identifiers_in_input(settings.raw)
    assert len(tokens) > 100 and births
    for run in (first, second):
        html = html_of(settings, run.run_id)
        for text in (html, embedded_csv(html)):
            assert not found_in(text, tokens)
            assert not births_in(text, births)


def test_the_kept_charts_hold_no_identifier_and_give_the_report_drawn_afresh(runs):
    settings, _, second = runs
    kept = settings.home / REPORTS / CACHE_FOLDER
    svgs = sorted(kept.glob("*.svg"))
    assert len(svgs) >= 10  # every run chart and journey chart of the runs' reports
    tokens, births = identifiers_in_input(settings.raw)
    for path in svgs:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("<svg")
        assert not found_in(text, tokens)
        assert not births_in(text, births)
    # Rebuilt from the kept charts, then with none kept: the same report (its time aside).
    from_kept = build_report(settings.home, second.run_id)
    assert from_kept.seconds < 30
    with_kept = _timeless(html_of(settings, second.run_id))
    shutil.rmtree(kept)
    build_report(settings.home, second.run_id)
    assert _timeless(html_of(settings, second.run_id)) == with_kept
    assert sorted(kept.glob("*.svg")) != []  # kept again


def test_the_charts_drawn_ahead_are_the_ones_the_report_shows(runs, monkeypatch):
    """Publish draws the report's charts in other processes while it writes its exports; the
    report that follows then draws none."""
    settings, _, second = runs
    kept = settings.home / REPORTS / CACHE_FOLDER
    shutil.rmtree(kept)
    with charts_drawn_meanwhile(settings.home):
        pass
    assert sorted(kept.glob("*.svg")) != []
    drawn: list[render.Chart] = []

    def drawn_here(charts: list[render.Chart]) -> list[str]:
        drawn.extend(charts)
        return [render.draw(chart) for chart in charts]

    monkeypatch.setattr(render, "draw_all", drawn_here)
    build_report(settings.home, second.run_id)
    assert drawn == []


def test_charts_that_cannot_be_drawn_ahead_cost_only_a_warning(tmp_path, caplog):
    with charts_drawn_meanwhile(tmp_path / "no home"):
        pass
    assert "the report's charts were not drawn ahead" in caplog.text


def _timeless(html: str) -> str:
    return re.sub(r"(<dt>Report written</dt><dd>)[^<]*", r"\1", html)


def test_a_past_run_s_report_is_rebuilt_with_the_last_published_values(runs):
    settings, first, second = runs
    report_path(settings.home, first.run_id).unlink()
    result = CliRunner().invoke(
        main, ["report", "--run", first.run_id, "--home", str(settings.home)]
    )
    assert result.exit_code == 0, result.output
    html = html_of(settings, first.run_id)
    assert f"the last published ones: the publication of run {second.run_id}" in html
    # latest.html stays the newest run's.
    assert latest_path(settings.home).read_bytes() == html_of(settings, second.run_id).encode()


def test_report_without_any_run_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["report", "--home", str(tmp_path)])
    assert result.exit_code == 2
    assert "no run has happened yet" in result.output


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
def test_it_renders_in_headless_chromium_to_a_screenshot_and_a_pdf(runs, tmp_path):
    from PIL import Image, ImageStat
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    _, _, second = runs
    shots = {"first": tmp_path / "first.png", "indicator": tmp_path / "mds05.png"}
    pdf = tmp_path / "report.pdf"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1000, "height": 1400})
        page.goto(second.report.as_uri())
        page.screenshot(path=shots["first"])
        page.locator("#mds05").screenshot(path=shots["indicator"])
        page.emulate_media(media="print")
        page.pdf(path=pdf, format="A4", print_background=True)
        browser.close()
    for name, path in shots.items():
        with Image.open(path) as image:
            spread = ImageStat.Stat(image.convert("L")).stddev[0]
        assert spread > 10, f"the {name} screenshot looks blank"
    assert len(PdfReader(pdf).pages) > 10
