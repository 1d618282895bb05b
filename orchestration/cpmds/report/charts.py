"""Static, printable charts as inline SVG (matplotlib's SVG backend, no pyplot state).

Legible in black and white: series differ by line style and marker shape, never by colour alone;
text stays text in the SVG (searchable, small). Gaps (suppressed or missing points) are breaks in
the line, never zeros.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedFormatter, FixedLocator, MaxNLocator

from cpmds.report.runchart import RunChart

matplotlib.use("svg")

STYLE = {
    "svg.fonttype": "none",  # text as text: smaller, and selectable in the browser
    "svg.hashsalt": "cpmds-report",  # stable ids, so the same data gives the same file
    "font.family": "DejaVu Sans",
    "font.size": 7,
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.major.size": 2,
    "ytick.major.size": 2,
    "xtick.labelsize": 6,
    "ytick.labelsize": 6,
    "axes.formatter.useoffset": False,  # whole numbers on the axis, never "+1e4" above it
}
PAGE_WIDTH = 7.1  # inches: A4 less the margins
COLUMNS = 4
PANEL_HEIGHT = 1.05
INK, GREY = "#000000", "#6b6b6b"
# A panel title's height, given rather than worked out: matplotlib would otherwise measure the
# axes' decorations on each draw to lift a title over any above the axes, and these have none
# there (no offset text either: "axes.formatter.useoffset" is off).
TITLE_Y = 1.0
JOURNEY_HATCH = {"in": None, "of_which": "////", "out": "...."}


@dataclass(frozen=True)
class Panel:
    title: str
    values: Sequence[float | None]
    chart: RunChart
    reference: Sequence[float | None] | None = None  # Scotland, where comparable


def run_chart_figure(panels: Sequence[Panel], month_labels: Sequence[str], unit: str) -> str:
    """Small multiples: one run chart per panel, the series, its median and its signals."""
    rows = math.ceil(len(panels) / COLUMNS)
    with matplotlib.rc_context(STYLE):
        figure, axes = _grid(rows)
        positions = range(len(month_labels))
        ticks = sorted({0, len(month_labels) // 2, len(month_labels) - 1})
        for index, ax in enumerate(axes):
            if index >= len(panels):
                ax.set_visible(False)
                continue
            ax.xaxis.set_major_locator(FixedLocator(ticks))
            ax.xaxis.set_major_formatter(FixedFormatter([month_labels[t] for t in ticks]))
            ax.yaxis.set_major_locator(MaxNLocator(3, min_n_ticks=2))
            # Only the lowest panel of each column has the months under it (drawing an axis is
            # most of a panel's cost, and the months are the same in every panel).
            ax.xaxis.set_visible(index + COLUMNS >= len(panels))
            _run_chart(ax, panels[index], positions)
            ax.set_xlim(-0.8, len(month_labels) - 0.2)
            ax.relim()
            ax.autoscale_view(scalex=False)
        figure.legend(
            handles=_legend(any(p.reference is not None for p in panels)),
            loc="upper center",
            ncols=5,
            frameon=False,
            fontsize=6.5,
            bbox_to_anchor=(0.5, 1.0),
        )
        figure.supylabel(unit, fontsize=7, x=0.005)
        return _svg(figure)


_GRIDS: dict[int, tuple[Figure, list]] = {}


def _grid(rows: int) -> tuple[Figure, list]:
    """A figure of ``rows`` x :data:`COLUMNS` empty panels. Made once per size and cleared for
    each chart: laying out 30-odd axes costs more than drawing them."""
    if rows not in _GRIDS:
        height = 0.45 + rows * PANEL_HEIGHT
        figure = Figure(figsize=(PAGE_WIDTH, height))
        axes = list(figure.subplots(rows, COLUMNS, squeeze=False).flat)
        for ax in axes:
            _without_label_layout(ax)
        figure.subplots_adjust(
            left=0.07,
            right=0.99,
            bottom=0.35 / height + 0.01,
            top=1 - 0.42 / height,
            hspace=0.55,
            wspace=0.28,
        )
        _GRIDS[rows] = (figure, axes)
    figure, axes = _GRIDS[rows]
    figure.legends.clear()
    for ax in axes:
        for artist in [*ax.lines, *ax.texts, *ax.collections, *ax.patches]:
            artist.remove()
        ax.set_visible(True)
    return figure, axes


def _without_label_layout(ax) -> None:
    """Fix where the panel's axis labels go: they are empty, but matplotlib would measure every tick
    label of the row and column to place them on each draw (with the titles' placement, a third of
    a chart's time). The drawing is the same."""
    ax.xaxis.set_label_coords(0.5, 0.0)
    ax.yaxis.set_label_coords(0.0, 0.5)


def _run_chart(ax, panel: Panel, positions: range) -> None:
    values = [math.nan if v is None else v for v in panel.values]
    if panel.reference is not None:
        reference = [math.nan if v is None else v for v in panel.reference]
        ax.plot(positions, reference, color=GREY, lw=0.9, ls=(0, (3, 2)))
    ax.plot(positions, values, color=INK, lw=0.9, marker="o", ms=2.2)
    if panel.chart.median is not None:
        shown = [p for p, v in zip(positions, panel.values, strict=True) if v is not None]
        ax.plot([shown[0], shown[-1]], [panel.chart.median] * 2, color=INK, lw=0.7, ls=":")
    for run in panel.chart.shifts:
        ax.plot(
            list(run.points),
            [panel.values[p] for p in run.points],
            ls="none",
            marker="s",
            ms=4,
            mfc="white",
            mec=INK,
            mew=0.8,
        )
    for run in panel.chart.trends:
        ax.plot(
            list(run.points),
            [panel.values[p] for p in run.points],
            ls="none",
            marker="^" if run.direction == "up" else "v",
            ms=4.5,
            mfc="none",
            mec=INK,
            mew=0.8,
        )
    ax.set_title(panel.title, fontsize=7, loc="left", pad=2, y=TITLE_Y)
    if all(v is None for v in panel.values):
        ax.text(
            0.5,
            0.5,
            "no published value",
            ha="center",
            va="center",
            fontsize=6,
            transform=ax.transAxes,
            color=GREY,
        )
        ax.set_yticks([])


def _legend(with_reference: bool) -> list:
    handles = [
        Line2D([], [], color=INK, lw=0.9, marker="o", ms=2.2, label="published value"),
        Line2D([], [], color=INK, lw=0.7, ls=":", label="median"),
        Line2D(
            [],
            [],
            ls="none",
            marker="s",
            ms=4,
            mfc="white",
            mec=INK,
            label="shift (6+ on one side)",
        ),
        Line2D(
            [],
            [],
            ls="none",
            marker="^",
            ms=4.5,
            mfc="none",
            mec=INK,
            label="trend (5+ rising/falling)",
        ),
    ]
    if with_reference:
        handles.append(Line2D([], [], color=GREY, lw=0.9, ls=(0, (3, 2)), label="Scotland"))
    return handles


@dataclass(frozen=True)
class Step:
    label: str
    count: int | None
    shown: str  # the count as the report prints it: a number, "*" (suppressed) or "no figure"
    kind: str  # "in", "of_which" or "out"


def journey_figure(areas: Sequence[tuple[str, Sequence[Step]]], columns: int) -> str:
    """A stepped bar chart per area: each step of the journey a bar, its published count written
    beside it; hatching marks the "of which" steps and the ways out, so no colour is needed."""
    steps = len(areas[0][1]) if areas else 0
    rows = math.ceil(len(areas) / columns)
    height = 0.35 + rows * (0.25 + 0.13 * steps)
    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(PAGE_WIDTH, height))
        axes = figure.subplots(rows, columns, squeeze=False).flat
        for index, ax in enumerate(axes):
            if index >= len(areas):
                ax.set_visible(False)
                continue
            _without_label_layout(ax)
            title, area_steps = areas[index]
            _journey(ax, title, area_steps, numbered=columns > 1)
        figure.legend(
            handles=[
                Patch(facecolor="#d9d9d9", edgecolor=INK, lw=0.5, label="step"),
                Patch(
                    facecolor="white",
                    edgecolor=INK,
                    hatch="////",
                    lw=0.5,
                    label="of which (the step before it)",
                ),
                Patch(facecolor="white", edgecolor=INK, hatch="....", lw=0.5, label="out again"),
            ],
            loc="upper center",
            ncols=3,
            frameon=False,
            fontsize=6.5,
            bbox_to_anchor=(0.5, 1.0),
        )
        # One wide panel carries the steps' names; small multiples carry their numbers.
        figure.subplots_adjust(
            left=0.36 if columns == 1 else 0.03,
            right=0.97,
            bottom=0.02,
            top=1 - 0.3 / height,
            hspace=0.3,
            wspace=0.25,
        )
        return _svg(figure)


