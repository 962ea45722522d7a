"""Neighbourhood maps: each area's result as a choropleth, drawn as static SVG.

No tiles and no network: the map is drawn from the area boundaries the community
uploaded (:mod:`surveys.services.boundaries`), projected to a plane. Longitude/latitude
is projected equirectangularly with the longitudes scaled by cos(latitude) at the map's
middle (true to a few parts in a thousand over a town); British National Grid metres are
already a plane. North is up.

Colours are ColorBrewer's five-class YlGnBu, a sequential palette that stays readable
with colour-blindness and in greyscale, in fixed 20-point bands so maps can be compared.
A hidden result (``[c]``) is hatched, an area without a figure dotted; every map has a
``<title>``, a ``<desc>`` listing each area's figure, a legend, and a data table beside
it on the page (the same values, in the page's HTML).

The values come from the whole-community report context (:mod:`exports.packdata.areas`):
the same figures, already suppressed, that its side-by-side table shows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from itertools import pairwise
from typing import Any

from analysis.suppression import SUPPRESSED_MARKER
from exports.packdata.cells import Context, domain_score

__all__ = [
    "BANDS",
    "PALETTE",
    "MapValue",
    "area_map_values",
    "attach_maps",
    "choropleth_svg",
    "map_choices",
    "project",
]

#: ColorBrewer YlGnBu, 5 classes (colour-blind safe, sequential, light = low).
PALETTE = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
#: The percentage bands of the five colours.
BANDS = ((0, 20), (20, 40), (40, 60), (60, 80), (80, 100))

Point = tuple[float, float]


@dataclass(frozen=True)
class MapValue:
    """One area's figure on a map: its display text and number (None when not shown)."""

    name: str
    text: str
    number: float | None

    @property
    def suppressed(self) -> bool:
        return self.text == SUPPRESSED_MARKER


def _rings(geometry: Mapping[str, Any]) -> list[list[list[float]]]:
    coords = geometry.get("coordinates") or []
    polygons = [coords] if geometry.get("type") == "Polygon" else coords
    return [ring for polygon in polygons for ring in polygon]


def project(
    shapes: Mapping[str, Mapping[str, Any]], *, width: float, pad: float = 4
) -> tuple[dict[str, list[list[Point]]], float]:
    """Area code -> rings in SVG coordinates fitted to ``width``, and the height needed."""
    rings = {code: _rings(geometry) for code, geometry in shapes.items()}
    points = [p for rs in rings.values() for r in rs for p in r]
    if not points:
        return {}, 0.0
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    lonlat = all(-180 <= x <= 180 and -90 <= y <= 90 for x, y in zip(xs, ys, strict=True))
    kx = math.cos(math.radians((min(ys) + max(ys)) / 2)) if lonlat else 1.0
    left, top = min(xs) * kx, max(ys)
    span_x = max(max(xs) * kx - left, 1e-9)
    span_y = max(top - min(ys), 1e-9)
    scale = (width - 2 * pad) / span_x
    height = span_y * scale + 2 * pad
    out: dict[str, list[list[Point]]] = {}
    for code, area_rings in rings.items():
        drawn = []
        for ring in area_rings:
            path = [(pad + (x * kx - left) * scale, pad + (top - y) * scale) for x, y, *_ in ring]
            drawn.append(_thin(path, 0.4))
        out[code] = drawn
    return out, height


def _thin(path: Sequence[Point], tolerance: float) -> list[Point]:
    """Drop points closer than ``tolerance`` (SVG units) to the last kept one."""
    kept = [path[0]]
    for x, y in path[1:-1]:
        if abs(x - kept[-1][0]) + abs(y - kept[-1][1]) >= tolerance:
            kept.append((x, y))
    kept.append(path[-1])
    return kept


def _d(rings: Iterable[Sequence[Point]]) -> str:
    return " ".join(
        "M" + " L".join(f"{x:.1f} {y:.1f}" for x, y in ring[:-1]) + " Z" for ring in rings
    )


