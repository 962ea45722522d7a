"""Neighbourhood maps: projection, the choropleth's classes, hatching and text alternatives."""

from __future__ import annotations

import re

import pytest

from exports.maps import PALETTE, MapValue, area_map_values, choropleth_svg, map_choices, project


def _square(lon: float, lat: float, size: float) -> dict[str, object]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.mark.parametrize(("lat", "ratio"), [(0.0, 1.0), (60.0, 2.0)])
def test_longitude_is_scaled_by_the_cosine_of_latitude(lat: float, ratio: float) -> None:
    """A one-degree square is twice as tall as wide at 60 degrees north (cos 60 = 0.5)."""
    rings, height = project({"A": _square(0, lat - 0.005, 0.01)}, width=100, pad=0)
    assert height / 100 == pytest.approx(ratio, rel=0.01)
    xs = [x for x, _ in rings["A"][0]]
    assert min(xs) == pytest.approx(0) and max(xs) == pytest.approx(100)


def test_grid_metres_are_a_plane_with_north_up() -> None:
    rings, height = project({"A": _square(530000, 180000, 1000)}, width=50, pad=0)
    assert height == pytest.approx(50)
    (x0, y0), (_, _), (_, y2) = rings["A"][0][:3]
    assert (x0, y0) == pytest.approx((0, 50))  # the south-west corner is at the bottom
    assert y2 == pytest.approx(0)


def test_choropleth_colours_hatches_and_describes_every_area() -> None:
    shapes = {c: _square(i * 0.01, 51.5, 0.01) for i, c in enumerate(["A", "B", "C", "D"])}
    values = {
        "A": MapValue("Canal Side", "73%", 73.0),
        "B": MapValue("Market Ward", "[c]", None),
        "C": MapValue("Park Rise", "", None),
        "D": MapValue("Top & Tail", "100%", 100.0),
    }
    svg = choropleth_svg(shapes, values, title="Map: feeling safe", ident="m1")
    fills = re.findall(r'<path d="[^"]*" fill="([^"]+)"', svg)
    assert fills == [PALETTE[3], "url(#m1-hatch)", "url(#m1-dots)", PALETTE[4]]
    assert '<title id="m1-t">Map: feeling safe</title>' in svg
    desc = re.search(r'<desc id="m1-d">([^<]*)</desc>', svg)
    assert desc is not None
    assert desc.group(1) == (
        "Canal Side: 73%; Market Ward: [c]; Park Rise: no figure; Top &amp; Tail: 100%"
    )
    assert 'aria-labelledby="m1-t m1-d"' in svg and 'role="img"' in svg
    assert "[c] hidden" in svg and "no figure" in svg and "80–100%" in svg


def _community() -> dict[str, object]:
    def entry(site: str, pct: str, number: float | None) -> dict[str, object]:
        chart = (
            None if number is None else {"pct": number, "low": None, "high": None, "bench": None}
        )
        return {"site": site, "area": f"Area {site}", "pct": pct, "flag": "", "chart": chart}

    rows = [
        {
            "item": "q1",
            "label": "Q one",
            "areas": [entry("A", "60%", 60.0), entry("B", "[c]", None)],
        },
        {
            "item": "q2",
            "label": "Q two",
            "areas": [entry("A", "80%", 80.0), entry("B", "40%", 40.0)],
        },
    ]
    return {"domains": [{"key": "safety", "title": "Feeling safe", "items": rows}]}


def test_map_values_are_the_reports_own_figures() -> None:
    community = _community()
    assert map_choices(community)[0] == ("domain:safety", "Feeling safe: average of its questions")
    item = area_map_values(community, "item:q1")
    assert item["A"] == MapValue("Area A", "60%", 60.0)
    assert item["B"].suppressed and item["B"].number is None
    domain = area_map_values(community, "domain:safety")
    assert domain["A"] == MapValue("Area A", "70%", 70.0)
    # A domain with a hidden question is hidden, as the pack's domain score is.
    assert domain["B"].text == "[c]" and domain["B"].number is None
    assert area_map_values(community, "domain:nope") == {}
