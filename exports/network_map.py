"""The partnership map: a static, accessible SVG drawn by placevoice (no JavaScript).

Nodes are organisations, coloured by kind from the Okabe-Ito palette (safe for colour
blindness) and labelled with their code; organisations that did not respond are drawn
hollow with a dashed outline. Ties are arrows; between two waves, new ties are thick
black, kept ties grey and lost ties dashed vermilion, so line style alone tells them
apart. The SVG carries a ``<title>`` and ``<desc>``; the pages put the data table
beside it as the text alternative.
"""

from __future__ import annotations

from collections.abc import Mapping
from xml.sax.saxutils import escape

import pandas as pd

__all__ = ["CHANGE_STYLES", "KIND_COLOURS", "network_svg"]

#: Node fill per organisation kind (Okabe-Ito).
KIND_COLOURS = {
    "school": "#0072B2",
    "early_years": "#56B4E9",
    "service": "#009E73",
    "health": "#CC79A7",
    "voluntary": "#E69F00",
    "residents": "#F0E442",
    "other": "#999999",
}
#: Tie stroke, width and dash per change between waves.
CHANGE_STYLES = {
    "new": ("#000000", 2.4, ""),
    "kept": ("#8C8C8C", 1.2, ""),
    "lost": ("#D55E00", 1.6, "5 4"),
    "not_comparable": ("#BBBBBB", 1.0, "2 3"),
}
_CHANGE_TEXT = {
    "new": "new tie",
    "kept": "kept tie",
    "lost": "lost tie",
    "not_comparable": "not comparable",
}

_SIZE, _PAD, _LEGEND = 640.0, 36.0, 150.0


def _xy(pos: tuple[float, float]) -> tuple[float, float]:
    usable = _SIZE - 2 * _PAD
    return _PAD + pos[0] * usable, _PAD + (1 - pos[1]) * usable


def network_svg(
    *,
    organisations: pd.DataFrame,
    ties: pd.DataFrame,
    positions: Mapping[str, tuple[float, float]],
    title: str,
    description: str,
    svg_id: str = "network",
) -> str:
    """Draw the network as an SVG document fragment.

    Parameters
    ----------
    organisations : DataFrame
        ``code``, ``kind``, ``responded`` and ``in_degree`` (node size).
    ties : DataFrame
        ``source``, ``target`` and optionally ``change`` (see :data:`CHANGE_STYLES`;
        without it every tie is drawn as kept).
    positions : mapping
        Each code's position in [0, 1] x [0, 1] (:func:`analysis.network.network_layout`).
    title, description : str
        The SVG's accessible name and description.
    svg_id : str
        Prefix of the ids inside the SVG (unique per page).
    """
    width = _SIZE + _LEGEND
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {_SIZE:g}"'
        f' width="{width:g}" height="{_SIZE:g}" role="img" class="network-map"'
        f' aria-labelledby="{svg_id}-title {svg_id}-desc">',
        f'<title id="{svg_id}-title">{escape(title)}</title>',
        f'<desc id="{svg_id}-desc">{escape(description)}</desc>',
        "<defs>",
    ]
    for change, (colour, _, _) in CHANGE_STYLES.items():
        parts.append(
            f'<marker id="{svg_id}-arrow-{change}" viewBox="0 0 10 10" refX="10" refY="5"'
            ' markerWidth="6" markerHeight="6" orient="auto-start-reverse">'
            f'<path d="M 0 0 L 10 5 L 0 10 z" fill="{colour}"/></marker>'
        )
    parts.append("</defs>")
    parts.append(f'<rect x="0" y="0" width="{width:g}" height="{_SIZE:g}" fill="#FFFFFF"/>')
    degree = dict(zip(organisations["code"], organisations["in_degree"], strict=True))
    radius = {code: 5.0 + min(float(d), 20.0) * 0.6 for code, d in degree.items()}
    changes = ties["change"] if "change" in ties.columns else ["kept"] * len(ties)
    parts.append('<g class="ties">')
    order = {"not_comparable": 0, "kept": 1, "lost": 2, "new": 3}
    drawn = sorted(
        zip(ties["source"], ties["target"], changes, strict=True), key=lambda t: order[t[2]]
    )
    for source, target, change in drawn:
        if source not in positions or target not in positions:
            continue
        (x1, y1), (x2, y2) = _xy(positions[source]), _xy(positions[target])
        length = max(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5, 1e-6)
        trim = radius.get(target, 5.0) + 1.5
        x2, y2 = x2 - (x2 - x1) * trim / length, y2 - (y2 - y1) * trim / length
        colour, stroke, dash = CHANGE_STYLES[change]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}"'
            f' stroke-width="{stroke}"{dash_attr} marker-end="url(#{svg_id}-arrow-{change})"/>'
        )
    parts.append("</g>")
    parts.append('<g class="organisations" font-family="sans-serif" font-size="10">')
    for row in organisations.itertuples(index=False):
        code = str(row.code)
        if code not in positions:
            continue
        x, y = _xy(positions[code])
        colour = KIND_COLOURS.get(str(row.kind), KIND_COLOURS["other"])
        r = radius[code]
        if row.responded:
            style = f'fill="{colour}" stroke="#000000" stroke-width="1"'
        else:
            style = f'fill="#FFFFFF" stroke="{colour}" stroke-width="2" stroke-dasharray="3 2"'
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" {style}/>')
        label = escape(str(row.code))
        parts.append(
            f'<text x="{x + r + 2:.1f}" y="{y + 3:.1f}" fill="#000000" stroke="#FFFFFF"'
            f' stroke-width="3" paint-order="stroke">{label}</text>'
        )
    parts.append("</g>")
    parts.extend(_legend(organisations, set(changes)))
    parts.append("</svg>")
    return "\n".join(parts)


def _legend(organisations: pd.DataFrame, changes: set[str]) -> list[str]:
    x = _SIZE + 8
    parts = [
        '<g class="legend" font-family="sans-serif" font-size="11"'
        f' transform="translate({x:g} 20)">'
    ]
    y = 0.0
    parts.append(f'<text x="0" y="{y:g}" font-weight="bold" fill="#000000">Kind</text>')
    for kind in [k for k in KIND_COLOURS if k in set(organisations["kind"])]:
        y += 18
        parts.append(
            f'<circle cx="6" cy="{y - 4:g}" r="6" fill="{KIND_COLOURS[kind]}" stroke="#000000"/>'
            f'<text x="18" y="{y:g}" fill="#000000">{escape(kind.replace("_", " "))}</text>'
        )
    y += 18
    parts.append(
        f'<circle cx="6" cy="{y - 4:g}" r="6" fill="#FFFFFF" stroke="#555555"'
        ' stroke-width="2" stroke-dasharray="3 2"/>'
        f'<text x="18" y="{y:g}" fill="#000000">did not respond</text>'
    )
    if changes - {"kept"}:
        y += 30
        parts.append(f'<text x="0" y="{y:g}" font-weight="bold" fill="#000000">Ties</text>')
        for change in ("new", "kept", "lost", "not_comparable"):
            if change not in changes:
                continue
            colour, stroke, dash = CHANGE_STYLES[change]
            y += 18
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(
                f'<line x1="0" y1="{y - 4:g}" x2="14" y2="{y - 4:g}" stroke="{colour}"'
                f' stroke-width="{stroke}"{dash_attr}/>'
                f'<text x="18" y="{y:g}" fill="#000000">{_CHANGE_TEXT[change]}</text>'
            )
    parts.append("</g>")
    return parts
