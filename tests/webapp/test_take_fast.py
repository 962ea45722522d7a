"""The submit fast path answers exactly as the view would, and hands everything else over."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from surveys.models import Response, Wave
from tests.webapp.test_take import post_page, school, start, stored, token_of

__all__ = ["school"]  # the fixture, shared with test_take


@pytest.fixture
def make_app(app_config: dict[str, Any]) -> Iterator[Callable[..., Any]]:
    """make_app(**config): another app on the test database."""
    from webapp import create_app

    made: list[Any] = []

    def make(**config: Any) -> Any:
        made.append(create_app({**app_config, **config}))
        return made[-1]

    yield make
    for application in made:
        application.extensions["placevoice.engine"].dispose()


@pytest.fixture
def counted_view(app: Any) -> dict[str, int]:
    """How often the Flask submit view ran."""
    calls = {"n": 0}
    view = app.view_functions["take.submit"]

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        return view(*args, **kwargs)

    app.view_functions["take.submit"] = counting
    return calls


def _ready_draft(client: Any, code: str) -> tuple[str, str]:
    rid = start(client, code)
    token = token_of(client, rid)
    assert post_page(client, rid, "about_you", {"year_group": "year6"}, token).status_code == 302
    return rid, token


def _comparable(reply: Any) -> tuple[int, str, dict[str, str], bytes]:
    headers = {k: v for k, v in reply.headers.items() if k not in ("Vary", "Set-Cookie")}
    return reply.status_code, reply.headers["Location"], headers, reply.data


def test_the_fast_path_answers_as_the_view_does(
    app_config: dict[str, Any],
    school: dict[str, Any],
    session: Session,
    make_app: Callable[..., Any],
) -> None:
    fast_app, view_app = make_app(FAST_SUBMIT=True), make_app(FAST_SUBMIT=False)
    replies = []
    for application in (fast_app, view_app):
        client = application.test_client()
        rid, token = _ready_draft(client, school["code"].code)
        fresh = application.test_client()  # no cookie: the token alone authorises it
        replies.append(fresh.post(f"/s/{rid}/submit", data={"draft_token": token}))
        assert stored(session, rid).status == "submitted"
    fast, view = (_comparable(r) for r in replies)
    assert fast == view
    assert fast[0] == 302 and fast[1] == "/done?who=class&lang=en"
    assert "Content-Security-Policy" in fast[2] and fast[2]["Cache-Control"] == "no-store"


def test_the_common_case_never_reaches_the_view(
    client: Any, school: dict[str, Any], session: Session, counted_view: dict[str, int]
) -> None:
    rid, token = _ready_draft(client, school["code"].code)
    for _ in range(2):  # and a double click
        reply = client.post(f"/s/{rid}/submit", data={"draft_token": token})
        assert reply.status_code == 302 and reply.headers["Location"].startswith("/done?")
    assert counted_view["n"] == 0
    assert stored(session, rid).status == "submitted"


def test_anything_else_is_the_views(
    app: Any,
    client: Any,
    school: dict[str, Any],
    session: Session,
    counted_view: dict[str, int],
) -> None:
    rid, token = _ready_draft(client, school["code"].code)
    # no token: the browser's session binding decides (this client started the draft)
    reply = client.post(f"/s/{rid}/submit", data={"other": "x"})
    assert reply.status_code == 302 and reply.headers["Location"].startswith("/done?")
    assert counted_view["n"] == 1

    rid, token = _ready_draft(client, school["code"].code)
    stranger = app.test_client()
    wrong = stranger.post(f"/s/{rid}/submit", data={"draft_token": "0" * 64})
    assert wrong.status_code == 302 and "/resume" in wrong.headers["Location"]
    as_json = stranger.post(f"/s/{rid}/submit", json={"draft_token": token})
    assert as_json.status_code == 302 and "/resume" in as_json.headers["Location"]
    assert counted_view["n"] == 3
    assert stored(session, rid).status == "draft"

    # answers that no longer validate: the view shows check-your-answers with the error
    session.execute(
        update(Response).where(Response.id == rid).values(answers={"year_group": "year99"})
    )
    session.commit()
    reply = stranger.post(f"/s/{rid}/submit", data={"draft_token": token})
    assert reply.status_code == 200 and b"There is a problem" in reply.data
    assert counted_view["n"] == 4

    # a closed wave: the view's message, and nothing stored
    session.execute(update(Wave).values(status="closed"))
    session.commit()
    closed = stranger.post(f"/s/{rid}/submit", data={"draft_token": token})
    assert closed.status_code == 409
    assert stored(session, rid).status == "draft"
    unknown = stranger.post("/s/00000000-0000-4000-8000-000000000000/submit", data={})
    assert unknown.status_code in (302, 404)
    assert counted_view["n"] == 6
