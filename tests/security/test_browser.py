"""The audit log page, the sign-in page after an idle sign-out and the children's privacy
notice in Chromium: axe-core finds no WCAG 2.2 A/AA violations."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from surveys.services.audit import audit
from tests.conftest import PASSWORD
from tests.security.conftest import World

pytestmark = [pytest.mark.browser]

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SHOTS = Path(tempfile.gettempdir()) / "placevoice-security-shots"


def _violations(page: Any) -> list[tuple[str, str, list[Any]]]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    return [
        (v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
        for v in found.response["violations"]
    ]


def test_audit_page_and_idle_sign_in_are_accessible(
    page: Any, live_server: str, world: World, session: Any
) -> None:
    SHOTS.mkdir(exist_ok=True)
    admin = world.users["admin"]
    audit(session, admin, "export", "wave", world.wave.id, format="csv", rows=412)
    audit(session, None, "retention_delete", "wave", world.wave.id, responses=380)
    session.commit()
    page.goto(f"{live_server}/login?idle=1")
    page.screenshot(path=str(SHOTS / "login-idle.png"), full_page=True)
    assert _violations(page) == []
    page.fill("input[name=email]", admin.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/audit/?since=nonsense")
    assert page.locator(".error-summary").count() == 1
    assert _violations(page) == []
    page.goto(f"{live_server}/audit/")
    page.screenshot(path=str(SHOTS / "audit.png"), full_page=True)
    assert page.locator("table tbody tr").count() >= 3
    assert _violations(page) == []


def test_child_privacy_notice_is_accessible(page: Any, live_server: str, app: Any) -> None:
    from flask import render_template

    with app.test_request_context():
        notice = render_template("_privacy_notice_child.html", retention_months=24)
    assert "We delete your answers after 24 months." in notice
    page.goto(f"{live_server}/start")
    page.evaluate(
        "html => { document.querySelector('main').insertAdjacentHTML('beforeend', html) }", notice
    )
    page.click(".privacy-notice summary")
    assert page.locator(".privacy-notice[open]").count() == 1
    page.screenshot(path=str(SHOTS / "privacy-notice.png"), full_page=True)
    assert _violations(page) == []
