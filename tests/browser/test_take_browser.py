"""The survey flows in Debian's Chromium: pupils with and without JavaScript, a resident in
a second language on a 320 px phone, and axe-core on every page type."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import Response, User

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAST = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """The real thing: CSRF protection on."""
    return {**app_config, "WTF_CSRF_ENABLED": True}


@pytest.fixture
def school(make_site: Any, make_class: Any, make_wave: Any, make_code: Any) -> dict[str, Any]:
    wave = make_wave()
    site = make_site("S01", name="Hill Primary", population=200)
    cls = make_class(site, "6A", 6, 28)
    return {"wave": wave, "site": site, "cls": cls, "code": make_code(wave, site, cls)}


@pytest.fixture
def no_js_page(browser: Any) -> Iterator[Any]:
    """A page in a context with JavaScript disabled."""
    context = browser.new_context(java_script_enabled=False)
    yield context.new_page()
    context.close()


def axe_check(page: Any) -> None:
    """Zero axe-core violations for WCAG 2.2 A/AA on the current page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    violations = results.response["violations"]
    assert not violations, f"{page.url}: " + "; ".join(
        f"{v['id']}: {v['help']} ({[n['target'] for n in v['nodes']][:3]})" for v in violations
    )


def choose(page: Any, name: str, value: str) -> None:
    page.locator(f"input[name='{name}'][value='{value}']").check(force=True)


def next_page(page: Any) -> None:
    page.get_by_role("button", name=re.compile("^(Next|Save and continue)$")).click()
    page.wait_for_load_state()


def pupil_flow(page: Any, base: str, code: str) -> str:
    """Code to thank-you with a Back, a skip, a relevance-hidden question and a Change."""
    page.goto(f"{base}/start")
    page.get_by_label("Enter your code").fill(code.lower())
    page.get_by_role("button", name="Start").click()
    assert "/intro" in page.url
    rid = page.url.split("/")[4]
    page.get_by_role("link", name="Start").click()
    assert "/language" in page.url
    page.get_by_role("button", name="Continue").click()
    assert page.url.endswith("/q/about_you")
    choose(page, "year_group", "year6")  # gender skipped
    next_page(page)
    assert page.url.endswith("/q/happiness")
    page.get_by_role("link", name="Back").click()
    assert page.url.endswith("/q/about_you")
    assert page.locator("input[name='year_group'][value='year6']").is_checked()
    next_page(page)
    choose(page, "life_satisfaction", "9")
    next_page(page)
    assert page.url.endswith("/q/safety")
    next_page(page)  # a whole page skipped
    next_page(page)  # school_belonging
    next_page(page)  # talk_to
    choose(page, "bullied_freq", "never")
    choose(page, "bullied_online", "never")
    next_page(page)
    assert page.url.endswith("/q/told_someone")
    assert page.get_by_text("Did you tell someone").count() == 0  # hidden by relevance
    while "/check" not in page.url:
        next_page(page)
    assert page.get_by_role("heading", name="Check your answers").is_visible()
    page.get_by_role("link", name=re.compile("Change.*life as a whole")).click()
    assert "return=check" in page.url
    choose(page, "life_satisfaction", "7")
    page.get_by_role("button", name="Save and continue").click()
    assert "/check" in page.url
    assert page.get_by_text("Not answered").count() > 0
    page.get_by_role("button", name="Send my answers").click()
    assert "/done" in page.url
    assert page.get_by_text("Please pass the device to the next pupil.").is_visible()
    return rid


def assert_stored_once(session: Session, rid: str, school: dict[str, Any], language: str) -> None:
    session.rollback()
    responses = list(session.scalars(select(Response)))
    assert len(responses) == 1
    response = responses[0]
    assert response.id == rid
    assert response.status == "submitted"
    assert response.instrument_version.instrument_id == "pupil_perception"
    assert response.instrument_version.version == "2027.2"
    assert response.class_id == school["cls"].id
    assert response.language == language
    assert response.answers == {
        "year_group": "year6",
        "life_satisfaction": "7",
        "bullied_freq": "never",
        "bullied_online": "never",
    }


def test_pupil_completes_the_survey(
    page: Any, live_server: str, session: Session, school: dict[str, Any]
) -> None:
    rid = pupil_flow(page, live_server, school["code"].code)
    assert_stored_once(session, rid, school, "en")
    # the thank-you page cleared the browser: Back does not show the answers again
    page.go_back()
    assert "/check" not in page.url or page.get_by_text("Carry on with your survey").count()


def test_pupil_completes_the_survey_without_javascript(
    no_js_page: Any, live_server: str, session: Session, school: dict[str, Any]
) -> None:
    rid = pupil_flow(no_js_page, live_server, school["code"].code)
    assert_stored_once(session, rid, school, "en")


