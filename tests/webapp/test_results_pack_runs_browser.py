"""Generating packs in Chromium: the button queues a run that a worker carries out, the status region
follows it by itself (static JavaScript, no reload), and both states pass axe-core."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Wave
from tests.conftest import PASSWORD
from tests.exports.community import build_community

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
#: Screenshots to look at (outside the repository).
SHOTS = Path(tempfile.gettempdir()) / "placevoice-pack-run-shots"


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return {**app_config, "PACKS_DIR": str(tmp_path / "packs"), "PACK_JOBS": 1}


def _violations(page: Any) -> list[tuple[str, str, list[Any]]]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    return [
        (v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
        for v in found.response["violations"]
    ]


def test_generate_all_packs_in_the_browser(
    page: Any,
    live_server: str,
    session: Session,
    community: Any,
    make_user: Any,
    start_worker: Any,
) -> None:
    from playwright.sync_api import expect

    SHOTS.mkdir(exist_ok=True)
    built = build_community(
        session,
        schools=(("S01", "Riverside Primary School", 25), ("S02", "Hillcrest Academy", 22)),
        areas=(),
        previous_wave=False,
        slug=community.slug,
    )
    wave_id = session.scalar(select(Wave.id).where(Wave.name == built.wave))
    admin = make_user("admin")
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", admin.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/results/{wave_id}/")
    status = page.locator("#pack-run")
    assert "No packs have been generated for this wave yet." in status.inner_text()

    page.click("text=Generate all packs")
    assert page.url.endswith(f"/results/{wave_id}/#packs")
    assert "Generating packs:" in status.inner_text()
    assert page.locator("#pack-run-refresh a").is_visible()
    assert "Stop generating packs" in status.inner_text()
    page.screenshot(path=str(SHOTS / "running.png"), full_page=True)
    running = _violations(page)
    start_worker()

    expect(status).to_contain_text("Last generated", timeout=120_000)  # no reload: the script
    assert "2 packs, 0 failed." in status.inner_text()
    expect(page.locator("#pack-run-refresh")).to_have_attribute("hidden", "")  # same page
    page.screenshot(path=str(SHOTS / "done.png"), full_page=True)
    assert (running, _violations(page)) == ([], [])
