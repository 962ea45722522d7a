"""Crisp SVG charts from string templates (no plotting library: a few microseconds a row).

Item charts are dot-and-whisker rows drawn inside the results table, one small SVG per
row beside the question and its figures (a forest plot), so every mark sits next to the
numbers it shows: the table is the chart's text alternative. The SVGs hold no text
(labels are HTML, which keeps them searchable and cheap to lay out). Every chart reads
in greyscale and without colour vision: this site is a filled circle with a solid line
for its 95% confidence interval, the benchmark an open diamond, and a significant
difference is written out as "▲ Higher" or "▼ Lower" in the row. A suppressed row shows
``[c]`` and no marks.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

__all__ = ["FLAG_TEXT", "mark_svg", "row_chart", "wrap"]

#: What a flag looks like in charts and tables (a symbol and a word, never colour alone).
FLAG_TEXT: Mapping[str, str] = {
    "higher": "▲ Higher",
    "lower": "▼ Lower",
    "improved": "▲ Improved",
    "declined": "▼ Declined",
}

#: Okabe-Ito colours (distinct with every common colour-vision deficiency), darkened for
#: print contrast; each mark also has its own shape.
SCHOOL = "#1b4f8a"
BENCH = "#a8500b"
SIMILAR = "#00735c"
GRID = "#b8b8b8"
INK = "#1a1a1a"

#: Row chart size (user units; the pack's CSS scales it to its column).
_RW = 200
_H = 16
_PAD = 5


def wrap(text: str, width: int = 44, lines: int = 3) -> list[str]:
    """Greedy word wrap to at most ``lines`` lines (the last one ends with … if cut).

    >>> wrap("How safe do you feel on your way to and from school?", 20)
    ['How safe do you feel', 'on your way to and', 'from school?']
    """
    out: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if len(candidate) <= width or not current:
            current = candidate
        else:
            out.append(current)
            current = word
    if current:
        out.append(current)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: width - 1].rstrip() + "…"
    return out


def _rx(pct: float) -> float:
    return _PAD + (_RW - 2 * _PAD) * max(0.0, min(100.0, pct)) / 100.0


def _diamond(x: float, y: float, r: float = 5.5) -> str:
    return (
        f'<path d="M{x:.1f} {y - r:.1f}L{x + r:.1f} {y:.1f}L{x:.1f} {y + r:.1f}'
        f'L{x - r:.1f} {y:.1f}Z" fill="#fff" stroke="{BENCH}" stroke-width="1.8"/>'
    )


def _similar_bar(x: float, y: float) -> str:
    return f'<path d="M{x:.1f} {y - 7:.1f}V{y + 7:.1f}" stroke="{SIMILAR}" stroke-width="2.6"/>'


def row_chart(chart: Mapping[str, Any] | None, *, label: str = "") -> str:
    """One row of a dot-and-whisker chart, drawn without text (the table row holds it).

    ``chart`` has ``pct``, ``low``, ``high`` (this site, 95% CI), ``bench`` (or None)
    and optionally ``similar`` (similar schools, drawn as an upright bar).
    Gridlines mark 0, 25, 50, 75 and 100%. Returns "" for a suppressed row.
    """
    if not chart or chart.get("pct") is None:
        return ""
    mid = _H / 2
    grid = "".join(f"M{_rx(t):.1f} 0V{_H}" for t in (0, 25, 50, 75, 100))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_RW} {_H}" width="{_RW}" '
        f'height="{_H}" role="img" aria-label="{escape(label)}">',
        f'<path d="{grid}" stroke="{GRID}" stroke-width="0.6" stroke-dasharray="1.5 1.5"/>',
    ]
    low, high = chart.get("low"), chart.get("high")
    if low is not None and high is not None:
        x0, x1 = _rx(low), _rx(high)
        parts.append(
            f'<path d="M{x0:.1f} {mid}H{x1:.1f}M{x0:.1f} {mid - 3.5}V{mid + 3.5}'
            f'M{x1:.1f} {mid - 3.5}V{mid + 3.5}" stroke="{SCHOOL}" stroke-width="1.6" fill="none"/>'
        )
    if chart.get("similar") is not None:
        parts.append(_similar_bar(_rx(chart["similar"]), mid))
    if chart.get("bench") is not None:
        parts.append(_diamond(_rx(chart["bench"]), mid, 4.2))
    parts.append(
        f'<circle cx="{_rx(chart["pct"]):.1f}" cy="{mid}" r="3.6" fill="{SCHOOL}" '
        'stroke="#fff" stroke-width="0.7"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def mark_svg(kind: str) -> str:
    """A legend mark: ``school`` (dot with CI line), ``benchmark`` (open diamond) or
    ``similar`` (upright bar)."""
    head = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 30 14" width="30" height="14" '
        'aria-hidden="true">'
    )
    if kind == "similar":
        body = _similar_bar(15, 7)
    elif kind == "school":
        body = (
            f'<path d="M2 7H28M2 3.5V10.5M28 3.5V10.5" stroke="{SCHOOL}" stroke-width="1.6"/>'
            f'<circle cx="15" cy="7" r="3.6" fill="{SCHOOL}"/>'
        )
    else:
        body = _diamond(15, 7, 4.2)
    return head + body + "</svg>"
