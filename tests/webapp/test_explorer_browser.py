"""The explorer and the boundaries page in Chromium: axe-core at 320 px and at desktop width."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Site, Wave
from surveys.services.boundaries import read_boundaries, store_boundaries, synthetic_boundaries
from tests.conftest import PASSWORD
from tests.exports.community import Built, build_community

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
#: Screenshots to look at (outside the repository).
SHOTS = Path(tempfile.gettempdir()) / "placevoice-explorer-shots"


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return {**app_config, "PACKS_DIR": str(tmp_path / "packs")}


@pytest.fixture
def built(session: Session, community: Any) -> Built:
    built = build_community(session, slug=community.slug)
    shapes = synthetic_boundaries(["A1", "A2", "A3"], seed=4)
    store_boundaries(
        session, community.id, read_boundaries(session, community.id, json.dumps(shapes))
    )
    session.commit()
    return built


def _violations(page: Any) -> list[tuple[str, str, list[Any]]]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    return [
        (v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
        for v in found.response["violations"]
    ]


def _sign_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def _scrolls_sideways(page: Any) -> bool:
    """Whether the page itself is wider than the screen (tables may scroll in their region)."""
    return bool(page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1"))


@pytest.mark.parametrize("width", [320, 1280])
def test_explorer_pages_are_accessible(
    page: Any, live_server: str, session: Session, make_user: Any, built: Built, width: int
) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": width, "height": 900})
    wave_id = session.scalar(select(Wave.id).where(Wave.name == built.wave))
    school = session.scalar(select(Site).where(Site.code == "S01"))
    staff, admin = make_user("school_staff", sites=(school,)), make_user("admin")
    problems: dict[str, Any] = {}
    wide: list[str] = []

    def visit(who: str, path: str) -> None:
        page.goto(f"{live_server}{path}")
        name = f"{who}-{width}{path.replace('/', '_').replace('?', '_')}.png"
        page.screenshot(path=str(SHOTS / name), full_page=True)
        problems[f"{who} {path}"] = _violations(page)
        if _scrolls_sideways(page):
            wide.append(path)

    _sign_in(page, live_server, staff.email)
    for path in ("/explore/", f"/explore/{wave_id}/S01", f"/explore/{wave_id}/S01?view=gender"):
        visit("staff", path)
    # Without JavaScript the filter form is a plain GET form: choosing and submitting works.
    page.select_option("#f-view", "year_group")
    page.select_option("#f-domain", "safety")
    page.click("button.button[type=submit]")
    assert "view=year_group" in page.url and "domain=safety" in page.url
    assert "by year group" in page.locator("h2#chart-h").inner_text()
    page.click("button.link-button")  # sign out
    _sign_in(page, live_server, admin.email)
    for path in (
        f"/explore/{wave_id}/community",
        f"/explore/{wave_id}/A1?map=item:safe_after_dark",
        "/admin/boundaries",
    ):
        visit("admin", path)
    assert page.locator("svg.map title").count() == 1
    assert {k: v for k, v in problems.items() if v} == {}
    assert wide == []
