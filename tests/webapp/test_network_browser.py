"""The partnership map page in Chromium: axe-core finds no WCAG 2.2 A/AA violations, at
desktop width and at 320 px, and the map scales down without scrolling sideways."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from surveys.models import Wave
from tests.webapp.test_network_pages import waves  # noqa: F401 - the two-wave fixture
from tests.webapp.test_results_browser import SHOTS, _sign_in, _violations

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("fast_passwords")]


def test_the_partnership_map_page_is_accessible(
    page: Any,
    live_server: str,
    session: Session,
    make_user: Any,
    waves: Wave,  # noqa: F811
) -> None:
    SHOTS.mkdir(exist_ok=True)
    _sign_in(page, live_server, make_user("admin").email)
    problems = {}
    for width in (1280, 320):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server}/results/{waves.id}/network")
        page.screenshot(path=str(SHOTS / f"network_{width}.png"), full_page=True)
        problems[width] = _violations(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.locator("svg.network-map title").first.text_content() == (
        "Partnership map, Spring 2027"
    )
    page.goto(f"{live_server}/admin/organisations")
    problems["organisations"] = _violations(page)
    assert problems == {1280: [], 320: [], "organisations": []}
