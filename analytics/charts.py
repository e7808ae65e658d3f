"""Server-side SVG charts for the instructor pages: geometry only, no JavaScript.

Every chart is an inline `<svg role="img">` with a `<title>` and a `<desc>` (named by
`aria-labelledby`), drawn in a fixed viewBox that scales to the page's width. Text is
escaped here; the pages put a table with the same numbers next to each chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# The house palette (assessments/static/assessments/site.css).
INK = "#1d2330"
MUTED = "#5b6475"
LINE = "#d8dde6"
ACCENT = "#2456c7"
PRE = "#8a94a6"
OK = "#1f7a3d"
BAD = "#b3261e"
WARN = "#8a5a00"
QUADRANT_COLOURS = {
    "misconception": "#b3261e",
    "gap": "#c77700",
    "lucky_guess": "#6b5bc7",
    "knowledge": "#1f7a3d",
}

WIDTH = 640.0
LABEL_CHARS = 70


def _n(value: float) -> str:
    """A coordinate: one decimal, no trailing zeros."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def scale(value: float, domain: tuple[float, float], span: tuple[float, float]) -> float:
    """Map `value` from `domain` onto `span` linearly, clipped to the span."""
    d0, d1 = domain
    s0, s1 = span
    if d1 == d0:
        return s0
    ratio = _clip((value - d0) / (d1 - d0), 0.0, 1.0)
    return s0 + ratio * (s1 - s0)


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _svg(chart_id: str, title: str, description: str, height: float, body: list[str]) -> SafeString:
    head = (
        f'<svg class="chart" id="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'viewBox="0 0 {_n(WIDTH)} {_n(height)}" width="{_n(WIDTH)}" height="{_n(height)}" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>'
    )
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 - every text is escaped


def _text(x: float, y: float, text: str, *, cls: str = "", anchor: str = "start") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}"{klass}>{escape(text)}</text>'


def _rect(x: float, y: float, w: float, h: float, fill: str, *, extra: str = "") -> str:
    return (
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0.0))}" height="{_n(h)}" '
        f'fill="{fill}"{extra}/>'
    )


@dataclass(frozen=True)
class Series:
    """One bar per row in this colour, named in the legend."""

    name: str
    colour: str


@dataclass(frozen=True)
class BarRow:
    """A labelled row of bars, one value per series (None: no bar, "no data")."""

    label: str
    values: tuple[float | None, ...]
    hint: str = ""


@dataclass(frozen=True)
class BarLayout:
    left: float = 8.0
    right: float = 96.0
    label_height: float = 18.0
    bar_height: float = 14.0
    bar_gap: float = 3.0
    row_gap: float = 10.0
    legend_height: float = 26.0
    axis_height: float = 22.0


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    rows: Sequence[BarRow],
    series: Sequence[Series],
    maximum: float = 100.0,
    unit: str = "%",
    layout: BarLayout | None = None,
) -> SafeString:
    """Horizontal bars: each row's label on its own line, then one bar per series.

    Values are clipped to 0..`maximum`; the value is written at the end of each bar."""
    box = layout or BarLayout()
    plot_left, plot_right = box.left, WIDTH - box.right
    per_row = box.label_height + len(series) * (box.bar_height + box.bar_gap) + box.row_gap
    height = box.legend_height + len(rows) * per_row + box.axis_height
    body: list[str] = []
    x = box.left
    for item in series:
        body.append(_rect(x, 6, 12, 12, item.colour))
        body.append(_text(x + 17, 16.5, item.name, cls="legend"))
        x += 34 + 7.2 * len(item.name)
    y = box.legend_height
    for row in rows:
        body.append(f"<g><title>{escape(_row_title(row, series, unit))}</title>")
        body.append(_text(plot_left, y + 13, _short(row.label), cls="label"))
        bar_y = y + box.label_height
        for item, value in zip(series, row.values, strict=True):
            if value is None:
                body.append(_text(plot_left, bar_y + 11, f"{item.name}: no data", cls="muted"))
            else:
                end = scale(value, (0.0, maximum), (plot_left, plot_right))
                body.append(_rect(plot_left, bar_y, end - plot_left, box.bar_height, item.colour))
                body.append(_text(end + 5, bar_y + 11.5, _value(value, unit), cls="value"))
            bar_y += box.bar_height + box.bar_gap
        body.append("</g>")
        y += per_row
    axis_y = y
    body.append(
        f'<line x1="{_n(plot_left)}" y1="{_n(axis_y)}" x2="{_n(plot_right)}" '
        f'y2="{_n(axis_y)}" stroke="{LINE}"/>'
    )
    for tick in (0.0, maximum / 2, maximum):
        tx = scale(tick, (0.0, maximum), (plot_left, plot_right))
        anchor = "start" if tick == 0 else "end" if tick == maximum else "middle"
        body.append(_text(tx, axis_y + 15, f"{tick:g}{unit}", cls="tick", anchor=anchor))
    return _svg(chart_id, title, description, height, body)


