"""The import page in Chromium: upload, preview, confirm; axe-core finds no WCAG 2.2 A/AA
violations, on a desktop and at 320 px."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import Response, Site, Wave
from tests.conftest import PASSWORD
from tests.fixtures import exports

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
SHOTS = Path(tempfile.gettempdir()) / "placevoice-import-shots"


def _violations(page: Any) -> list[tuple[str, str, list[Any]]]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    return [
        (v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
        for v in found.response["violations"]
    ]


def test_import_page_preview_and_confirm_are_accessible(
    page: Any,
    live_server: str,
    session: Session,
    make_user: Any,
    make_site: Callable[..., Site],
    make_wave: Callable[..., Wave],
    tmp_path: Path,
) -> None:
    SHOTS.mkdir(exist_ok=True)
    for code, name in exports.SCHOOLS.items():
        make_site(code, name=name)
    wave = make_wave()
    admin = make_user("admin")
    upload = tmp_path / "kobo.csv"
    upload.write_bytes(exports.kobo_csv(exports.pupils(), messy=True))
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", admin.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    problems: dict[str, Any] = {}
    for width in (1280, 320):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server}/admin/waves/{wave.id}/import")
        problems[f"form at {width}"] = _violations(page)
        page.set_input_files("input[name=file]", str(upload))
        page.select_option("select[name=instrument]", "pupil_perception")
        page.click("text=Preview")
        page.wait_for_selector("#preview-h")
        page.screenshot(path=str(SHOTS / f"preview-{width}.png"), full_page=True)
        problems[f"preview at {width}"] = _violations(page)
        assert "Fairly satisfied" in page.inner_text("table")
    page.select_option("select[name=skip_invalid]", "1")
    page.click("text=Store these responses")
    page.wait_for_url(f"**/admin/waves/{wave.id}")
    assert "22 responses added" in page.inner_text("body")
    problems["after storing"] = _violations(page)
    session.rollback()
    assert session.scalar(select(func.count(Response.id))) == 22
    assert {k: v for k, v in problems.items() if v} == {}
