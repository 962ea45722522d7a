"""Field mode in Chromium: interviews recorded offline survive a reload and arrive once.

Also: axe-core finds no WCAG 2.2 A/AA violations on the field and coding pages.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Response
from surveys.services import field as field_service

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("fast_passwords")]

PASSWORD = "correct horse battery staple"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


@pytest.fixture
def fieldwork(session: Session, make_site, make_wave, make_user) -> dict[str, Any]:
    area = make_site("A1", kind="area", name="Millfields")
    make_site("S1", kind="school", name="Jubilee Primary School")
    wave = make_wave()
    admin = make_user("admin")
    researcher = make_user("researcher")
    field_service.assign_researcher(
        session,
        actor_id=admin.id,
        user=researcher,
        wave=wave,
        site=area,
        instrument_id="peer_interview",
    )
    session.commit()
    return {"wave": wave, "area": area, "admin": admin, "researcher": researcher}


def sign_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def stored(session: Session) -> list[Response]:
    session.rollback()
    return list(session.scalars(select(Response).where(Response.channel == "field")))


def unsent(page: Any) -> int:
    return int(page.get_attribute("#unsent-count", "data-count"))


def wait_unsent(page: Any, n: int, timeout: float = 15_000) -> None:
    page.wait_for_selector(f"#unsent-count[data-count='{n}']", timeout=timeout)


#: The interview form on show (there is one per language, the others hidden).
FORM = "form[data-instrument=peer_interview]:not([hidden])"


def choose(page: Any, name: str, value: str) -> None:
    """Click the answer's label, as a person does (the styled label covers the input)."""
    page.click(f"{FORM} input[name={name}][value={value}] + label")
    assert page.is_checked(f"{FORM} input[name={name}][value={value}]")


def record_interview(page: Any, text: str) -> None:
    page.click("#start")
    form = FORM
    choose(page, "consent", "yes")
    choose(page, "respondent_under16", "no")
    choose(page, "area_satisfaction", "fairly_satisfied")
    page.fill(f"{form} textarea[name=good_for_children]", text)
    before = unsent(page)
    page.click(f"{form} button[type=submit]")
    wait_unsent(page, before + 1)


def open_field_mode(page: Any, base: str) -> None:
    page.goto(f"{base}/field/app")
    page.wait_for_selector("body[data-field-ready='1']")
    for _ in range(150):  # polled from Python: the page's CSP forbids eval for wait_for_function
        if page.evaluate("() => navigator.serviceWorker.controller !== null"):
            return
        page.wait_for_timeout(100)
    raise AssertionError("the service worker never took control of field mode")


def test_offline_interviews_survive_reload_and_arrive_exactly_once(
    page, live_server, session, fieldwork
):
    context = page.context
    sign_in(page, live_server, fieldwork["researcher"].email)
    open_field_mode(page, live_server)
    assert page.evaluate("() => navigator.storage.persisted()") in (True, False)

    context.set_offline(True)
    for n in range(3):
        record_interview(page, f"Offline interview {n}: the park and the library.")
    assert unsent(page) == 3
    assert page.inner_text("#unsent-count") == "3 interviews not yet sent"
    assert stored(session) == []

    network = page.evaluate("() => fetch('/healthz').then(r => r.status, () => 'offline')")
    assert network == "offline"
    reloaded = page.reload()  # still offline: the service worker serves the app
    assert reloaded is not None and reloaded.from_service_worker
    page.wait_for_selector("body[data-field-ready='1']")
    assert unsent(page) == 3
    assert "offline" in page.inner_text("#sync-state")
    assert stored(session) == []

    context.set_offline(False)
    wait_unsent(page, 0)
    rows = stored(session)
    assert len(rows) == 3
    assert sorted(r.answers["good_for_children"] for r in rows) == [
        f"Offline interview {n}: the park and the library." for n in range(3)
    ]
    assert {r.researcher_id for r in rows} == {fieldwork["researcher"].id}
    assert all(r.receipt_hash for r in rows)
    assert page.inner_text("#unsent-count") == "All interviews sent"

    # Again, with the server failing the first attempt.
    attempts: list[int] = []

    def flaky(route: Any) -> None:
        if route.request.method == "POST":
            attempts.append(1)
            if len(attempts) == 1:
                route.fulfill(status=500, content_type="application/json", body='{"error":"boom"}')
                return
        route.continue_()

    context.route("**/field/api/interviews", flaky)
    context.set_offline(True)
    for n in range(3):
        record_interview(page, f"Second round {n}")
    page.reload()
    page.wait_for_selector("body[data-field-ready='1']")
    assert unsent(page) == 3
    context.set_offline(False)
    wait_unsent(page, 0, timeout=30_000)
    rows = stored(session)
    assert len(rows) == 6
    assert len({r.id for r in rows}) == 6
    assert sorted(
        r.answers["good_for_children"] for r in rows if "Second" in r.answers["good_for_children"]
    ) == [f"Second round {n}" for n in range(3)]
    assert len(attempts) >= 4  # the failed attempt was retried


