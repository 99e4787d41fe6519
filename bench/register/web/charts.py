"""Server-rendered SVG charts for the register's pages and PDFs: no JavaScript, no fonts to fetch.

Every chart is an <svg role="img"> whose <title> and <desc> say what it shows, with one <g class="bar">
per bar holding a <title> ("label: value unit") and the value printed beside the bar, so the numbers
are readable without looking at heights (and by a screen reader). Colours have at least 4.5:1
contrast against white, and stacked series are also told apart by their legend text.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

# Okabe-Ito-derived colours, darkened to 4.5:1 or better against white (colour-blind safe).
PALETTE = ("#005a9c", "#a34700", "#1b7340", "#8a3b8f", "#6b6b00", "#b0003a")
TEXT = "#1a1a1a"
AXIS = "#595959"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _num(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"


def _short(label: str, limit: int = 14) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(
    title: str,
    bars: Sequence[Bar],
    *,
    unit: str = "",
    width: int = 640,
    height: int = 240,
    empty: str = "No data for this period.",
) -> str:
    """Vertical bars, one per label, each with its value printed above it."""
    top, bottom, left, right = 28, 44, 12, 12
    plot_h = height - top - bottom
    peak = max((b.value for b in bars), default=0.0)
    head = _head(title, _summary(bars, unit) if bars else empty, width, height)
    if not bars or peak <= 0:
        return head + f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle">{_e(empty)}</text></svg>'
    slot = (width - left - right) / len(bars)
    bar_w = max(2.0, slot * 0.7)
    parts = [head, f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="{AXIS}"/>']
    for i, b in enumerate(bars):
        h = plot_h * (max(b.value, 0.0) / peak)
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h - h
        cx = x + bar_w / 2
        parts.append(
            f'<g class="bar" data-label="{_e(b.label)}" data-value="{b.value:g}">'
            f"<title>{_e(b.label)}: {_num(b.value)}{(' ' + _e(unit)) if unit else ''}</title>"
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{PALETTE[0]}"/>'
            f'<text class="value" x="{cx:.1f}" y="{y - 4:.1f}" text-anchor="middle">{_num(b.value)}</text>'
            f'<text class="label" x="{cx:.1f}" y="{top + plot_h + 16}" text-anchor="middle">'
            f"{_e(_short(b.label))}</text>"
            "</g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def stacked_bar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    width: int = 640,
    height: int | None = None,
    empty: str = "No data for this period.",
) -> str:
    """Horizontal stacked bars: one row per category, one segment per series, totals at the right.
    Without a height, each row gets 30 px (so one batch is one bar, not a wall of colour)."""
    if any(len(s.values) != len(categories) for s in series):
        raise ValueError("every series needs one value per category")
    legend_h, left, right, row_gap = 24, 110, 60, 6
    height = height or legend_h + 8 + 30 * max(len(categories), 2)
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    peak = max(totals, default=0.0)
    desc = (
        "; ".join(
            f"{c}: " + ", ".join(f"{s.name} {_num(s.values[i])}" for s in series) for i, c in enumerate(categories)
        )
        if categories
        else empty
    )
    head = _head(title, desc, width, height)
    if not categories or peak <= 0:
        return head + f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle">{_e(empty)}</text></svg>'
    parts = [head]
    x = left
    for k, s in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        parts.append(
            f'<g class="legend"><rect x="{x}" y="4" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="15">{_e(s.name)}</text></g>'
        )
        x += 16 + 8 * len(s.name) + 20
    row_h = (height - legend_h - 8) / len(categories)
    bar_h = max(4.0, row_h - row_gap)
    scale = (width - left - right) / peak
    for i, cat in enumerate(categories):
        y = legend_h + 8 + i * row_h
        parts.append(
            f'<g class="row" data-label="{_e(cat)}" data-total="{totals[i]:g}">'
            f'<text class="label" x="{left - 6}" y="{y + bar_h / 2 + 4:.1f}" text-anchor="end">{_e(_short(cat))}</text>'
        )
        x0 = float(left)
        for k, s in enumerate(series):
            v = max(s.values[i], 0.0)
            w = v * scale
            parts.append(
                f'<g class="segment" data-series="{_e(s.name)}" data-value="{v:g}">'
                f"<title>{_e(cat)}, {_e(s.name)}: {_num(v)}</title>"
                f'<rect x="{x0:.1f}" y="{y:.1f}" width="{w:.1f}" height="{bar_h:.1f}" '
                f'fill="{PALETTE[k % len(PALETTE)]}"/></g>'
            )
            x0 += w
        parts.append(f'<text class="value" x="{x0 + 4:.1f}" y="{y + bar_h / 2 + 4:.1f}">{_num(totals[i])}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _head(title: str, desc: str, width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-family="DejaVu Sans, sans-serif" font-size="11" fill="{TEXT}" '
        f'aria-label="{_e(title)}"><title>{_e(title)}</title><desc>{_e(desc)}</desc>'
    )


def _summary(bars: Sequence[Bar], unit: str) -> str:
    u = f" {unit}" if unit else ""
    return "; ".join(f"{b.label}: {_num(b.value)}{u}" for b in bars)


# The three pictures the pages show.


def throughput_per_day(days: Sequence[tuple[str, int]]) -> str:
    """Wipes completed per day (ISO date, count), oldest first."""
    return bar_chart("Wipes completed per day", [Bar(d[5:] if len(d) == 10 else d, n) for d, n in days], unit="wipes")


def outcomes_per_batch(rows: Sequence[tuple[str, int, int, int]]) -> str:
    """Per batch (reference, wiped, failed, missing)."""
    return stacked_bar_chart(
        "Outcomes per batch",
        [r[0] for r in rows],
        [
            Series("wiped", tuple(float(r[1]) for r in rows)),
            Series("failed", tuple(float(r[2]) for r in rows)),
            Series("missing", tuple(float(r[3]) for r in rows)),
        ],
    )


def impact_per_donor(rows: Sequence[tuple[str, float]]) -> str:
    """Per donor (name, estimated kgCO2e of manufacturing avoided by reuse)."""
    return bar_chart(
        "Estimated embodied carbon of reused devices, per donor", [Bar(n, v) for n, v in rows], unit="kgCO2e"
    )