def _value(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.1f}%"
    return f"{value:g}{unit}"


def _row_title(row: BarRow, series: Sequence[Series], unit: str) -> str:
    parts = [
        f"{item.name}: {'no data' if value is None else _value(value, unit)}"
        for item, value in zip(series, row.values, strict=True)
    ]
    hint = f" ({row.hint})" if row.hint else ""
    return f"{row.label}{hint}: " + ", ".join(parts)


def share_bar(*, part: int, whole: int, total: int, label: str) -> SafeString:
    """A small stacked bar for a table cell: `part` of `whole` of `total`.

    Used for prevalence: the confident holders (dark) within all holders (light) among the
    learners with evidence (the track)."""
    width, height = 160.0, 14.0
    body = [_rect(0, 0, width, height, "#eef1f6", extra=' rx="3"')]
    if total > 0:
        whole_w = scale(whole, (0.0, float(total)), (0.0, width))
        part_w = scale(part, (0.0, float(total)), (0.0, width))
        body.append(_rect(0, 0, whole_w, height, QUADRANT_COLOURS["gap"], extra=' rx="3"'))
        body.append(_rect(0, 0, part_w, height, QUADRANT_COLOURS["misconception"], extra=' rx="3"'))
    svg = (
        f'<svg class="sharebar" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" height="{_n(height)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>' + "".join(body)
    )
    return mark_safe(svg + "</svg>")  # noqa: S308 - the label is escaped


@dataclass(frozen=True)
class Point:
    """One item on the facility x discrimination plane."""

    label: str
    x: float | None
    y: float | None
    flagged: bool = False
    detail: str = ""
    size: float = 0.5  # 0..1: the point's radius grows with it (e.g. with the attempts)


@dataclass(frozen=True)
class ScatterLayout:
    left: float = 58.0
    right: float = 18.0
    top: float = 16.0
    bottom: float = 52.0
    height: float = 420.0
    x_domain: tuple[float, float] = (0.0, 100.0)
    y_domain: tuple[float, float] = (-100.0, 100.0)
    x_ticks: tuple[float, ...] = (0.0, 25.0, 50.0, 75.0, 100.0)
    y_ticks: tuple[float, ...] = (-100.0, -50.0, 0.0, 50.0, 100.0)