def _centre(rings: Sequence[Sequence[Point]]) -> Point:
    """The area-weighted centroid of the largest ring (where the label goes)."""
    ring = max(rings, key=lambda r: abs(_area(r)))
    area = _area(ring)
    if abs(area) < 1e-9:
        return ring[0]
    cx = cy = 0.0
    for (x1, y1), (x2, y2) in pairwise(ring):
        cross = x1 * y2 - x2 * y1
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    return cx / (6 * area), cy / (6 * area)


def _area(ring: Sequence[Point]) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in pairwise(ring)) / 2


def _fill(value: MapValue | None) -> str:
    if value is None or value.number is None:
        return "url(#pv-hatch)" if value is not None and value.suppressed else "url(#pv-dots)"
    band = min(int(value.number // 20), 4)
    return PALETTE[max(band, 0)]


_DEFS = (
    "<defs>"
    '<pattern id="pv-hatch" width="6" height="6" patternUnits="userSpaceOnUse"'
    ' patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
    '<line x1="0" y1="0" x2="0" y2="6" stroke="#555555" stroke-width="2"/></pattern>'
    '<pattern id="pv-dots" width="6" height="6" patternUnits="userSpaceOnUse">'
    '<rect width="6" height="6" fill="#ffffff"/>'
    '<circle cx="3" cy="3" r="0.9" fill="#767676"/></pattern>'
    "</defs>"
)


def choropleth_svg(
    shapes: Mapping[str, Mapping[str, Any]],
    values: Mapping[str, MapValue],
    *,
    title: str,
    width: float = 320,
    highlight: str | None = None,
    ident: str = "map",
    legend: bool = True,
) -> str:
    """A choropleth of ``values`` over ``shapes`` with its legend, as one SVG element.

    Areas are labelled by name (white halo behind dark text); ``highlight`` draws one
    area's border heavier (the area a neighbourhood report is about).
    """
    projected, map_height = project(shapes, width=width)
    legend_top = map_height + 8
    height = legend_top + 48 if legend else map_height
    label_size = max(9.0, width / 36)
    desc = "; ".join(
        f"{v.name}: {v.text or 'no figure'}" for code, v in values.items() if code in projected
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="map" role="img" width="{width:.0f}"'
        f' height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}"'
        f' aria-labelledby="{ident}-t {ident}-d" font-family="Liberation Sans, Arial, sans-serif">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(desc)}</desc>',
        _DEFS.replace("pv-", f"{ident}-"),
    ]
    labels: list[str] = []
    for code, rings in projected.items():
        value = values.get(code)
        fill = _fill(value).replace("#pv-", f"#{ident}-")
        heavy = code == highlight
        parts.append(
            f'<path d="{_d(rings)}" fill="{fill}" fill-rule="evenodd"'
            f' stroke="{"#000000" if heavy else "#333333"}"'
            f' stroke-width="{2.5 if heavy else 0.8}" stroke-linejoin="round"/>'
        )
        x, y = _centre(rings)
        name = escape(value.name if value else code)
        labels.extend(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{label_size:.0f}"'
            f' text-anchor="middle" {paint}>'
            f"{name}</text>"
            for paint in ('stroke="#ffffff" stroke-width="3" fill="#ffffff"', 'fill="#1a1a1a"')
        )
    parts += labels
    if legend:
        parts.append(_legend(legend_top, width, ident))
    parts.append("</svg>")
    return "".join(parts)


def _legend(top: float, width: float, ident: str) -> str:
    """Five colour bands in one row; hidden and no-figure keys in a second."""
    box = (width - 8) / 5
    out = [f'<g class="legend" font-size="8" fill="#1a1a1a" transform="translate(4 {top:.0f})">']
    keys = [
        (colour, f"{lo}–{hi - 1 if hi < 100 else 100}%", i * box, 0)
        for i, (colour, (lo, hi)) in enumerate(zip(PALETTE, BANDS, strict=True))
    ]
    keys += [
        (f"url(#{ident}-hatch)", "[c] hidden", 0, 30),
        (f"url(#{ident}-dots)", "no figure", 2 * box, 30),
    ]
    for fill, text, x, y in keys:
        beside = y > 0
        out.append(
            f'<rect x="{x:.1f}" y="{y}" width="{(18 if beside else box - 4):.1f}" height="12"'
            f' fill="{fill}" stroke="#333333" stroke-width="0.6"/>'
            f'<text x="{x + (22 if beside else 0):.1f}" y="{y + (9 if beside else 22)}">'
            f"{escape(text)}</text>"
        )
    out.append("</g>")
    return "".join(out)


def _entries_by_site(community: Context) -> dict[str, dict[str, Context]]:
    """Item -> area code -> that area's entry in the whole-community comparison."""
    out: dict[str, dict[str, Context]] = {}
    for domain in community["domains"]:
        for row in domain["items"]:
            out[row["item"]] = {a["site"]: a for a in row.get("areas", []) if "site" in a}
    return out


def map_choices(community: Context) -> list[tuple[str, str]]:
    """What can be mapped: ``domain:KEY`` (domain score) then ``item:NAME``, with titles."""
    choices = [
        (f"domain:{d['key']}", f"{d['title']}: average of its questions")
        for d in community["domains"]
    ]
    choices += [(f"item:{r['item']}", r["label"]) for d in community["domains"] for r in d["items"]]
    return choices


def area_map_values(community: Context, choice: str) -> dict[str, MapValue]:
    """Area code -> its figure for a :func:`map_choices` key, as the report shows it.

    An item's figure is the area's entry in the report's side-by-side table; a domain's
    is the pack's domain score (:func:`exports.packdata.cells.domain_score`) of those
    entries: hidden when any of its questions is hidden.
    """
    kind, _, key = choice.partition(":")
    entries = _entries_by_site(community)
    if kind == "item":
        return {
            site: MapValue(str(e["area"]), str(e["pct"]), e["chart"]["pct"] if e["chart"] else None)
            for site, e in entries.get(key, {}).items()
        }
    domain = next((d for d in community["domains"] if d["key"] == key), None)
    if domain is None:
        return {}
    names = [r["item"] for r in domain["items"]]
    sites = list(dict.fromkeys(s for n in names for s in entries.get(n, {})))
    out = {}
    for site in sites:
        mine = [entries[n][site] for n in names if site in entries.get(n, {})]
        rows = [
            {
                "suppressed": e["chart"] is None and e["pct"] == SUPPRESSED_MARKER,
                "chart": e["chart"],
            }
            for e in mine
        ]
        text = domain_score(rows)["pct"] if rows else ""
        out[site] = MapValue(str(mine[0]["area"]), text, _number(text))
    return out


def _number(text: str) -> float | None:
    try:
        return float(text.rstrip("%"))
    except ValueError:
        return None


def attach_maps(contexts: list[Context], shapes: Mapping[str, Mapping[str, Any]]) -> None:
    """Give every neighbourhood report a map section: one map per domain's score.

    Needs the whole-community context among ``contexts`` (its comparison table holds
    every area's figures) and at least one boundary; otherwise nothing is added.
    """
    community = next((c for c in contexts if c.get("whole_community")), None)
    if community is None or not shapes:
        return
    maps = []
    for domain in community["domains"]:
        choice = f"domain:{domain['key']}"
        maps.append(
            {
                "key": domain["key"],
                "title": domain["title"],
                "values": area_map_values(community, choice),
            }
        )
    areas = [
        (code, value.name)
        for code, value in (maps[0]["values"] if maps else {}).items()
        if code in shapes
    ]
    for context in contexts:
        if context.get("kind") != "area":
            continue
        highlight = None if context.get("whole_community") else context["site"]
        context["map"] = {
            "maps": [
                {
                    "title": m["title"],
                    "svg": choropleth_svg(
                        shapes,
                        m["values"],
                        title=f"Map: {m['title']}, average % positive by area",
                        width=250,
                        highlight=highlight,
                        ident=f"map-{m['key']}",
                    ),
                }
                for m in maps
            ],
            "columns": [m["title"] for m in maps],
            "rows": [
                {
                    "area": name,
                    "cells": [m["values"].get(code, MapValue(name, "", None)).text for m in maps],
                }
                for code, name in areas
            ],
        }
