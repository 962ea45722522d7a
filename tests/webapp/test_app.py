"""The app factory, landing page, error pages, security headers and staff sign-in."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import AuditEntry
from webapp import create_app
from webapp.config import WeakSecretKey


def test_weak_secret_key_fails_at_start(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLACEVOICE_SECRET_KEY", raising=False)
    with pytest.raises(WeakSecretKey, match="PLACEVOICE_SECRET_KEY"):
        create_app({"DATABASE_URL": db_url})
    with pytest.raises(WeakSecretKey):
        create_app({"DATABASE_URL": db_url, "SECRET_KEY": "short"})
    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "s" * 40})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    app.extensions["placevoice.engine"].dispose()


def test_config_comes_from_prefixed_environment(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLACEVOICE_SECRET_KEY", "e" * 40)
    monkeypatch.setenv("PLACEVOICE_SUPPRESSION_K", "12")
    monkeypatch.setenv("PLACEVOICE_DATABASE_URL", db_url)
    app = create_app()
    assert app.config["SUPPRESSION_K"] == 12
    assert app.config["DATABASE_URL"] == db_url
    app.extensions["placevoice.engine"].dispose()


def test_landing_page_explains_the_product(client, community) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Test Children&#39;s Community" in page or "Test Children's Community" in page
    assert "placevoice helps a Children" in page
    assert '<html lang="en" dir="ltr">' in page


def test_landing_page_without_a_community(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/")
    assert response.status_code == 200
    assert "placevoice demo" in response.get_data(as_text=True)


def test_security_headers(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_not_found_is_a_friendly_page_and_json_for_api(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
    api = client.get("/api/no-such-thing")
    assert api.status_code == 404
    assert api.get_json()["status"] == 404


def test_health_check(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_sign_in_and_out_with_audit(client, make_user, session: Session) -> None:  # type: ignore[no-untyped-def]
    user = make_user("admin", email="lead@example.org")
    wrong = client.post("/login", data={"email": "lead@example.org", "password": "nope"})
    assert wrong.status_code == 200
    assert "The email address or password is not right." in wrong.get_data(as_text=True)
    ok = client.post(
        "/login", data={"email": "Lead@Example.org ", "password": "correct horse battery staple"}
    )
    assert ok.status_code == 302
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.user_id == user.id)).all()
    assert actions == ["login_failed", "login"]
    assert client.post("/logout").status_code == 302


def test_open_redirect_is_refused(client, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("admin", email="lead@example.org")
    response = client.post(
        "/login?next=https://evil.example/steal",
        data={"email": "lead@example.org", "password": "correct horse battery staple"},
    )
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_login_form_needs_csrf_when_enabled(app_config, make_user) -> None:  # type: ignore[no-untyped-def]
    app_config["WTF_CSRF_ENABLED"] = True
    app = create_app(app_config)
    make_user("admin", email="lead@example.org")
    client = app.test_client()
    response = client.post(
        "/login", data={"email": "lead@example.org", "password": "correct horse battery staple"}
    )
    assert response.status_code == 400
    app.extensions["placevoice.engine"].dispose()


@pytest.mark.parametrize(
    ("role", "expected", "absent"),
    [
        ("admin", ["/admin/", "/results/", "/field/review", "/coding/", "/audit/"], ["/school/"]),
        ("school_staff", ["/school/"], ["/admin/", "/audit/"]),
        ("researcher", ["/field/"], ["/admin/", "/results/"]),
        ("coder", ["/coding/"], ["/admin/", "/field/review"]),
    ],
)
def test_staff_navigation_shows_what_each_role_may_use(  # type: ignore[no-untyped-def]
    client, make_user, login, role: str, expected: list[str], absent: list[str]
) -> None:
    login(make_user(role))
    page = client.get("/").get_data(as_text=True)
    nav = page.split('aria-label="Staff"', 1)[1].split("</nav>", 1)[0]
    for href in expected:
        assert f'href="{href}"' in nav
    for href in absent:
        assert f'href="{href}"' not in nav


@pytest.mark.parametrize("lang", ["0", "e1", "../x", "en-GB-x-y-z"])
def test_a_malformed_lang_in_the_query_string_is_not_a_500(client, community, lang) -> None:  # type: ignore[no-untyped-def]
    reply = client.get("/", query_string={"lang": lang})
    assert reply.status_code == 200
    assert 'lang="en"' in reply.get_data(as_text=True)