def scatter(
    *,
    chart_id: str,
    title: str,
    description: str,
    points: Sequence[Point],
    x_label: str,
    y_label: str,
    layout: ScatterLayout | None = None,
) -> SafeString:
    """A scatter plot; flagged points are drawn larger in red with a bold label.

    Points with a missing coordinate are not drawn (the page lists them)."""
    box = layout or ScatterLayout()
    x0, x1 = box.left, WIDTH - box.right
    y0, y1 = box.height - box.bottom, box.top  # y grows upwards

    def px(value: float) -> float:
        return scale(value, box.x_domain, (x0, x1))

    def py(value: float) -> float:
        return scale(value, box.y_domain, (y0, y1))

    body: list[str] = [_rect(x0, y1, x1 - x0, y0 - y1, "#fbfcfe", extra=f' stroke="{LINE}"')]
    for tick in box.x_ticks:
        tx = px(tick)
        body.append(
            f'<line x1="{_n(tx)}" y1="{_n(y1)}" x2="{_n(tx)}" y2="{_n(y0)}" stroke="{LINE}"/>'
        )
        body.append(_text(tx, y0 + 16, f"{tick:g}", cls="tick", anchor="middle"))
    for tick in box.y_ticks:
        ty = py(tick)
        colour = MUTED if tick == 0 else LINE
        body.append(
            f'<line x1="{_n(x0)}" y1="{_n(ty)}" x2="{_n(x1)}" y2="{_n(ty)}" stroke="{colour}"/>'
        )
        body.append(_text(x0 - 6, ty + 4, f"{tick:g}", cls="tick", anchor="end"))
    body.append(_text((x0 + x1) / 2, box.height - 12, x_label, cls="axis", anchor="middle"))
    mid_y = (y0 + y1) / 2
    body.append(
        f'<text x="16" y="{_n(mid_y)}" text-anchor="middle" class="axis" '
        f'transform="rotate(-90 16 {_n(mid_y)})">{escape(y_label)}</text>'
    )
    # Unflagged first, so flagged points are drawn on top.
    for point in sorted(points, key=lambda p: p.flagged):
        if point.x is None or point.y is None:
            continue
        cx, cy = px(point.x), py(point.y)
        tip = point.detail or f"{point.label}: ({point.x:.1f}, {point.y:.1f})"
        radius = 3.5 + 5.0 * _clip(point.size, 0.0, 1.0)
        if point.flagged:
            mark = (
                f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(radius + 1)}" fill="{BAD}" '
                f'stroke="#fff" stroke-width="1.5"/>'
            )
            cls = "point-label flagged"
        else:
            mark = (
                f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(radius)}" fill="{ACCENT}" '
                f'fill-opacity=".8"/>'
            )
            cls = "point-label"
        anchor = "end" if cx > x1 - 30 else "start"
        dx = -(radius + 4) if anchor == "end" else radius + 4
        body.append(
            f'<g class="point"><title>{escape(tip)}</title>{mark}'
            + _text(cx + dx, cy + 4, point.label, cls=cls, anchor=anchor)
            + "</g>"
        )
    return _svg(chart_id, title, description, box.height, body)


@dataclass(frozen=True)
class OptionBar:
    """One option of a question: how many chose it, and what it is."""

    label: str
    count: int
    is_correct: bool
    flagged: bool = False


def option_bars(
    *, chart_id: str, title: str, description: str, options: Sequence[OptionBar], total: int
) -> SafeString:
    """How many attempts chose each option, out of `total`; the right options in green
    (marked ✓), a distractor that attracts strong learners in amber (marked !)."""
    maximum = float(max(total, 1))
    box = BarLayout(legend_height=6.0, row_gap=6.0)
    plot_left, plot_right = box.left, WIDTH - box.right
    per_row = box.label_height + box.bar_height + box.bar_gap + box.row_gap
    height = box.legend_height + len(options) * per_row + box.axis_height
    body: list[str] = []
    y = box.legend_height
    for option in options:
        mark = "✓ " if option.is_correct else "! " if option.flagged else ""
        colour = OK if option.is_correct else WARN if option.flagged else PRE
        label = mark + option.label
        share = 100.0 * option.count / total if total else 0.0
        counted = f"{option.count} ({share:.0f}%)"
        body.append(_text(plot_left, y + 13, _short(label), cls="label"))
        end = scale(float(option.count), (0.0, maximum), (plot_left, plot_right))
        bar_y = y + box.label_height
        body.append(_rect(plot_left, bar_y, end - plot_left, box.bar_height, colour))
        body.append(_text(end + 5, bar_y + 11.5, counted, cls="value"))
        y += per_row
    body.append(
        f'<line x1="{_n(plot_left)}" y1="{_n(y)}" x2="{_n(plot_right)}" y2="{_n(y)}" '
        f'stroke="{LINE}"/>'
    )
    body.append(_text(plot_left, y + 15, "0", cls="tick"))
    body.append(_text(plot_right, y + 15, f"{total} attempts", cls="tick", anchor="end"))
    return _svg(chart_id, title, description, height, body)