def test_resident_answers_in_urdu_on_a_320px_phone(
    browser: Any, live_server: str, session: Session, make_site: Any, make_wave: Any, make_code: Any
) -> None:
    wave = make_wave()
    make_site("A1", kind="area", name="Wide area", postcodes="E")
    pembury = make_site("A2", kind="area", name="Pembury", postcodes="E8 E5")
    code = make_code(wave, pembury, kind="area", instrument="resident_baseline")
    context = browser.new_context(viewport={"width": 320, "height": 640}, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/r/{code.code}")
        page.get_by_role("button", name="Start now").click()
        page.get_by_role("link", name="Start").click()
        page.get_by_text("اردو").click()
        page.get_by_role("button", name="Continue").click()
        assert page.url.endswith("/q/postcode")
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert page.locator("html").get_attribute("lang") == "ur"
        page.locator("#f-postcode").fill("E8 1")
        page.locator("button[data-once]").click()
        choose(page, "area_satisfaction", "fairly_satisfied")
        page.locator("button[data-once]").click()
        while "/check" not in page.url:
            no_overflow(page)
            page.locator("button[data-once]").click()
            page.wait_for_load_state()
        no_overflow(page)
        page.locator("form[action$='/submit'] button").click()
        assert "/done" in page.url
        assert page.locator("html").get_attribute("dir") == "rtl"
    finally:
        context.close()
    session.rollback()
    response = session.scalar(select(Response))
    assert response is not None
    assert response.status == "submitted"
    assert response.language == "ur"
    assert response.channel == "web"
    assert response.site_id == pembury.id
    assert response.answers == {"postcode": "E8 1", "area_satisfaction": "fairly_satisfied"}


def no_overflow(page: Any) -> None:
    """Nothing wider than the 320 px screen (no sideways scrolling)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{page.url} is {width}px wide"


def test_every_page_type_has_no_axe_violations(
    page: Any,
    live_server: str,
    session: Session,
    school: dict[str, Any],
    community: Any,
) -> None:
    base = live_server
    code = school["code"].code
    checked: list[str] = []

    def visit(path: str | None = None) -> None:
        if path:
            page.goto(base + path)
        axe_check(page)
        checked.append(page.url)

    visit("/start")
    page.get_by_label("Enter your code").fill("WRONG")
    page.get_by_role("button", name="Start").click()
    assert page.locator(".error-summary").is_visible()
    visit()  # code entry with an error
    page.get_by_label("Enter your code").fill(code)
    page.get_by_role("button", name="Start").click()
    visit()  # intro
    page.get_by_role("link", name="Start").click()
    visit()  # language
    page.get_by_role("button", name="Continue").click()
    visit()  # question page (group)
    rid = page.url.split("/")[4]
    page.goto(f"{base}/s/{rid}/q/out_of_school")
    choose(page, "activities", "sport")
    choose(page, "activities", "none")
    next_page(page)
    assert page.locator(".error-summary").is_visible()
    visit()  # question page with a constraint error
    visit(f"/s/{rid}/q/your_ideas")  # a single question page
    visit(f"/s/{rid}/check")
    page.get_by_role("button", name="Send my answers").click()
    visit()  # thank you
    visit("/resume")
    cls = school["cls"]
    cls.teacher_pin_hash = FAST.hash("4821")
    session.add(cls)
    session.commit()
    visit("/teacher")
    page.get_by_label("Class code").fill(code)
    page.get_by_label("Teacher PIN").fill("4821")
    page.get_by_role("button", name="Show the count").click()
    assert "/teacher/live" in page.url
    visit()  # teacher monitor
    admin = User(
        community_id=community.id,
        email="core@example.org",
        password_hash=FAST.hash("pw"),
        role="admin",
        display_name="Core team",
    )
    session.add(admin)
    session.commit()
    page.goto(f"{base}/login")
    page.get_by_label("Email address").fill("core@example.org")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    wave, site = school["wave"], school["site"]
    for path in (
        "/admin/",
        "/admin/waves",
        f"/admin/waves/{wave.id}",
        f"/admin/waves/{wave.id}/codes",
        f"/admin/waves/{wave.id}/sheet/{site.id}",
        "/admin/sites",
        f"/admin/sites/{site.id}",
        f"/teacher/class/{cls.id}/{wave.id}",
        # correcting mistakes: find, confirm pages and edit forms
        f"/admin/responses?id={rid}",
        f"/admin/responses/{rid}/delete",
        f"/admin/responses/{rid}/move",
        f"/admin/sites/{site.id}/edit",
        f"/admin/classes/{cls.id}/edit",
        f"/admin/waves/{wave.id}/edit",
        f"/admin/sites/{site.id}/retire",
        f"/admin/classes/{cls.id}/retire",
        f"/admin/waves/{wave.id}/retire",
    ):
        visit(path)
    page.goto(f"{base}/admin/responses/{rid}/delete")
    page.get_by_role("button", name="Delete the response").click()
    assert page.locator(".error-summary").is_visible()
    visit()  # the delete confirmation without a reason
    page.goto(f"{base}/admin/waves")
    page.get_by_role("button", name="Create wave").click()
    assert page.locator(".error-summary").is_visible()
    visit()  # an admin form with errors
    assert len(checked) == 31
    # The core team's tables on a phone (WCAG 1.4.10 reflow): a table wider than the
    # screen scrolls in its own region, which the keyboard can reach.
    page.set_viewport_size({"width": 320, "height": 640})
    for path in (
        "/admin/",
        f"/admin/waves/{wave.id}",
        f"/admin/waves/{wave.id}/codes",
        f"/admin/responses?id={rid}",
        f"/admin/classes/{cls.id}/retire",
        f"/admin/sites/{site.id}",
    ):
        visit(path)
    session.rollback()
    assert (
        session.scalar(select(func.count(Response.id)).where(Response.status == "submitted")) == 1
    )
