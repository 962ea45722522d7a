"""The results explorer: who sees what, filters, chart/table/map files; boundary uploads."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import AuditEntry, Site, Wave
from surveys.services.boundaries import load_boundaries, synthetic_boundaries
from tests.exports.community import Built, build_community

pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return {**app_config, "PACKS_DIR": str(tmp_path / "packs")}


@pytest.fixture
def built(session: Session, community: Any) -> Built:
    return build_community(session, slug=community.slug)


@pytest.fixture
def wave_id(session: Session, built: Built) -> int:
    found = session.scalar(select(Wave.id).where(Wave.name == built.wave))
    assert found is not None
    return found


def _as(app: Any, user: Any) -> Any:
    from tests.conftest import PASSWORD

    client = app.test_client()
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    )
    return client


def _school(session: Session, code: str) -> Site:
    site = session.scalar(select(Site).where(Site.code == code))
    assert site is not None
    return site


def test_staff_see_their_own_school_only(
    app: Any, session: Session, make_user: Any, wave_id: int
) -> None:
    staff = _as(app, make_user("school_staff", sites=(_school(session, "S01"),)))
    base = f"/explore/{wave_id}"
    home = staff.get("/explore/").get_data(as_text=True)
    assert "Riverside Primary School" in home and "Hillcrest Academy" not in home
    assert "All areas" not in home
    assert staff.get(f"{base}/S01").status_code == 200
    for path in ("S02", "A1", "community", "S01-x", "S02/table.csv", "S02/chart.svg", "A1/map.svg"):
        assert staff.get(f"{base}/{path}").status_code == 404, path
    for path in ("S01/table.csv", "S01/table.xlsx", "S01/chart.svg", "S01/chart.png"):
        assert staff.get(f"{base}/{path}").status_code == 200, path


def test_filters_choose_topic_and_group(
    app: Any, session: Session, make_user: Any, wave_id: int
) -> None:
    admin = _as(app, make_user("admin"))
    page = admin.get(f"/explore/{wave_id}/S01?domain=safety&view=gender")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "by gender" in html and '<option value="safety" selected>' in html
    assert "How safe do you feel at school?" in html
    assert "I feel I belong at my school." not in html  # another topic
    rows = list(
        csv.reader(
            io.StringIO(
                admin.get(f"/explore/{wave_id}/S01/table.csv?domain=safety&view=gender:Girls")
                .get_data(as_text=True)
                .lstrip("\ufeff")
            )
        )
    )
    assert rows[0][6:] == ["Girls"]
    assert {r[3] for r in rows[1:]} == {"Feeling safe"}
    for bad in ("domain=nope", "view=fsm", "view=gender:Martians"):
        assert admin.get(f"/explore/{wave_id}/S01?{bad}").status_code == 404, bad


def test_downloads_are_files_of_the_page(
    app: Any, session: Session, make_user: Any, wave_id: int
) -> None:
    admin = _as(app, make_user("admin"))
    base = f"/explore/{wave_id}/S02"
    svg = admin.get(f"{base}/chart.svg?view=year_group")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert "attachment" in svg.headers["Content-Disposition"]
    png = admin.get(f"{base}/chart.png")
    assert png.mimetype == "image/png"
    assert Image.open(io.BytesIO(png.data)).format == "PNG"
    xlsx = admin.get(f"{base}/table.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet["A1"].value == "wave" and sheet["C2"].value == "Hillcrest Academy"
    assert admin.get(f"{base}/table.pdf").status_code == 404
    assert admin.get(f"{base}/chart.gif").status_code == 404
    audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "explorer_download"))
    assert [(a.object_id, a.detail["format"]) for a in audited] == [("S02", "xlsx")]


def test_a_school_with_too_few_responses_shows_why(app: Any, make_user: Any, wave_id: int) -> None:
    admin = _as(app, make_user("admin"))
    html = admin.get(f"/explore/{wave_id}/S05").get_data(as_text=True)
    assert "fewer than 20" in html and "<table" not in html
    assert admin.get(f"/explore/{wave_id}/S05/table.csv").status_code == 404


def test_area_pages_show_the_map_once_boundaries_are_uploaded(
    app: Any, session: Session, make_user: Any, wave_id: int, tmp_path: Path
) -> None:
    admin = _as(app, make_user("admin"))
    assert "area-map" not in admin.get(f"/explore/{wave_id}/A1").get_data(as_text=True)
    shapes = synthetic_boundaries(["A1", "A2", "A3"], seed=1)
    reply = admin.post(
        "/admin/boundaries",
        data={"geo-file": (io.BytesIO(json.dumps(shapes).encode()), "areas.geojson")},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 302
    community_id = _school(session, "A1").community_id
    assert set(load_boundaries(session, community_id)) == {"A1", "A2", "A3"}
    html = admin.get(f"/explore/{wave_id}/A1").get_data(as_text=True)
    assert 'id="area-map-t"' in html and "The mapped figures" in html
    # Old Quarry has 8 responses: it is in the report's table, hidden, so hatched.
    assert "url(#area-map-hatch)" in html
    community = admin.get(f"/explore/{wave_id}/community?map=item:safe_after_dark")
    assert community.status_code == 200
    assert admin.get(f"/explore/{wave_id}/community?map=item:nope").status_code == 404
    svg = admin.get(f"/explore/{wave_id}/A1/map.svg")
    assert svg.mimetype == "image/svg+xml" and b"<title" in svg.data


def test_a_bad_boundary_file_is_refused_naming_the_feature(
    app: Any, session: Session, make_user: Any, built: Built
) -> None:
    admin = _as(app, make_user("admin"))
    shapes = synthetic_boundaries(["A1", "A2"], seed=1)
    shapes["features"][1]["geometry"]["coordinates"][0].pop()  # not closed any more
    reply = admin.post(
        "/admin/boundaries",
        data={"geo-file": (io.BytesIO(json.dumps(shapes).encode()), "areas.geojson")},
        content_type="multipart/form-data",
    )
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert "feature 2 (A2), area A2: polygon 1, ring 1 is not closed" in html
    assert load_boundaries(session, _school(session, "A1").community_id) == {}


def test_cli_loads_boundaries_with_a_dry_run_first(
    run_cli: Any, session: Session, built: Built, tmp_path: Path
) -> None:
    path = tmp_path / "wards.geojson"
    shapes = synthetic_boundaries(["Canal Side", "Market Ward", "Nowhere"], seed=2)
    for feature in shapes["features"]:
        feature["properties"] = {"WD23NM": feature["properties"]["site_id"]}
    path.write_text(json.dumps(shapes))
    dry = run_cli("areas", "boundaries", str(path), "--property", "WD23NM", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "skipped: feature 3 (Nowhere): no area called 'Nowhere'" in dry.output
    assert "no boundary: area A3" in dry.output
    assert "2 area(s) matched by 'WD23NM'; dry run, nothing stored" in dry.output
    community_id = _school(session, "A1").community_id
    assert load_boundaries(session, community_id) == {}
    done = run_cli("areas", "boundaries", str(path), "--property", "WD23NM")
    assert done.exit_code == 0 and "stored" in done.output
    session.rollback()  # a new read transaction sees the command's write
    assert set(load_boundaries(session, community_id)) == {"A1", "A2"}
    shapes["features"][0]["geometry"] = {"type": "Point", "coordinates": [0, 51]}
    path.write_text(json.dumps(shapes))
    bad = run_cli("areas", "boundaries", str(path), "--property", "WD23NM")
    assert bad.exit_code == 1
    assert "feature 1 (Canal Side), area A1: its geometry is a Point" in bad.output
