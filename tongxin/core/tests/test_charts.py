"""The bar chart's geometry as plain data (core/charts.py): lengths scaled to the maximum or the
largest value, zeros and missing values, one bar, 100%, long labels moved above their bars and
shortened, rows laid out one under another, and the description a screen reader reads."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tongxin.core.charts import (
    ABOVE_GAP,
    ABOVE_LABEL_EM,
    ABOVE_LABEL_LINE,
    ABOVE_PITCH,
    LEFT_ROW,
    LEFT_TRACK_X,
    TRACK_END,
    BarChart,
    bar_chart,
    shorten,
    text_em,
)

LEFT_TRACK = TRACK_END - LEFT_TRACK_X  # 56: the track when labels sit left of the bars
LONG = "甘肃省张掖市高台县城关镇某某村民委员会第一村民小组"  # 25 characters


def _chart(
    values: Sequence[float | None],
    *,
    categories: Sequence[str] | None = None,
    maximum: float | None = None,
    unit: str = "",
    decimals: int = 0,
) -> BarChart:
    return bar_chart(
        chart_id="c",
        title="T",
        categories=categories or [f"{n + 1}月" for n in range(len(values))],
        series=[("报告", values)],
        maximum=maximum,
        unit=unit,
        decimals=decimals,
    )


def _lengths(chart: BarChart) -> list[float]:
    return [bar.length for row in chart.rows for bar in row.bars]


def _texts(chart: BarChart) -> list[str]:
    return [bar.text for row in chart.rows for bar in row.bars]


@pytest.mark.parametrize(
    ("values", "maximum", "unit", "decimals", "lengths", "texts"),
    [
        pytest.param([0, 0, 0], None, "", 0, [0, 0, 0], ["0", "0", "0"], id="all-zero-no-max"),
        pytest.param([0, 0], 100, "%", 1, [0, 0], ["0.0%", "0.0%"], id="zero-percent"),
        pytest.param([3], None, "", 0, [LEFT_TRACK], ["3"], id="one-bar-fills-the-track"),
        pytest.param([1, 2, 4], None, "", 0, [14, 28, 56], ["1", "2", "4"], id="largest-fills"),
        pytest.param([25, 50], 100, "%", 1, [14, 28], ["25.0%", "50.0%"], id="scaled-to-max"),
        pytest.param([100], 100, "%", 1, [LEFT_TRACK], ["100.0%"], id="hundred-percent"),
        pytest.param([150], 100, "%", 0, [LEFT_TRACK], ["150%"], id="over-max-stops-at-end"),
        pytest.param([None, 50], 100, "%", 1, [0, 28], ["—", "50.0%"], id="none-is-a-dash"),
        pytest.param([-2, 2], None, "", 0, [0, 56], ["-2", "2"], id="negative-draws-nothing"),
        pytest.param([None, None], None, "", 0, [0, 0], ["—", "—"], id="nothing-measured"),
        pytest.param([1, 2], None, "", 1, [28, 56], ["1.0", "2.0"], id="decimals"),
    ],
)
def test_it_scales_the_bars(
    values: list[float | None],
    maximum: float | None,
    unit: str,
    decimals: int,
    lengths: list[float],
    texts: list[str],
) -> None:
    chart = _chart(values, maximum=maximum, unit=unit, decimals=decimals)
    assert _lengths(chart) == pytest.approx(lengths)
    assert _texts(chart) == texts
    # Each value is written where its bar ends, never past the room left for it.
    for row in chart.rows:
        for bar in row.bars:
            assert bar.text_x == pytest.approx(chart.track_x + bar.length)
            assert bar.text_x <= TRACK_END


def test_a_full_bar_leaves_room_for_its_value() -> None:
    chart = _chart([100], maximum=100, unit="%", decimals=1)
    (bar,) = chart.rows[0].bars
    assert bar.text_x == TRACK_END
    # "100.0%" at 12 px is about 40 px: what is left of a 336 px chart (a 360 px phone).
    assert (100 - TRACK_END) / 100 * 336 >= 40


def test_short_labels_of_one_series_sit_left_of_their_bars() -> None:
    chart = _chart([1, 0], categories=["2024年1月", "2024年12月"])
    assert chart.labels_left
    assert (chart.track_x, chart.track_width) == (LEFT_TRACK_X, LEFT_TRACK)
    assert [row.label for row in chart.rows] == ["2024年1月", "2024年12月"]
    assert chart.height == 2 * LEFT_ROW
    first, second = chart.rows
    assert second.bars[0].y - first.bars[0].y == LEFT_ROW
    assert first.label_y == first.bars[0].text_y  # the label on the bar's line


@pytest.mark.parametrize(
    ("categories", "shown"),
    [
        pytest.param(["东村", "一个很长很长的村名"], ["东村", "一个很长很长的村名"], id="long"),
        pytest.param([LONG], [LONG[:21] + "…"], id="too-long-for-a-phone"),
        pytest.param(["Xiaoshankou Village 2"], ["Xiaoshankou Village 2"], id="latin-narrower"),
    ],
)
def test_a_long_label_moves_above_the_bars(categories: list[str], shown: list[str]) -> None:
    chart = _chart([1] * len(categories), categories=categories)
    assert not chart.labels_left
    assert (chart.track_x, chart.track_width) == (0, TRACK_END)
    assert [row.label for row in chart.rows] == shown
    assert [row.full_label for row in chart.rows] == categories
    assert all(text_em(row.label) <= ABOVE_LABEL_EM for row in chart.rows)
    # Each bar on its own line under its label.
    for row in chart.rows:
        assert row.bars[0].y > row.label_y


@pytest.mark.parametrize(
    ("text", "max_em", "shortened"),
    [
        ("东村", 6, "东村"),
        ("城关镇社区居委会", 6, "城关镇社区…"),
        ("abcdefghij", 6, "abcdefghij"),  # 6 em of Latin letters
        ("abcdefghijk", 6, "abcdefgh…"),
        ("", 6, ""),
    ],
)
def test_it_shortens_to_a_width(text: str, max_em: float, shortened: str) -> None:
    assert shorten(text, max_em) == shortened
    assert text_em(shortened) <= max_em


def test_several_series_are_grouped_under_each_label() -> None:
    chart = bar_chart(
        chart_id="compliance-chart",
        title="完成率",
        categories=["东村", "西村"],
        series=[("每月联系", [50.0, 100.0]), ("季度家访", [None, 0.0]), ("年度", [25.0, 75.0])],
        maximum=100,
        unit="%",
        decimals=1,
    )
    assert not chart.labels_left  # a legend names the series; the labels get their own line
    assert chart.series == ("每月联系", "季度家访", "年度")
    row_height = ABOVE_LABEL_LINE + 3 * ABOVE_PITCH + ABOVE_GAP
    assert chart.height == 2 * row_height
    east, west = chart.rows
    assert [b.y for b in east.bars] == [ABOVE_LABEL_LINE + s * ABOVE_PITCH for s in range(3)]
    assert [b.y - row_height for b in west.bars] == [b.y for b in east.bars]
    assert [b.series for b in west.bars] == [0, 1, 2]
    assert [b.length for b in east.bars] == [42, 0, 21]
    assert [b.text for b in west.bars] == ["100.0%", "0.0%", "75.0%"]
    assert east.bars[1].title == "东村 · 季度家访 —"
    assert chart.description == (
        "东村：每月联系 50.0%，季度家访 —，年度 25.0%；"
        "西村：每月联系 100.0%，季度家访 0.0%，年度 75.0%"
    )


def test_one_series_is_described_by_its_values() -> None:
    chart = _chart([1, 0])
    assert chart.description == "1月：1；2月：0"
    assert chart.rows[0].bars[0].title == "1月 1"


def test_no_rows_draw_nothing() -> None:
    chart = _chart([])
    assert (chart.rows, chart.height, chart.description) == ((), 0, "")


@pytest.mark.parametrize(
    "series",
    [pytest.param([], id="no-series"), pytest.param([("a", [1])], id="too-few-values")],
)
def test_it_refuses_values_that_do_not_match_the_categories(
    series: list[tuple[str, list[float]]],
) -> None:
    with pytest.raises(ValueError, match="series"):
        bar_chart(chart_id="c", title="T", categories=["a", "b"], series=series)