def test_an_interview_in_polish_is_shown_and_recorded_in_polish(
    page, live_server, session, fieldwork
):
    from instruments import load_builtin

    consent = load_builtin("peer_interview").item("consent")
    sign_in(page, live_server, fieldwork["researcher"].email)
    open_field_mode(page, live_server)
    assert page.is_visible("#language")
    page.select_option("#language", "pl")
    page.context.set_offline(True)
    record_interview(page, "Park i biblioteka.")
    page.click("#start")  # the next interview starts in the language last chosen
    assert page.get_attribute(FORM, "lang") == "pl"
    assert consent.label("pl") in page.inner_text(f"{FORM} [data-item=consent] legend")
    assert axe_violations(page) == []
    page.click(f"{FORM} [data-discard]")
    page.context.set_offline(False)
    wait_unsent(page, 0)
    rows = stored(session)
    assert [(r.language, r.answers["good_for_children"]) for r in rows] == [
        ("pl", "Park i biblioteka.")
    ]


def test_expired_session_keeps_interviews_and_asks_to_sign_in(
    page, live_server, session, fieldwork
):
    sign_in(page, live_server, fieldwork["researcher"].email)
    open_field_mode(page, live_server)
    page.context.set_offline(True)
    record_interview(page, "Kept while signed out")
    page.context.clear_cookies()  # the session has gone
    page.context.set_offline(False)
    page.wait_for_selector("#signin-needed:not([hidden])", timeout=15_000)
    assert unsent(page) == 1
    assert stored(session) == []


def axe_violations(page: Any) -> list[dict[str, Any]]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    return list(results.response["violations"])


def _open_answer(session: Session, fieldwork: dict[str, Any]) -> str:
    """An approved interview with an open answer naming a child, and one theme."""
    import uuid

    from surveys.models import InstrumentVersion
    from surveys.services import coding, store_response

    version = session.scalar(
        select(InstrumentVersion).where(InstrumentVersion.instrument_id == "peer_interview")
    )
    stored = store_response(
        session,
        response_id=str(uuid.uuid4()),
        wave=fieldwork["wave"],
        version=version,
        channel="field",
        answers={
            "consent": "yes",
            "respondent_under16": "no",
            "good_for_children": "Jayden goes to Jubilee Primary School and loves the park.",
        },
        site=fieldwork["area"],
        status="approved",
    )
    coding.add_theme(
        session,
        actor_id=fieldwork["admin"].id,
        community_id=fieldwork["wave"].community_id,
        name="Parks and play",
        description="Outdoor space to play",
        example="the park",
    )
    session.commit()
    assert stored.response is not None
    return stored.response.id


def test_field_and_coding_pages_have_no_axe_violations(page, live_server, session, fieldwork):
    response_id = _open_answer(session, fieldwork)
    sign_in(page, live_server, fieldwork["researcher"].email)
    open_field_mode(page, live_server)
    page.click("#start")
    choose(page, "consent", "yes")
    pages = {"field app with an interview open": axe_violations(page)}
    page.goto(f"{live_server}/field/")
    pages["field home"] = axe_violations(page)
    page.click("button.link-button")  # sign out
    page.goto(f"{live_server}/field/withdraw")
    pages["withdraw"] = axe_violations(page)
    sign_in(page, live_server, fieldwork["admin"].email)
    answer = f"{response_id}/good_for_children"
    for path in (
        "/field/review",
        f"/field/review/{response_id}",
        "/field/assignments",
        "/field/upload",
        "/coding/",
        "/coding/themes",
        f"/coding/answer/{answer}",
        f"/coding/quote/{answer}",
        "/coding/agreement",
        "/coding/reconcile",
        "/coding/quotes",
    ):
        page.goto(f"{live_server}{path}")
        pages[path] = axe_violations(page)
    problems = {
        name: [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in found]
        for name, found in pages.items()
        if found
    }
    assert problems == {}
