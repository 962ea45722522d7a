"""The results and school pages in Chromium: axe-core finds no WCAG 2.2 A/AA violations."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Site, Wave
from tests.conftest import PASSWORD
from tests.exports.community import Built, build_community

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
#: Screenshots to look at (outside the repository).
SHOTS = Path(tempfile.gettempdir()) / "placevoice-results-shots"


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return {**app_config, "PACKS_DIR": str(tmp_path / "packs")}


@pytest.fixture
def built(session: Session, community: Any) -> Built:
    return build_community(session, slug=community.slug)


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


def test_results_and_school_pages_are_accessible(
    page: Any, live_server: str, session: Session, make_user: Any, built: Built
) -> None:
    SHOTS.mkdir(exist_ok=True)
    wave_id = session.scalar(select(Wave.id).where(Wave.name == built.wave))
    school = session.scalar(select(Site).where(Site.code == "S01"))
    staff, admin = make_user("school_staff", sites=(school,)), make_user("admin")
    problems: dict[str, Any] = {}
    _sign_in(page, live_server, staff.email)
    for path in ("/school/", "/school/S01/results"):
        page.goto(f"{live_server}{path}")
        page.screenshot(path=str(SHOTS / f"staff{path.replace('/', '_')}.png"), full_page=True)
        problems[path] = _violations(page)
    assert page.locator("h1").inner_text() == "Riverside Primary School"
    page.click("button.link-button")  # sign out
    _sign_in(page, live_server, admin.email)
    for path in (
        "/results/",
        f"/results/{wave_id}/",
        f"/results/{wave_id}/site/S02",
        f"/results/{wave_id}/site/A1",
        f"/results/{wave_id}/domain/safety",
    ):
        page.goto(f"{live_server}{path}")
        page.screenshot(path=str(SHOTS / f"admin{path.replace('/', '_')}.png"), full_page=True)
        problems[path] = _violations(page)
    assert {k: v for k, v in problems.items() if v} == {}
