"""Bar charts drawn on the server as inline SVG (decision 013): the geometry here, as plain data;
the drawing in ``templates/core/bar_chart.html``; the colours in ``static/core/charts.css``.

Bars are horizontal, one row per category (a division, a month) and one bar per series in each
row, so that a phone's narrow screen still holds the categories' names. Lengths and x positions
are percentages of the chart's width and heights are pixels: the SVG fills any screen without
scaling its text, as a viewBox would (tiny on a phone, huge on a desk). Where every label is
short and there is a single series, the labels sit left of their bars; otherwise each row's
label has its own line above its bars, with the whole width for a long village name. No
JavaScript: the page is drawn once, on the server, and prints as it shows.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

# Font sizes (px) the geometry is laid out for; the template writes them as attributes.
LABEL_SIZE = 13
VALUE_SIZE = 12
# The value is written after its bar: the track stops short of the right edge to leave room
# for "100.0%" at 12 px even on a 360 px phone (16% of its 336 px is 54 px).
TRACK_END = 84.0
# Labels left of the bars: a column of 28% of the width, at 360 px about 90 px, 6 em of 13 px.
LEFT_TRACK_X = 28.0
LEFT_LABEL_EM = 6.0
LEFT_ROW = 24  # px per row
LEFT_BAR = 14
# Labels above the bars: the label's line, then one bar per series.
ABOVE_LABEL_EM = 22.0  # a 300 px screen holds 23 em of 13 px
ABOVE_LABEL_LINE = 20
ABOVE_PITCH = 16  # px per bar
ABOVE_BAR = 12
ABOVE_GAP = 8  # px between rows
ELLIPSIS = "…"


@dataclass(frozen=True)
class Bar:
    """One value of one series in one row."""

    series: int  # the series' index, which gives its colour (class bar-N)
    value: float | None  # None: nothing to measure (nobody counted)
    text: str  # as written after the bar: "50.0%", "3", "—"
    length: float  # percent of the chart's width; 0 for none, zero or a negative value
    y: int  # px, the bar's top
    text_x: float  # percent: where the value's text begins (the bar's end)
    text_y: int  # px, the value's baseline
    title: str  # the tooltip: row, series and value


@dataclass(frozen=True)
class Row:
    """One category: its label (shortened to fit, the full one kept) and its bars."""

    label: str
    full_label: str
    label_y: int  # px, the label's baseline
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class BarChart:
    chart_id: str  # the figure's id; its title and description ids derive from it
    title: str
    description: str  # every value in words, for a screen reader (the SVG is one image)
    series: tuple[str, ...]  # the legend (drawn when there are two or more)
    rows: tuple[Row, ...]
    labels_left: bool
    track_x: float  # percent: where bars begin
    track_width: float  # percent: a bar at the maximum
    bar_height: int
    height: int  # px
    label_size: int = LABEL_SIZE
    value_size: int = VALUE_SIZE


def text_em(text: str) -> float:
    """The width of a text in em: a Chinese character (wide, or ambiguous as a CJK font draws
    it) one em, anything else (digits, Latin letters) about 0.6."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WFA" else 0.6 for c in text)


def shorten(text: str, max_em: float) -> str:
    """The text as is when it fits in ``max_em``, else its beginning and an ellipsis."""
    if text_em(text) <= max_em:
        return text
    kept, width = "", text_em(ELLIPSIS)
    for c in text:
        width += text_em(c)
        if width > max_em:
            break
        kept += c
    return kept + ELLIPSIS


def bar_chart(
    *,
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    maximum: float | None = None,
    unit: str = "",
    decimals: int = 0,
) -> BarChart:
    """The geometry of a horizontal bar chart of ``series`` (name, one value per category).

    Bars are scaled to ``maximum`` (100 for percentages) or, without one, to the largest value,
    which then spans the whole track; a value above the maximum stops at the track's end. Values
    are written with ``decimals`` decimals and ``unit`` ("%")."""
    if not series:
        raise ValueError("a chart needs a series")
    for name, values in series:
        if len(values) != len(categories):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(categories)}")
    labels_left = len(series) == 1 and all(text_em(c) <= LEFT_LABEL_EM for c in categories)
    track_x = LEFT_TRACK_X if labels_left else 0.0
    track_width = TRACK_END - track_x
    scale = maximum
    if scale is None:
        scale = max((v for _name, values in series for v in values if v is not None), default=0)

    def length(value: float | None) -> float:
        if value is None or scale is None or scale <= 0 or value <= 0:
            return 0.0
        return round(track_width * min(value, scale) / scale, 2)

    def text(value: float | None) -> str:
        return "—" if value is None else f"{value:.{decimals}f}{unit}"

    multi = len(series) > 1
    if labels_left:
        row_height = LEFT_ROW
    else:
        row_height = ABOVE_LABEL_LINE + len(series) * ABOVE_PITCH + ABOVE_GAP
    rows = []
    top = 0
    for i, category in enumerate(categories):
        bars = []
        for s, (name, values) in enumerate(series):
            value = values[i]
            # A baseline 4 px below the bar's middle centres 12-13 px text on the bar.
            if labels_left:
                y = top + (LEFT_ROW - LEFT_BAR) // 2
                text_y = y + LEFT_BAR // 2 + 4
            else:
                y = top + ABOVE_LABEL_LINE + s * ABOVE_PITCH
                text_y = y + ABOVE_BAR // 2 + 4
            named = f"{category} · {name}" if multi else category
            bars.append(
                Bar(
                    series=s,
                    value=value,
                    text=text(value),
                    length=length(value),
                    y=y,
                    text_x=round(track_x + length(value), 2),
                    text_y=text_y,
                    title=f"{named} {text(value)}",
                )
            )
        rows.append(
            Row(
                label=shorten(category, LEFT_LABEL_EM if labels_left else ABOVE_LABEL_EM),
                full_label=category,
                label_y=top + LEFT_ROW // 2 + 4 if labels_left else top + 14,
                bars=tuple(bars),
            )
        )
        top += row_height
    described = [
        _("%(label)s: %(values)s")
        % {
            "label": row.full_label,
            "values": _(", ").join(
                f"{series[b.series][0]} {b.text}" if multi else b.text for b in row.bars
            ),
        }
        for row in rows
    ]
    return BarChart(
        chart_id=chart_id,
        title=title,
        description=_("; ").join(described),
        series=tuple(name for name, _values in series),
        rows=tuple(rows),
        labels_left=labels_left,
        track_x=track_x,
        track_width=track_width,
        bar_height=LEFT_BAR if labels_left else ABOVE_BAR,
        height=top,
    )
