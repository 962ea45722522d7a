"""Area boundaries from a GeoJSON file: check every feature, match it to an area, store.

A community uploads the boundaries of its areas (LSOAs, wards, its own neighbourhoods) as
a GeoJSON FeatureCollection. One property of each feature names the area it belongs to,
by the area's code (``site_id``) or name; several features of one area (the LSOAs that
make up a neighbourhood) are joined into one MultiPolygon. Features naming no area are
skipped and listed, so a whole borough's LSOA file can be used as it is.

:func:`read_boundaries` is the dry run: it checks everything and names every problem
(feature number, its identifier, what is wrong). :func:`store_boundaries` replaces the
community's boundaries with the preview's, only when it has no problems.
Coordinates are longitude/latitude (WGS84, as GeoJSON prescribes) or British National
Grid metres (EPSG:27700, as ONS boundary files often come); maps tell them apart.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from surveys.models import AreaBoundary, Site

__all__ = [
    "MATCH_PROPERTIES",
    "BoundaryError",
    "BoundaryPreview",
    "load_boundaries",
    "read_boundaries",
    "store_boundaries",
    "synthetic_boundaries",
]

#: Properties tried, in order, when no matching property is named.
MATCH_PROPERTIES = ("site_id", "site", "code", "area", "name")
#: The most features one file may have (an England-wide LSOA file has about 34,000).
MAX_FEATURES = 50_000

Ring = list[list[float]]
Polygon = list[Ring]


class BoundaryError(ValueError):
    """A boundary file that cannot be used; the message says what and where."""


@dataclass
class BoundaryPreview:
    """What a boundary file would store: area code -> polygons, and every problem."""

    #: The feature property that named each feature's area.
    matched_by: str = ""
    #: Area code -> its polygons (each a list of rings), joined over its features.
    areas: dict[str, list[Polygon]] = field(default_factory=dict)
    #: Area code -> the matched features' identifiers (the property's values).
    sources: dict[str, list[str]] = field(default_factory=dict)
    #: Features naming no area: "feature 4 (E01000004)".
    skipped: list[str] = field(default_factory=list)
    #: Areas of the community with no boundary in the file.
    missing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file has no problem and matched at least one area."""
        return not self.problems and bool(self.areas)


