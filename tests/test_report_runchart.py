"""The run-chart rules of the quality report (pipeline.md): a shift is 6 or more consecutive points
all above or all below the median (points on it neither count nor break it); a trend is 5 or more
consecutive points each higher, or each lower, than the one before (an equal neighbour neither
counts nor breaks it); suppressed or missing points are gaps and take no part."""

from cpmds.report.runchart import (
    SHIFT_POINTS,
    TREND_POINTS,
    median_of,
    run_chart,
    shifts,
    trends,
)


def test_the_thresholds_are_pipeline_md_s():
    assert (SHIFT_POINTS, TREND_POINTS) == (6, 5)


def test_the_median_is_of_the_points_shown():
    assert median_of([1, None, 3, 10]) == 3
    assert median_of([4, 2, None, None]) == 3
    assert median_of([None, None]) is None


def test_six_points_above_the_median_are_a_shift():
    values = [1, 1, 1, 1, 1, 5, 6, 7, 5, 6, 7, 1]  # five below 3, then six above it
    (shift,) = shifts(values, median=3)
    assert (shift.kind, shift.direction, shift.points) == ("shift", "up", (5, 6, 7, 8, 9, 10))


def test_five_points_on_one_side_are_not_a_shift():
    values = [10, 10, 10, 10, 10, 1, 1, 1, 10, 1, 1]
    assert shifts(values, median=5) == ()


def test_points_on_the_median_neither_count_nor_break_a_shift():
    # 5 below, one on the median, 1 below: six points below in a row.
    values = [1, 2, 1, 2, 1, 5, 2, 9, 9]
    (shift,) = shifts(values, median=5)
    assert shift.direction == "down"
    assert shift.points == (0, 1, 2, 3, 4, 6)
    # With five below, the one on the median does not make six.
    assert shifts([1, 2, 1, 2, 1, 5, 9, 9], median=5) == ()


def test_gaps_neither_count_nor_break_a_shift():
    values = [1, 1, 1, None, 1, None, 1, 1, 9]
    (shift,) = shifts(values, median=5)
    assert shift.points == (0, 1, 2, 4, 6, 7)
    assert shifts([1, 1, None, None, None, 1, 1, 1], median=5) == ()


def test_a_point_across_the_median_breaks_a_shift():
    assert shifts([1, 1, 1, 9, 1, 1, 1], median=5) == ()


def test_five_rising_points_are_a_trend():
    (trend,) = trends([3, 1, 2, 3, 4, 5, 2])
    assert (trend.kind, trend.direction, trend.points) == ("trend", "up", (1, 2, 3, 4, 5))


def test_four_rising_points_are_not_a_trend():
    assert trends([5, 1, 2, 3, 4, 1, 2, 3, 4]) == ()


def test_five_falling_points_are_a_trend_and_the_turning_point_starts_it():
    (trend,) = trends([1, 2, 9, 7, 5, 3, 1])
    assert trend.direction == "down"
    assert trend.points == (2, 3, 4, 5, 6)


def test_an_equal_neighbour_neither_counts_nor_breaks_a_trend():
    (trend,) = trends([1, 2, 2, 3, 4, 5])
    assert trend.points == (0, 1, 3, 4, 5)
    # Four distinct rising values with a repeat are still only four points.
    assert trends([1, 2, 2, 3, 4]) == ()


def test_gaps_take_no_part_in_a_trend():
    (trend,) = trends([1, None, 2, 3, None, None, 4, 5])
    assert trend.points == (0, 2, 3, 6, 7)


def test_a_series_with_neither():
    values = [5, 7, 4, 6, 5, 8, 3, 6, 4, 7, 5, 6]
    chart = run_chart(values)
    assert chart.median == 5.5
    assert chart.shifts == () and chart.trends == ()
    assert chart.signals == ()


def test_a_series_with_both_marks_each():
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    chart = run_chart(values)
    assert chart.median == 6.5
    assert [run.direction for run in chart.shifts] == ["down", "up"]
    assert [len(run.points) for run in chart.shifts] == [6, 6]
    (trend,) = chart.trends
    assert trend.points == tuple(range(12))


def test_an_empty_or_all_suppressed_series_has_no_median_and_no_signal():
    for values in ([], [None] * 24):
        chart = run_chart(values)
        assert chart.median is None and chart.signals == ()
