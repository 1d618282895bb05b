"""Build a run's quality report: gather each section, render the template, write the file.

``<home>/reports/<run_id>/quality_report.html`` and a copy as ``<home>/reports/latest.html`` (when
the run is the newest), each written to a hidden sibling and renamed into place, so a reader never
sees half a report. The report is one self-contained file: styles inline, charts inline SVG, and
the row-failures CSV inside it as a ``data:`` link, so the file can be mailed or archived alone and
every part of it still works (no network, no file beside it).
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from cpmds.catalogue import load_catalogue
from cpmds.contract import load_contract
from cpmds.report import history, published
from cpmds.report.changes import value_changes
from cpmds.report.indicators import indicator_sections
from cpmds.report.journey import journey_section, journey_steps
from cpmds.report.render import CACHE_FOLDER, Charts, resolve
from cpmds.report.sources import open_sources
from cpmds.report.submissions import STATUSES, submission_grid

REPORTS = "reports"
REPORT_FILE = "quality_report.html"
LATEST_FILE = "latest.html"
NOTHING_NEW = "nothing changed since the last published warehouse"  # stages.finish_stage's text
HEADLINE_INDICATORS = ("MDS05", "MDS18", "MDS19")

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("cpmds.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _number(value: object) -> str:
    """Thousands separated; a fraction to one decimal place (as the publication rounds)."""
    if value is None:
        return "\u2013"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _prose(text: str | None) -> markupsafe.Markup:
    """Catalogue text: escaped, with its `code` spans set as code."""
    escaped = markupsafe.escape(text or "")
    return markupsafe.Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escaped)))


_TEMPLATES.filters["prose"] = _prose
_TEMPLATES.filters["num"] = _number
_TEMPLATES.filters["month"] = lambda day: f"{day:%b %Y}"
_TEMPLATES.filters["when"] = lambda moment: f"{moment:%d %b %Y %H:%M}"


@dataclass(frozen=True)
class ReportResult:
    run_id: str
    path: Path
    latest: Path | None
    size: int
    seconds: float

    def describe(self) -> str:
        return f"Quality report: {self.path} ({self.size / 1e6:.1f} MB)"


def report_path(home: Path, run_id: str) -> Path:
    return home / REPORTS / run_id / REPORT_FILE


def latest_path(home: Path) -> Path:
    return home / REPORTS / LATEST_FILE


def build_report(home: Path, run_id: str | None = None) -> ReportResult:
    """Write the quality report of ``run_id`` (default: the latest run)."""
    started = time.perf_counter()
    context = gather(home, run_id)
    html = _TEMPLATES.get_template("report.html.j2").render(**context)
    run = context["run"]
    path = _write(report_path(home, run["run_id"]), html)
    latest = _write(latest_path(home), html) if context["is_latest_run"] else None
    return ReportResult(
        run_id=run["run_id"],
        path=path,
        latest=latest,
        size=len(html.encode("utf-8")),
        seconds=time.perf_counter() - started,
    )


def draw_published_charts(home: Path, part: int = 0, parts: int = 1) -> int:
    """Draw and keep, in this process, the charts the report of the current publication shows
    and that are not kept yet (every ``parts``-th of them from the ``part``-th: see
    :meth:`Charts.keep_missing`); how many it drew. A report built afterwards reads them."""
    charts = Charts(folder=home / REPORTS / CACHE_FOLDER)
    with open_sources(home) as sources:
        _published_sections(sources, published.publication(sources), load_catalogue(), charts)
    return charts.keep_missing(part, parts)


def gather(home: Path, run_id: str | None) -> dict[str, Any]:
    """Everything the template shows, from the state store and the publication file only."""
    contract, catalogue = load_contract(), load_catalogue()
    charts = Charts(folder=home / REPORTS / CACHE_FOLDER)
    with open_sources(home) as sources:
        facts = history.run_facts(sources, run_id)
        run = facts.run
        log = history.load_log(sources)
        failures = history.row_failures(sources, run["run_id"])
        shown = published.publication(sources)
        context: dict[str, Any] = {
            "run": run,
            "previous_run": facts.previous,
            "is_latest_run": facts.is_latest,
            "generated": dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None),
            "outcome": _outcome(run, shown),
            "publication": shown,
            "grid": submission_grid(log, contract, catalogue, run["started"]),
            "statuses": STATUSES,
            "gates": history.gate_results(sources, run["run_id"]),
            "failing_rules": history.failing_rules(sources, run["run_id"]),
            "row_failures": failures.height,
            "row_failures_csv": _data_uri(history.row_failures_csv(failures)),
            "quarantined": history.quarantined_files(log, run["run_id"]),
            "file_changes": history.file_changes(log, run["run_id"]),
            "value_changes": value_changes(home, run["run_id"], bool(run["published"])),
        }
        context |= _published_sections(sources, shown, catalogue, charts)
    # Drawn once the sources are closed: the kept ones read, the others drawn in parallel.
    charts.draw()
    context = resolve(context)
    context["headlines"] = _headlines(context)
    return context


def _published_sections(
    sources, shown: published.Published, catalogue, charts: Charts
) -> dict[str, Any]:
    if not shown.exists:
        return {"areas": {}, "indicator_sections": [], "journey": None, "cross": None}
    areas = published.areas(sources)
    names = {code: area.name for (kind, code), area in areas.items() if kind == "council"}
    months, rows = published.monthly_series(sources)
    groups = [
        {"id": g.id, "title": g.title, "description": g.description, "members": g.members}
        for g in catalogue.sections
    ]
    chains = {
        indicator.id: [chain.title for chain in catalogue.chains if indicator.id in chain.members]
        for indicator in catalogue.indicators
    }
    year = published.latest_year(sources)
    steps = journey_steps(catalogue)
    cells = [(s["indicator_id"], "total", "total", s["column"]) for s in steps]
    consistency = published.consistency(sources)
    return {
        "areas": areas,
        "months": months,
        "indicator_sections": indicator_sections(
            published.catalogue(sources), groups, months, rows, areas, charts
        ),
        "chains": chains,
        "journey_year": year,
        "journey": journey_section(steps, published.year_cells(sources, year, cells), areas, charts)
        if year
        else None,
        "cross": _cross_checks(consistency, names),
        "headline_years": _headline_years(sources),
    }


def _cross_checks(rows, names: dict[str, str]) -> dict[str, Any] | None:
    if rows.is_empty():
        return None
    chi = rows.filter(rows["check"] == "chi").sort("partner", "org", "dataset", "measure")
    by_sender: dict[tuple, dict[str, Any]] = {}
    for row in chi.to_dicts():
        key = (row["partner"], row["org"], row["dataset"], row["chi_column"])
        by_sender.setdefault(key, {})[row["measure"]] = row
    return {
        "irds": published.council_month_table(
            rows, "ird_sources", ("sw_irds", "police_irds"), names
        ),
        "registrations": published.council_month_table(
            rows, "registrations_meetings", ("registrations", "meetings_registered"), names
        ),
        "unmatched": published.council_month_table(
            rows, "unmatched_meetings", ("unmatched", "initial"), names
        ),
        "chi": [{"sender": key, **measures} for key, measures in sorted(by_sender.items())],
    }


def _headline_years(sources) -> list[dict[str, Any]]:
    """Scotland's two latest statistical years for a few headline counts (published cells)."""
    rows = sources.frame(
        "select indicator_id, period_label, numerator, suppressed "
        "from published.publication.indicator_values "
        "where area_type = 'scotland' and period_type = 'year' and breakdown = 'total' "
        "and indicator_id in (select unnest(?)) order by indicator_id, period_start",
        [list(HEADLINE_INDICATORS)],
    )
    found = []
    for indicator_id in HEADLINE_INDICATORS:
        years = rows.filter(rows["indicator_id"] == indicator_id).to_dicts()[-2:]
        if len(years) == 2 and not any(year["suppressed"] for year in years):
            found.append({"indicator_id": indicator_id, "before": years[0], "latest": years[1]})
    return found