def _load(data: bytes | str, source: str) -> dict[str, Any]:
    try:
        document = json.loads(data.decode("utf-8-sig") if isinstance(data, bytes) else data)
    except UnicodeDecodeError:
        raise BoundaryError(f"{source}: the file is not UTF-8 text") from None
    except json.JSONDecodeError as err:
        raise BoundaryError(
            f"{source}: not valid GeoJSON: line {err.lineno}, column {err.colno}: {err.msg}"
        ) from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise BoundaryError(f"{source}: the file must be a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list) or not features:
        raise BoundaryError(f"{source}: the FeatureCollection has no features")
    if len(features) > MAX_FEATURES:
        raise BoundaryError(f"{source}: more than {MAX_FEATURES:,} features")
    return document


def _position(value: object) -> list[float] | None:
    if not isinstance(value, list) or len(value) < 2:
        return None
    x, y = value[0], value[1]
    if isinstance(x, bool) or isinstance(y, bool):
        return None
    if not isinstance(x, int | float) or not isinstance(y, int | float):
        return None
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    return [float(x), float(y)]


def _ring(value: object, where: str) -> Ring:
    if not isinstance(value, list):
        raise BoundaryError(f"{where} is not a list of points")
    points = []
    for number, raw in enumerate(value, start=1):
        point = _position(raw)
        if point is None:
            raise BoundaryError(f"{where}, point {number} is not a pair of numbers")
        points.append(point)
    if len(points) < 4:
        raise BoundaryError(f"{where} has {len(points)} points; a ring needs at least 4")
    if points[0] != points[-1]:
        raise BoundaryError(f"{where} is not closed (its first and last points differ)")
    if len({(x, y) for x, y in points}) < 3:
        raise BoundaryError(f"{where} has no area (fewer than 3 distinct points)")
    return points


def _polygons(geometry: object) -> list[Polygon]:
    """The polygons of a Polygon or MultiPolygon geometry; BoundaryError if malformed."""
    if not isinstance(geometry, dict):
        raise BoundaryError("it has no geometry")
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "Polygon":
        parts = [coords]
    elif kind == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            raise BoundaryError("its MultiPolygon has no polygons")
        parts = coords
    else:
        raise BoundaryError(f"its geometry is a {kind or 'missing type'}, not a Polygon")
    polygons = []
    for p, rings in enumerate(parts, start=1):
        if not isinstance(rings, list) or not rings:
            raise BoundaryError(f"polygon {p} has no rings")
        polygons.append([_ring(r, f"polygon {p}, ring {i}") for i, r in enumerate(rings, start=1)])
    return polygons


def _kind_of(polygons: Iterable[Polygon]) -> str:
    """'lonlat' when every coordinate fits longitude/latitude, else 'grid' (metres)."""
    lonlat = all(
        -180 <= x <= 180 and -90 <= y <= 90 for poly in polygons for ring in poly for x, y in ring
    )
    return "lonlat" if lonlat else "grid"


def _choose_property(features: Sequence[Any], keys: Mapping[str, str]) -> str:
    for name in MATCH_PROPERTIES:
        values = [_prop(f, name) for f in features]
        if any(v is not None and v.casefold() in keys for v in values):
            return name
    return ""


def _prop(feature: Any, name: str) -> str | None:
    props = feature.get("properties") if isinstance(feature, dict) else None
    if not isinstance(props, dict) or props.get(name) is None:
        return None
    return str(props[name]).strip()


def read_boundaries(
    session: Session,
    community_id: int,
    data: bytes | str,
    *,
    match: str | None = None,
    source: str = "the file",
) -> BoundaryPreview:
    """Check a GeoJSON file against the community's areas (a dry run; stores nothing).

    Raises
    ------
    BoundaryError
        When the file is not a GeoJSON FeatureCollection at all. Problems with single
        features are collected in the preview's ``problems`` instead.
    """
    document = _load(data, source)
    features = document["features"]
    areas = session.execute(
        select(Site.code, Site.name).where(Site.community_id == community_id, Site.kind == "area")
    ).all()
    if not areas:
        raise BoundaryError("there are no areas yet: add the areas before their boundaries")
    keys: dict[str, str] = {}
    for code, name in areas:
        keys.setdefault(str(name).strip().casefold(), str(code))
    for code, _ in areas:  # codes win over names
        keys[str(code).strip().casefold()] = str(code)
    chosen = match or _choose_property(features, keys)
    preview = BoundaryPreview(matched_by=chosen)
    if not chosen:
        preview.problems.append(
            "no feature property names an area: give the property that holds each feature's"
            f" area code or name (tried {', '.join(MATCH_PROPERTIES)})"
        )
        return preview
    kinds: set[str] = set()
    for number, feature in enumerate(features, start=1):
        value = _prop(feature, chosen)
        label = f"feature {number}" + (f" ({value})" if value else "")
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            preview.problems.append(f"{label}: not a GeoJSON Feature")
            continue
        found = keys.get(value.casefold()) if value else None
        if found is None:
            if value is None:
                preview.skipped.append(f"{label}: no '{chosen}' property")
            else:
                preview.skipped.append(f"{label}: no area called '{value}'")
            continue
        code = found
        try:
            polygons = _polygons(feature.get("geometry"))
        except BoundaryError as err:
            preview.problems.append(f"{label}, area {code}: {err}")
            continue
        kinds.add(_kind_of(polygons))
        preview.areas.setdefault(code, []).extend(polygons)
        preview.sources.setdefault(code, []).append(value or "")
    if len(kinds) > 1:
        preview.problems.append(
            "the features mix longitude/latitude and grid (metre) coordinates: use one"
            " coordinate system for the whole file"
        )
    preview.missing = sorted(str(c) for c, _ in areas if str(c) not in preview.areas)
    if not preview.areas and not preview.problems:
        preview.problems.append(f"no feature's '{chosen}' property names an area of this community")
    return preview


def store_boundaries(session: Session, community_id: int, preview: BoundaryPreview) -> int:
    """Replace the community's area boundaries with the preview's; returns areas stored."""
    if not preview.ok:
        raise BoundaryError("the file has problems; nothing was stored")
    sites = dict(
        session.execute(
            select(Site.code, Site.id).where(Site.community_id == community_id, Site.kind == "area")
        ).all()
    )
    session.execute(delete(AreaBoundary).where(AreaBoundary.site_id.in_(list(sites.values()))))
    for code, polygons in sorted(preview.areas.items()):
        geometry = (
            {"type": "Polygon", "coordinates": polygons[0]}
            if len(polygons) == 1
            else {"type": "MultiPolygon", "coordinates": polygons}
        )
        session.add(
            AreaBoundary(
                site_id=sites[code],
                geometry=geometry,
                source_id=", ".join(preview.sources.get(code, []))[:200],
            )
        )
    session.flush()
    return len(preview.areas)


def load_boundaries(session: Session, community_id: int) -> dict[str, dict[str, Any]]:
    """Area code -> its stored GeoJSON geometry."""
    rows = session.execute(
        select(Site.code, AreaBoundary.geometry)
        .join(AreaBoundary, AreaBoundary.site_id == Site.id)
        .where(Site.community_id == community_id)
    ).all()
    return {str(code): dict(geometry) for code, geometry in rows}


def synthetic_boundaries(
    codes: Sequence[str],
    *,
    seed: int = 0,
    centre: tuple[float, float] = (-0.06, 51.55),
    size_km: float = 1.2,
) -> dict[str, Any]:
    """A FeatureCollection of made-up, neighbouring areas (for the demo and tests).

    The areas tile a rough grid around ``centre`` (longitude, latitude): corners shared
    by neighbours are jittered, and every edge gets a jittered midpoint, so the shapes
    look like neighbourhoods and still share their borders exactly.
    """
    rng = np.random.default_rng(seed)
    n = len(codes)
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))
    dlat = size_km / 111.32
    dlon = size_km / (111.32 * math.cos(math.radians(centre[1])))
    lon0 = centre[0] - cols * dlon / 2
    lat0 = centre[1] - rows * dlat / 2

    def corner(c: int, r: int) -> tuple[float, float]:
        jitter = (
            (0.0, 0.0) if c in (0, cols) and r in (0, rows) else tuple(rng.uniform(-0.2, 0.2, 2))
        )
        return (lon0 + (c + jitter[0]) * dlon, lat0 + (r + jitter[1]) * dlat)

    corners = {(c, r): corner(c, r) for c in range(cols + 1) for r in range(rows + 1)}
    mids: dict[tuple[tuple[int, int], tuple[int, int]], tuple[float, float]] = {}

    def mid(a: tuple[int, int], b: tuple[int, int]) -> tuple[float, float]:
        key = (min(a, b), max(a, b))
        if key not in mids:
            (x1, y1), (x2, y2) = corners[key[0]], corners[key[1]]
            wobble = rng.uniform(-0.15, 0.15)
            mids[key] = ((x1 + x2) / 2 + wobble * dlon * 0.5, (y1 + y2) / 2 + wobble * dlat * 0.5)
        return mids[key]

    features = []
    for index, code in enumerate(codes):
        c, r = index % cols, rows - 1 - index // cols
        # The last row may be short: stretch its last area to the right edge.
        span = cols - c if index == n - 1 else 1
        path = [(c, r)] + [(c + i, r) for i in range(1, span + 1)]
        path += [(c + span, r + 1)] + [(c + span - i, r + 1) for i in range(1, span + 1)]
        ring: list[list[float]] = []
        for a, b in zip(path, [*path[1:], path[0]], strict=True):
            ring.append([round(v, 6) for v in corners[a]])
            ring.append([round(v, 6) for v in mid(a, b)])
        ring.append(ring[0])
        features.append(
            {
                "type": "Feature",
                "properties": {"site_id": code},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return {"type": "FeatureCollection", "features": features}
