"""The demo serves over plain http (its cookies work there); ``placevoice serve`` does not.

Both commands are run up to the point where gunicorn would start; the app each would
serve is built from the configuration it was given, and a staff member signs in to it
over http://127.0.0.1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import PASSWORD
from webapp.cli import serve as serve_cli


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """The apps gunicorn would have served (one per command run), instead of serving."""
    apps: list[Any] = []
    monkeypatch.setattr(serve_cli._Server, "run", lambda self: apps.append(self.load()))
    yield apps
    for app in apps:
        app.extensions["placevoice.engine"].dispose()


def _session_cookie(app: Any, email: str) -> str:
    client = app.test_client()
    base = "http://127.0.0.1:5078"
    page = client.get("/login", base_url=base).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    data = {"email": email, "password": PASSWORD, "csrf_token": token.group(1) if token else ""}
    reply = client.post("/login", data=data, base_url=base)
    assert reply.status_code == 302, reply.get_data(as_text=True)[:300]
    cookies = reply.headers.getlist("Set-Cookie")
    name = app.config["SESSION_COOKIE_NAME"]
    return next(c for c in cookies if c.startswith(f"{name}="))


def _flags(cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])  # noqa: S104 - what is tested
def test_the_demo_session_cookie_works_over_plain_http(
    db_url: str, make_user: Any, served: list[Any], host: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from webapp.cli.demo import serve_demo

    admin = make_user("admin")
    serve_demo(db_url, host=host, port=5078)
    (app,) = served
    cookie = _session_cookie(app, admin.email)
    assert "secure" not in _flags(cookie)
    assert {"httponly", "samesite"} <= _flags(cookie)
    err = capsys.readouterr().err
    if host == "0.0.0.0":  # noqa: S104
        assert "plain http" in err and "trusted network" in err
    else:
        assert "plain http" not in err


def test_placevoice_serve_keeps_the_secure_flag_by_default(
    db_url: str, make_user: Any, served: list[Any], run_cli: Any
) -> None:
    admin = make_user("admin")
    result = run_cli("serve", env={"PLACEVOICE_SECRET_KEY": "s" * 48})
    assert result.exit_code == 0, result.output
    (app,) = served
    assert {"secure", "httponly", "samesite"} <= _flags(_session_cookie(app, admin.email))
