"""The panel pages in Chromium: axe-core finds no WCAG 2.2 A/AA violations, at 320 px too."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from surveys.models import Community
from surveys.services.panel.linking import link_waves
from tests.panel_data import build_panel
from tests.webapp.test_results_browser import _sign_in, _violations

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(tempfile.gettempdir()) / "placevoice-panel-shots"


def test_panel_and_school_pages_are_accessible_and_fit_a_phone(
    browser: Any, live_server: str, session: Session, community: Community, make_user: Any
) -> None:
    SHOTS.mkdir(exist_ok=True)
    panel = build_panel(session, community)
    link_waves(session, wave=panel.current, previous=panel.previous)
    session.commit()
    admin = make_user("admin")
    staff = make_user("school_staff", sites=(panel.schools["S1"],))
    problems: dict[str, Any] = {}
    for width in (1280, 320):
        context = browser.new_context(viewport={"width": width, "height": 800})
        page = context.new_page()
        _sign_in(page, live_server, admin.email)
        for path in (f"/results/{panel.current.id}/panel", f"/results/{panel.current.id}/site/S1"):
            page.goto(f"{live_server}{path}")
            assert "The same pupils a year on" in page.content()
            name = f"{width}{path.replace('/', '_')}.png"
            page.screenshot(path=str(SHOTS / name), full_page=True)
            problems[f"{path} at {width}px"] = _violations(page)
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, f"{path} is {wide}px wide at {width}px"
        page.click("button.link-button")  # sign out
        _sign_in(page, live_server, staff.email)
        page.goto(f"{live_server}/school/S1/results?wave={panel.current.name}")
        assert "The same pupils a year on" in page.content()
        problems[f"school page at {width}px"] = _violations(page)
        context.close()
    assert {k: v for k, v in problems.items() if v} == {}