def _journey(ax, title: str, steps: Sequence[Step], numbered: bool) -> None:
    positions = list(range(len(steps)))[::-1]
    largest = max((s.count for s in steps if s.count is not None), default=0) or 1
    for position, step in zip(positions, steps, strict=True):
        if step.count is not None:
            ax.barh(
                position,
                step.count,
                height=0.7,
                lw=0.5,
                edgecolor=INK,
                facecolor="#d9d9d9" if step.kind == "in" else "white",
                hatch=JOURNEY_HATCH[step.kind],
            )
        ax.text(
            (step.count or 0) + largest * 0.02,
            position,
            step.shown,
            va="center",
            ha="left",
            fontsize=6,
        )
    ax.set_yticks(positions)
    ax.set_yticklabels(
        [str(n) for n in range(1, len(steps) + 1)] if numbered else [s.label for s in steps]
    )
    ax.set_xlim(0, largest * 1.35)
    ax.set_xticks([])
    ax.spines["bottom"].set_visible(False)
    ax.set_title(title, fontsize=7, loc="left", pad=2, y=TITLE_Y)


_DECIMALS = re.compile(r"(\d+\.\d)\d+")
_GEOMETRY = re.compile(r'( (?:d|x|y|transform|width|height|style)=")([^"]*)"')


def _svg(figure: Figure) -> str:
    """The figure as an ``<svg>`` element to put inline: no XML prolog, no metadata, coordinates
    to a tenth of a point (a fraction of a pixel; the files are much smaller)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    text = re.sub(r">\s+<", "><", text)
    # Geometry only: tick labels and other text keep every digit they have.
    return _GEOMETRY.sub(_rounded, text)


def _rounded(attribute: re.Match[str]) -> str:
    return attribute[1] + _DECIMALS.sub(r"\1", attribute[2]) + '"'
