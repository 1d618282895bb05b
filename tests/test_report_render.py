"""The report's charts: kept under the home keyed by exactly what they are drawn from, and drawn
in worker processes that give the same SVG as drawing them here."""

from __future__ import annotations

import os
import time

import pytest

from cpmds.report import charts, render
from cpmds.report.charts import Panel, Step
from cpmds.report.render import Charts, chart_key, draw, draw_all, resolve
from cpmds.report.runchart import run_chart

MONTHS = [f"M{n:02d}" for n in range(12)]


def panels(offset: float, count: int = 3) -> list[Panel]:
    found = []
    for index in range(count):
        values = [None if m == 4 else offset + index + (m % 5) * 1.5 for m in range(12)]
        found.append(Panel(f"Area {index}", values, run_chart(values)))
    return found


def journey() -> list[tuple[str, list[Step]]]:
    steps = [Step("IRD", 120, "120", "in"), Step("Investigated", None, "*", "of_which")]
    return [("Scotland", steps)]


def asked(charts: Charts) -> list:
    return [
        charts.ask("run_chart", panels(1.0), MONTHS, "count"),
        charts.ask("run_chart", panels(2.0), MONTHS, "count"),
        charts.ask("journey", journey(), 1),
    ]


def test_charts_are_kept_and_a_second_report_draws_none(tmp_path):
    first = Charts(folder=tmp_path / "kept")
    wanted = asked(first)
    first.draw()
    assert first.drawn == 3
    assert len(list((tmp_path / "kept").glob("*.svg"))) == 3
    again = Charts(folder=tmp_path / "kept")
    repeated = asked(again)
    again.draw()
    assert again.drawn == 0
    assert [p.svg for p in repeated] == [p.svg for p in wanted]
    assert [p.svg for p in wanted] == [draw(p.chart) for p in wanted]  # as drawn afresh


def test_processes_share_out_the_missing_charts_and_the_report_then_draws_none(tmp_path):
    kept = tmp_path / "kept"
    shares = []
    for part in range(2):
        charts = Charts(folder=kept)
        asked(charts)
        shares.append(charts.keep_missing(part, 2))
    assert shares == [2, 1]  # of three charts, the first and third, then the second
    assert len(list(kept.glob("*.svg"))) == 3
    report = Charts(folder=kept)
    wanted = asked(report)
    assert report.keep_missing() == 0
    report.draw()
    assert report.drawn == 0
    assert [p.svg for p in wanted] == [draw(p.chart) for p in wanted]


def test_the_key_is_the_data_so_changed_values_are_drawn_again(tmp_path):
    one = render.Chart("run_chart", (panels(1.0), MONTHS, "count"))
    moved = render.Chart("run_chart", (panels(1.0 + 1e-12), MONTHS, "count"))
    relabelled = render.Chart("run_chart", (panels(1.0), MONTHS, "rate per 1,000"))
    assert len({chart_key(one), chart_key(moved), chart_key(relabelled)}) == 3
    assert chart_key(one) == chart_key(render.Chart("run_chart", (panels(1.0), MONTHS, "count")))


def test_a_damaged_kept_chart_is_drawn_again(tmp_path):
    first = Charts(folder=tmp_path)
    (pending,) = [first.ask("journey", journey(), 1)]
    first.draw()
    (kept,) = tmp_path.glob("*.svg")
    kept.write_text(pending.svg[: len(pending.svg) // 2], encoding="utf-8")  # cut short
    again = Charts(folder=tmp_path)
    repeated = again.ask("journey", journey(), 1)
    again.draw()
    assert again.drawn == 1 and repeated.svg == pending.svg
    assert kept.read_text(encoding="utf-8") == pending.svg


def test_charts_nobody_asked_for_lately_are_pruned(tmp_path):
    stale = tmp_path / f"{'0' * 64}.svg"
    stale.write_text("<svg></svg>", encoding="utf-8")
    recent = tmp_path / f"{'1' * 64}.svg"
    recent.write_text("<svg></svg>", encoding="utf-8")
    long_ago = time.time() - render.KEEP_UNUSED_SECONDS - 10
    os.utime(stale, (long_ago, long_ago))
    charts = Charts(folder=tmp_path)
    charts.ask("journey", journey(), 1)
    charts.draw()
    assert not stale.exists() and recent.exists()


def test_without_a_folder_nothing_is_kept(tmp_path):
    charts = Charts(folder=None)
    pending = charts.ask("journey", journey(), 1)
    charts.draw()
    assert charts.drawn == 1 and pending.svg.startswith("<svg")


def test_resolve_puts_every_svg_in_place():
    charts = Charts()
    pending = charts.ask("journey", journey(), 1)
    context = {"a": [{"svg": pending}], "b": (pending, 1), "c": None}
    with pytest.raises(RuntimeError):
        resolve(context)
    charts.draw()
    assert resolve(context) == {"a": [{"svg": pending.svg}], "b": (pending.svg, 1), "c": None}


def test_workers_draw_the_same_svg_as_this_process(monkeypatch):
    monkeypatch.setattr(render, "cores", lambda: 2)
    monkeypatch.setattr(render, "WORKER_START_WEIGHT", 0)  # a share for the worker however small
    charts = [
        render.Chart("run_chart", (panels(float(n), count=1 + n % 4), MONTHS, "count"))
        for n in range(6)
    ]
    here = []
    monkeypatch.setattr(render, "draw", lambda chart: here.append(chart) or draw(chart))
    assert draw_all(charts) == [draw(chart) for chart in charts]
    assert 0 < len(here) < len(charts)  # the worker drew its share (it has the real draw)


def test_a_failing_worker_has_its_charts_drawn_here(monkeypatch, caplog):
    monkeypatch.setattr(render, "cores", lambda: 2)
    monkeypatch.setattr(render, "WORKER_START_WEIGHT", 0)
    monkeypatch.setattr(render, "draw_share", _fails)
    charts = [render.Chart("run_chart", (panels(float(n)), MONTHS, "count")) for n in range(4)]
    assert draw_all(charts) == [draw(chart) for chart in charts]
    assert "chart worker failed" in caplog.text


def _fails(charts):
    raise RuntimeError("a worker that cannot draw")


def test_fixed_titles_and_axis_labels_draw_what_matplotlib_places_by_itself(monkeypatch):
    # Placing them by measuring every tick label was a third of a chart's time: giving the title
    # height and the (empty) labels' places must not move anything drawn.
    def drawn() -> list[str]:
        charts._GRIDS.clear()  # the panels of a grid are made once, with their labels placed
        return [
            charts.run_chart_figure(panels(12_345.0, count=6), MONTHS, "count"),
            charts.journey_figure(journey() * 3, 2),
        ]

    fixed = drawn()
    monkeypatch.setattr(charts, "TITLE_Y", None)  # matplotlib's own placement
    monkeypatch.setattr(charts, "_without_label_layout", lambda ax: None)
    assert drawn() == fixed
    monkeypatch.undo()
    charts._GRIDS.clear()
