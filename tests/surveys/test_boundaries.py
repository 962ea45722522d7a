"""Area boundaries from GeoJSON: every problem named by feature, areas matched, stored."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import AreaBoundary, Community, Site
from surveys.services.boundaries import (
    BoundaryError,
    load_boundaries,
    read_boundaries,
    store_boundaries,
    synthetic_boundaries,
)

SQUARE = [[[-0.07, 51.54], [-0.06, 51.54], [-0.06, 51.55], [-0.07, 51.55], [-0.07, 51.54]]]


def _feature(props: dict[str, Any], coords: Any = SQUARE, kind: str = "Polygon") -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": kind, "coordinates": coords},
    }


def _file(*features: dict[str, Any]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


@pytest.fixture
def areas(session: Session, community: Community, make_site: Callable[..., Site]) -> Community:
    make_site("A1", name="Canal Side", kind="area")
    make_site("A2", name="Market Ward", kind="area")
    make_site("S1", name="Ash School")
    session.commit()
    return community


def test_features_match_areas_by_code_or_name_and_join(session: Session, areas: Community) -> None:
    data = _file(
        _feature({"name": "canal side", "LSOA": "E01"}),
        _feature({"name": "Canal Side", "LSOA": "E02"}),
        _feature({"name": "A2"}),
        _feature({"name": "Elsewhere"}),
    )
    preview = read_boundaries(session, areas.id, data)
    assert preview.ok and preview.matched_by == "name"
    assert sorted(preview.areas) == ["A1", "A2"]
    assert len(preview.areas["A1"]) == 2  # two LSOAs joined
    assert preview.skipped == ["feature 4 (Elsewhere): no area called 'Elsewhere'"]
    assert store_boundaries(session, areas.id, preview) == 2
    session.commit()
    stored = load_boundaries(session, areas.id)
    assert stored["A1"]["type"] == "MultiPolygon" and stored["A2"]["type"] == "Polygon"
    # A second upload replaces the first.
    again = read_boundaries(session, areas.id, _file(_feature({"site_id": "A1"})))
    store_boundaries(session, areas.id, again)
    session.commit()
    assert set(load_boundaries(session, areas.id)) == {"A1"}
    assert session.scalar(select(func.count()).select_from(AreaBoundary)) == 1


@pytest.mark.parametrize(
    ("coords", "kind", "problem"),
    [
        ([[[0, 51], [1, 51], [1, 52], [0, 52]]], "Polygon", "polygon 1, ring 1 is not closed"),
        ([[[0, 51], [1, 51], [0, 51]]], "Polygon", "ring 1 has 3 points; a ring needs at least 4"),
        ([[[0, 51], ["x", 51], [1, 52], [0, 51]]], "Polygon", "ring 1, point 2 is not a pair"),
        ([[0, 51], [1, 52]], "LineString", "its geometry is a LineString, not a Polygon"),
        (
            [[[[0, 51], [1, 51], [1, 52], [0, 52]]]],
            "MultiPolygon",
            "polygon 1, ring 1 is not closed",
        ),
        ([[[0, 51], [0, 51], [1, 51], [0, 51]]], "Polygon", "has no area"),
    ],
)
def test_bad_geometry_names_the_feature_and_stores_nothing(
    session: Session, areas: Community, coords: Any, kind: str, problem: str
) -> None:
    data = _file(_feature({"site_id": "A1"}), _feature({"site_id": "A2"}, coords, kind))
    preview = read_boundaries(session, areas.id, data)
    assert not preview.ok
    assert len(preview.problems) == 1
    assert preview.problems[0].startswith("feature 2 (A2), area A2: ")
    assert problem in preview.problems[0]
    with pytest.raises(BoundaryError):
        store_boundaries(session, areas.id, preview)
    assert load_boundaries(session, areas.id) == {}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ('{"type": "FeatureCollection", "features": [', "not valid GeoJSON: line 1, column"),
        ('{"type": "Feature"}', "must be a GeoJSON FeatureCollection"),
        ('{"type": "FeatureCollection", "features": []}', "has no features"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_a_file_that_is_not_geojson_is_refused(
    session: Session, areas: Community, data: Any, message: str
) -> None:
    with pytest.raises(BoundaryError, match=message):
        read_boundaries(session, areas.id, data, source="wards.geojson")


def test_no_property_naming_an_area_is_a_problem(session: Session, areas: Community) -> None:
    preview = read_boundaries(session, areas.id, _file(_feature({"LSOA": "E01"})))
    assert not preview.ok
    assert "no feature property names an area" in preview.problems[0]
    named = read_boundaries(session, areas.id, _file(_feature({"LSOA": "E01"})), match="LSOA")
    assert named.problems == ["no feature's 'LSOA' property names an area of this community"]


def test_mixed_coordinate_systems_are_refused(session: Session, areas: Community) -> None:
    grid = [[[530000, 184000], [531000, 184000], [531000, 185000], [530000, 184000]]]
    preview = read_boundaries(
        session, areas.id, _file(_feature({"site_id": "A1"}), _feature({"site_id": "A2"}, grid))
    )
    assert any("mix longitude/latitude and grid" in p for p in preview.problems)


def test_synthetic_boundaries_are_valid_and_share_their_borders(
    session: Session, areas: Community
) -> None:
    shapes = synthetic_boundaries(["A1", "A2"], seed=3)
    preview = read_boundaries(session, areas.id, json.dumps(shapes))
    assert preview.ok and preview.missing == []
    a1 = {tuple(p) for p in preview.areas["A1"][0][0]}
    a2 = {tuple(p) for p in preview.areas["A2"][0][0]}
    assert len(a1 & a2) >= 3  # a corner, the edge's midpoint and the other corner
    assert synthetic_boundaries(["A1", "A2"], seed=3) == shapes