def _outcome(run: dict[str, Any], shown: published.Published) -> dict[str, Any]:
    """What the run published or why not, said plainly, and where the values shown come from."""
    source = (
        f"the publication of run {shown.run_id}" if shown.exists else "no publication (none yet)"
    )
    if run["published"]:
        state, text = "published", "This run passed every gate and published its values."
    elif run["why_not"] == NOTHING_NEW:
        state = "unchanged"
        text = (
            "This run passed every gate; nothing had changed, so it published nothing new. "
            "The published warehouse stays as it was."
        )
    elif run["status"] in ("running", "interrupted") and not run["why_not"]:
        state = "stopped"
        text = "This run did not finish, so it published nothing."
    else:
        state = "not_published"
        text = (
            f"This run did not publish: {run['why_not'] or 'a step failed'}. The published "
            "warehouse stays exactly as it was."
        )
    mine = shown.exists and shown.run_id == run["run_id"]
    values = (
        "The values in this report are this run's publication."
        if mine
        else f"The values in this report are the last published ones: {source}."
        if shown.exists
        else "Nothing has been published yet, so this report has no indicator values."
    )
    return {"state": state, "text": text, "source": values, "own_values": mine}


def _headlines(context: dict[str, Any]) -> list[str]:
    changes = context["file_changes"]
    lines = [
        f"{changes['new_files']:,} new file(s) in this run"
        + (
            ": " + ", ".join(f"{count:,} {status}" for status, count in changes["new_by_status"])
            if changes["new_by_status"]
            else ""
        )
        + "."
    ]
    if changes["superseded"]:
        lines.append(f"{len(changes['superseded']):,} earlier file(s) superseded by corrections.")
    totals = context["grid"].totals
    lines.append(
        f"Submissions: {totals['missing']:,} expected month(s) missing, "
        f"{totals['late']:,} late, {totals['quarantined']:,} quarantined."
    )
    values = context["value_changes"]
    if values.get("compared"):
        t = values["totals"]
        lines.append(
            f"Against the previous publication: {t['revised']:,} value(s) revised, "
            f"{t['new']:,} new, {t['now_suppressed']:,} newly suppressed."
        )
    return lines


def _data_uri(text: str) -> str:
    encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return f"data:text/csv;charset=utf-8;base64,{encoded}"


def _write(path: Path, html: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of this process's own: the runner and the daemon's sensor never share a partial file.
    hidden = path.with_name(f".{path.name}.{os.getpid()}.partial")
    hidden.write_text(html, encoding="utf-8")
    hidden.replace(path)
    return path
