"""Sign-in throttling, the staff idle timeout, cookies, security headers, CSRF, 413, 503."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.security.conftest import World
from webapp.auth.routes import LAST_SEEN
from webapp.auth.throttle import DEVICE_COOKIE


def _client_from(app: Any, address: str) -> Any:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _sign_in(client: Any, email: str, password: str) -> Any:
    return client.post("/login", data={"email": email, "password": password})


# --- throttling ---------------------------------------------------------------------------


def test_one_client_is_slowed_after_ten_failures_but_others_are_not(app: Any, world: World) -> None:
    email = world.users["admin"].email
    attacker = _client_from(app, "198.51.100.7")
    for _ in range(10):
        assert _sign_in(attacker, email, "wrong").status_code == 200
    refused = _sign_in(attacker, email, PASSWORD)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert b"too many sign-in attempts" in refused.data
    # The account's owner, elsewhere, is not locked out.
    owner = _client_from(app, "203.0.113.9")
    assert _sign_in(owner, email, PASSWORD).status_code == 302


def test_at_most_100_failures_an_hour_per_account_and_no_lockout_for_a_known_device(
    app: Any, world: World
) -> None:
    email = world.users["staff_own"].email
    # The owner signed in earlier on their laptop: it holds a recognised-device cookie.
    laptop = _client_from(app, "192.0.2.10")
    assert _sign_in(laptop, email, PASSWORD).status_code == 302
    assert laptop.get_cookie(DEVICE_COOKIE, path="/login") is not None
    laptop.post("/logout")
    # An attacker spreads 100 guesses over 20 addresses (5 each, under the per-client cap).
    for n in range(100):
        reply = _sign_in(_client_from(app, f"10.0.{n // 5}.1"), email, f"guess-{n}")
        assert reply.status_code == 200, n
    # The 101st guess in the hour, from yet another address, is not even checked:
    # not even the right password gets in from an unrecognised device.
    fresh = _client_from(app, "10.9.9.9")
    assert _sign_in(fresh, email, "guess-101").status_code == 429
    assert _sign_in(fresh, email, PASSWORD).status_code == 429
    # ...but the owner's recognised device still signs in.
    assert _sign_in(laptop, email, PASSWORD).status_code == 302


def test_throttling_reveals_nothing_about_which_accounts_exist(app: Any, world: World) -> None:
    client = _client_from(app, "198.51.100.8")
    for _ in range(10):
        _sign_in(client, "nobody@example.org", "wrong")
    assert _sign_in(client, "nobody@example.org", "wrong").status_code == 429


def test_a_forged_device_cookie_does_not_bypass_the_account_cap(app: Any, world: World) -> None:
    email = world.users["coder"].email
    for n in range(100):
        _sign_in(_client_from(app, f"10.1.{n // 5}.1"), email, "wrong")
    forger = _client_from(app, "10.8.8.8")
    forger.set_cookie(DEVICE_COOKIE, "eyJ1IjozfQ.forged", path="/login")
    assert _sign_in(forger, email, PASSWORD).status_code == 429


def test_failed_and_throttled_sign_ins_are_audited(app: Any, world: World, session: Any) -> None:
    from sqlalchemy import select

    from surveys.models import AuditEntry

    client = _client_from(app, "198.51.100.9")
    for _ in range(11):
        _sign_in(client, world.users["admin"].email, "wrong")
    actions = list(session.scalars(select(AuditEntry.action)))
    assert actions.count("login_failed") == 10
    assert actions.count("login_throttled") == 1


# --- idle timeout -------------------------------------------------------------------------


@pytest.fixture
def idle_app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["STAFF_IDLE_MINUTES"] = 5
    return app_config


def test_staff_are_signed_out_after_the_idle_time(
    idle_app_config: dict[str, Any], app: Any, world: World
) -> None:
    client = app.test_client()
    assert _sign_in(client, world.users["admin"].email, PASSWORD).status_code == 302
    assert client.get("/audit/").status_code == 200
    with client.session_transaction() as sess:
        sess[LAST_SEEN] = int(time.time()) - 4 * 60
    assert client.get("/audit/").status_code == 200  # active within 5 minutes
    with client.session_transaction() as sess:
        sess[LAST_SEEN] = int(time.time()) - 6 * 60
    reply = client.get("/audit/")
    assert reply.status_code == 302
    assert "/login" in reply.headers["Location"] and "idle=1" in reply.headers["Location"]
    page = client.get(reply.headers["Location"])
    assert b"not used for 5 minutes" in page.data
    assert client.get("/audit/").status_code == 302  # really signed out
    with client.session_transaction() as sess:
        assert "_user_id" not in sess


def test_idle_json_clients_get_401(idle_app_config: dict[str, Any], app: Any, world: World) -> None:
    if "api.waves" not in app.view_functions:
        pytest.skip("the results API is not installed")
    client = app.test_client()
    _sign_in(client, world.users["admin"].email, PASSWORD)
    with client.session_transaction() as sess:
        sess[LAST_SEEN] = int(time.time()) - 3600
    assert client.get("/api/waves").status_code == 401


# --- cookies and headers ------------------------------------------------------------------


def test_session_and_device_cookies_are_secure_httponly_samesite(
    app_config: dict[str, Any], world: World
) -> None:
    from webapp import create_app

    app_config["SESSION_COOKIE_SECURE"] = True
    app = create_app(app_config)
    client = app.test_client()
    reply = client.post(
        "/login",
        data={"email": world.users["admin"].email, "password": PASSWORD},
        base_url="https://localhost",
    )
    assert reply.status_code == 302
    cookies = {c.split("=", 1)[0]: c for c in reply.headers.getlist("Set-Cookie")}
    session_cookie = cookies[app.config["SESSION_COOKIE_NAME"]]
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie
    device = cookies[DEVICE_COOKIE]
    assert "Secure" in device and "HttpOnly" in device and "SameSite=Strict" in device
    assert "Path=/login" in device
    app.extensions["placevoice.engine"].dispose()


def test_defaults_make_cookies_secure() -> None:
    from webapp.config import DEFAULTS

    assert DEFAULTS["SESSION_COOKIE_SECURE"] is True
    assert DEFAULTS["SESSION_COOKIE_HTTPONLY"] is True
    assert DEFAULTS["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")


@pytest.mark.parametrize(
    "path", ["/", "/login", "/start", "/resume", "/teacher", "/healthz", "/nope"]
)
def test_every_page_carries_the_security_headers(client: Any, path: str) -> None:
    reply = client.get(path)
    csp = reply.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["X-Frame-Options"] == "DENY"
    assert reply.headers["Referrer-Policy"] == "no-referrer"
    assert reply.headers["Cache-Control"] == "no-store"


def test_https_requests_get_hsts(client: Any) -> None:
    reply = client.get("/", base_url="https://localhost")
    assert reply.headers["Strict-Transport-Security"].startswith("max-age=")


def test_pages_have_no_inline_script_or_style(client: Any) -> None:
    for path in ("/", "/login", "/start"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert " style=" not in html and "<style" not in html, path


# --- CSRF -----------------------------------------------------------------------------------

#: POST routes that do not use the session cookie, so need no CSRF token: HTTP Basic auth.
CSRF_EXEMPT = {"openrosa.submission"}
#: Survey pages exempt from the session CSRF token because each form carries the draft's
#: own form token (an HMAC of the unguessable draft id), which a shared laptop's expired
#: session cannot lose. Without it, a browser that does not hold the draft changes nothing.
DRAFT_TOKEN = {"take.language", "take.question", "take.submit"}


@pytest.fixture
def csrf_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


def _csrf_sign_in(client: Any, email: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    token = token or re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token, "the sign-in form carries a CSRF token"
    reply = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token[1]}
    )
    assert reply.status_code == 302


def test_sign_in_without_a_csrf_token_is_refused(csrf_config: Any, app: Any, world: World) -> None:
    reply = app.test_client().post(
        "/login", data={"email": world.users["admin"].email, "password": PASSWORD}
    )
    assert reply.status_code == 400


@pytest.mark.parametrize("role", ["anonymous", "admin", "researcher"])
def test_every_state_changing_route_needs_a_csrf_token(
    csrf_config: Any, app: Any, world: World, role: str
) -> None:
    from tests.security.test_authorization_matrix import _url

    client = app.test_client()
    if role != "anonymous":
        _csrf_sign_in(client, world.users[role].email)
    wrong = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}):
            if rule.endpoint in CSRF_EXEMPT | DRAFT_TOKEN:
                continue
            url = _url(app, rule.endpoint, world)
            reply = client.open(url, method=method, data={"x": "1"})
            if reply.status_code != 400:
                wrong.append(f"{method} {url} -> {reply.status_code}")
            reply = client.open(url, method=method, json={"x": "1"})
            if reply.status_code not in (400, 401, 403):
                wrong.append(f"{method} {url} (JSON) -> {reply.status_code}")
    assert wrong == [], "state-changing requests accepted without a CSRF token:\n" + "\n".join(
        wrong
    )


def test_draft_token_routes_change_nothing_without_the_token(
    csrf_config: Any, app: Any, world: World, session: Any
) -> None:
    from surveys.models import Response
    from tests.security.test_authorization_matrix import _url

    before = dict(world.draft.answers or {}), world.draft.status
    for endpoint in sorted(DRAFT_TOKEN):
        url = _url(app, endpoint, world)
        reply = app.test_client().post(url, data={"lang": "cy", "answer": "yes"})
        assert reply.status_code in (302, 400, 404), (url, reply.status_code)
        assert "/s/" not in reply.headers.get("Location", "/s/")
    session.expire_all()
    draft = session.get(Response, world.draft.id)
    assert (dict(draft.answers or {}), draft.status) == before


def test_csrf_exempt_routes_refuse_requests_without_credentials(csrf_config: Any, app: Any) -> None:
    from tests.security.test_authorization_matrix import _routes

    for endpoint, method in _routes(app):
        if endpoint in CSRF_EXEMPT:
            rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
            assert app.test_client().open(rule.rule, method=method).status_code == 401


# --- over-large requests and an unavailable database ---------------------------------------


@pytest.mark.parametrize(
    ("path", "json"), [("/start", False), ("/login", False), ("/field/api/interviews", True)]
)
def test_over_large_requests_get_413_with_a_clear_message(
    app: Any, world: World, client_as: Any, path: str, json: bool
) -> None:
    client = client_as("anonymous")
    if path.startswith("/field"):
        if "field.api_interviews" not in app.view_functions:
            pytest.skip("field API not installed")
        client = client_as("researcher")
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = b"x" * (limit + 1)
    kind = "application/json" if json else "application/x-www-form-urlencoded"
    reply = client.post(path, data=body, content_type=kind)
    assert reply.status_code == 413
    text = reply.get_data(as_text=True)
    assert f"at most {limit // (1024 * 1024)} MB" in text
    if json:
        assert reply.get_json()["status"] == 413


def test_an_unavailable_database_gets_503_with_retry_after(app_config: dict[str, Any]) -> None:
    from webapp import create_app

    app_config["DATABASE_URL"] = "postgresql://nobody:x@127.0.0.1:9/none?connect_timeout=2"
    app = create_app(app_config)
    client = app.test_client()
    for path, method in (("/", "GET"), ("/start", "POST"), ("/healthz", "GET")):
        reply = client.open(path, method=method, data={"code": "ABCD2345"})
        assert reply.status_code == 503, (path, reply.status_code)
        if path != "/healthz":
            assert reply.headers["Retry-After"] == "5"
            assert b"try again" in reply.data
    reply = client.get("/api/waves", headers={"Accept": "application/json"})
    assert reply.status_code in (401, 503)
    app.extensions["placevoice.engine"].dispose()


def test_passwords_are_stored_as_argon2id_with_production_parameters(world: World) -> None:
    from surveys.services.setup import PasswordHasher, password_hasher

    assert world.users["admin"].password_hash.startswith("$argon2id$")
    production = PasswordHasher()  # the module's own hasher is cheapened for these tests
    assert production.time_cost >= 2 and production.memory_cost >= 19 * 1024
    assert password_hasher() is not None


def test_text_the_database_cannot_store_is_a_400_not_a_500(
    app: Any, world: World, client_as: Any
) -> None:
    """A NUL character (PostgreSQL refuses it in text) in a form is refused clearly."""
    client = client_as("admin")
    reply = client.post(
        "/admin/sites",
        data={"site-code": "N1", "site-name": "Nul\x00School", "site-kind": "school"},
    )
    assert reply.status_code in (200, 302, 400)
    if app.config["DATABASE_URL"].startswith("postgresql"):
        assert reply.status_code == 400  # refused by the database, answered by the handler
        assert b"cannot be stored" in reply.data
