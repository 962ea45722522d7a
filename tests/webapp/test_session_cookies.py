"""A respondent's session is not rewritten on every request; staff sessions stay protected."""

from __future__ import annotations

from typing import Any


def test_respondent_session_is_not_resent_on_each_request(client: Any) -> None:
    with client.session_transaction() as sess:
        sess["take_rid"] = "00000000-0000-0000-0000-000000000000"
    response = client.get("/start")
    assert response.status_code == 200
    cookies = response.headers.getlist("Set-Cookie")
    assert not any(c.startswith("remember_token=") for c in cookies), cookies
    assert not any(c.startswith("placevoice=") for c in cookies), cookies


def test_staff_session_from_another_browser_is_still_checked(
    client: Any, make_user: Any, login: Any
) -> None:
    login(make_user(role="admin"))
    with client.session_transaction() as sess:
        assert sess.get("_fresh") is True
    assert client.get("/admin/", headers={"User-Agent": "another browser"}).status_code == 200
    with client.session_transaction() as sess:  # Flask-Login's protection still ran
        assert sess.get("_fresh") is False or "_user_id" not in sess
