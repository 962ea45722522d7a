"""The explorer's chart: a dot chart of an :class:`exports.explore.ExplorerTable`, as SVG or PNG.

One row per question: its label above a 0-100% scale with one marker per series (this
school and the benchmark, or one per group). Series differ by marker shape as well as by
colour (Okabe-Ito, safe with colour-blindness), so the chart reads in greyscale. A hidden
cell draws no marker and says ``[c]``. The SVG is self-contained (title, description,
legend, text), so the downloaded file means the same as the page.

The PNG is drawn without a browser: WeasyPrint (already used for packs) lays the SVG out
as a one-page PDF of the chart's size and pypdfium2 rasterises it.
"""

from __future__ import annotations

import io
from html import escape

from exports.explore import ExplorerTable

__all__ = ["COLOURS", "chart_png", "chart_svg"]

#: Okabe-Ito colours, one a series.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
WIDTH = 360
LEFT, RIGHT = 8, 352
ROW = 36
TOP = 30
MAX_LABEL = 58


def _x(value: float) -> float:
    return LEFT + (RIGHT - LEFT) * max(0.0, min(value, 100.0)) / 100


def _marker(index: int, x: float, y: float) -> str:
    colour = COLOURS[index % len(COLOURS)]
    shape = index % 5
    if shape == 0:
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{colour}"/>'
    if shape == 1:
        return (
            f'<path d="M{x:.1f} {y - 5.5:.1f} L{x + 5.5:.1f} {y:.1f} L{x:.1f} {y + 5.5:.1f}'
            f' L{x - 5.5:.1f} {y:.1f} Z" fill="#ffffff" stroke="{colour}" stroke-width="2"/>'
        )
    if shape == 2:
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    if shape == 3:
        return (
            f'<path d="M{x:.1f} {y - 5:.1f} L{x + 5:.1f} {y + 4:.1f} L{x - 5:.1f} {y + 4:.1f} Z"'
            f' fill="{colour}"/>'
        )
    return (
        f'<path d="M{x - 4:.1f} {y - 4:.1f} L{x + 4:.1f} {y + 4:.1f} M{x + 4:.1f} {y - 4:.1f}'
        f' L{x - 4:.1f} {y + 4:.1f}" stroke="{colour}" stroke-width="2.5"/>'
    )


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1].rstrip() + "…"


def chart_svg(table: ExplorerTable, *, ident: str = "chart") -> str:
    """The table's chart as one standalone SVG element (scales with its container)."""
    legend_rows = (len(table.series) + 2) // 3
    top = TOP + 16 * legend_rows
    height = top + ROW * len(table.rows) + 18
    desc = []
    for i, row in enumerate(table.rows):
        figures = ", ".join(
            f"{s.name} {v[0]:.0f}%" if (v := s.values[i]) else f"{s.name} [c]" for s in table.series
        )
        desc.append(f"{row['label']}: {figures}")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="explorer-chart" role="img"'
        f' viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}"'
        f' aria-labelledby="{ident}-t {ident}-d"'
        ' font-family="Liberation Sans, Arial, sans-serif" font-size="10.5" fill="#1a1a1a">',
        f'<title id="{ident}-t">{escape(table.title)}: percentage positive</title>',
        f'<desc id="{ident}-d">{escape("; ".join(desc))}</desc>',
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="14" font-weight="bold">{escape(_short(table.title))}</text>',
    ]
    for i, s in enumerate(table.series):
        x = LEFT + 6 + (i % 3) * 116
        y = TOP - 4 + 16 * (i // 3)
        parts.append(_marker(i, x, y))
        parts.append(f'<text x="{x + 10}" y="{y + 4}">{escape(_short(s.name)[:22])}</text>')
    grid = "".join(
        f'<line x1="{_x(v):.1f}" y1="{top - 4}" x2="{_x(v):.1f}" y2="{height - 16}"'
        ' stroke="#bbbbbb" stroke-width="0.6"/>'
        f'<text x="{_x(v):.1f}" y="{height - 4}" text-anchor="{anchor}" font-size="9">{v}%</text>'
        for v, anchor in (
            (0, "start"),
            (25, "middle"),
            (50, "middle"),
            (75, "middle"),
            (100, "end"),
        )
    )
    parts.append(grid)
    for i, row in enumerate(table.rows):
        y = top + ROW * i
        parts.append(f'<text x="{LEFT}" y="{y + 10}">{escape(_short(row["label"]))}</text>')
        dot_y = y + 24
        hidden = True
        for j, s in enumerate(table.series):
            value = s.values[i]
            if value is None:
                continue
            hidden = False
            pct, low, high = value
            if low is not None and high is not None:
                parts.append(
                    f'<line x1="{_x(low):.1f}" y1="{dot_y}" x2="{_x(high):.1f}" y2="{dot_y}"'
                    f' stroke="{COLOURS[j % len(COLOURS)]}" stroke-width="1.6"/>'
                )
            parts.append(_marker(j, _x(pct), dot_y))
        if hidden:
            parts.append(f'<text x="{RIGHT}" y="{dot_y + 4}" text-anchor="end">[c]</text>')
    parts.append("</svg>")
    return "".join(parts)


def chart_png(svg: str, *, scale: float = 2.0) -> bytes:
    """A PNG of an SVG chart, drawn by WeasyPrint and pypdfium2 (no browser)."""
    import re

    import pypdfium2
    from weasyprint import HTML

    size = re.search(r'width="([\d.]+)" height="([\d.]+)"', svg)
    width, height = (float(size.group(1)), float(size.group(2))) if size else (360.0, 360.0)
    html = (
        f"<style>@page {{ size: {width}px {height}px; margin: 0 }}"
        " body { margin: 0 } svg { display: block }</style>" + svg
    )
    pdf = HTML(string=html).write_pdf()
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=scale * 96 / 72).to_pil()
    finally:
        document.close()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
