"""Flask extensions (CSRF, Babel, Login) and the security headers every response carries."""

from __future__ import annotations

import re

from flask import Flask, Response, g, request, session
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

__all__ = ["babel", "csrf", "init_extensions", "login_manager", "security_headers"]


class _LoginManager(LoginManager):  # type: ignore[misc]
    """Flask-Login, leaving the sessions of people who are not signed in alone.

    With ``session_protection = "strong"`` Flask-Login checks every session that holds
    anything against the browser's identifier, and on a mismatch clears its sign-in keys
    and marks the remember cookie for deletion. A respondent's session (the draft it
    holds) never carries a sign-in, so that check found a "mismatch" on every survey
    request: the session cookie was re-signed and a cookie-deleting header sent on each
    page and submit (about 0.25 ms of a 1.1 ms submit). Sessions with a signed-in user
    are checked exactly as before.
    """

    def _session_protection_failed(self) -> bool:
        if "_user_id" not in session:
            return False
        return bool(super()._session_protection_failed())


csrf = CSRFProtect()
babel = Babel()
login_manager = _LoginManager()

#: The staff navigation per role: (endpoint, label, section prefix that marks it current).
STAFF_LINKS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "admin": (
        ("admin.dashboard", "Overview", ""),
        ("admin.waves", "Waves", "admin.wave"),
        ("admin.sites", "Schools and areas", "admin.site"),
        ("results.index", "Results", "results."),
        ("field.review_list", "Interviews", "field.review"),
        ("field.assignments", "Researchers", "field.assign"),
        ("coding.home", "Coding", "coding."),
        ("audit.index", "Audit", "audit."),
    ),
    "school_staff": (("school.home", "My school", "school."),),
    "researcher": (("field.home", "Field mode", "field."),),
    "coder": (("coding.home", "Coding", "coding."),),
}

#: No third-party origins, no inline script; inline styles are not used either.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'; worker-src 'self'; manifest-src 'self'"
)


def select_locale() -> str:
    """The page language: set by the view in ``g.language``, else the configured default."""
    language = getattr(g, "language", None)
    if language:
        return str(language)
    asked = str(request.args.get("lang") or "") if request else ""
    # Only a well-formed language tag (en, pl, pt_BR); anything else would make Babel raise.
    return asked if re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", asked) else "en"


def init_extensions(app: Flask) -> None:
    """Bind the extensions to ``app``."""
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"

    @app.context_processor
    def _endpoints() -> dict[str, object]:
        return {"url_rules": frozenset(app.view_functions), "staff_links": _staff_links}

    def _staff_links(role: str) -> list[tuple[str, str, str]]:
        """(endpoint, label, section prefix) for each area the role may use."""
        return [
            (endpoint, label, section)
            for endpoint, label, section in STAFF_LINKS.get(role, ())
            if endpoint in app.view_functions
        ]

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        for name, value in security_headers(
            https=request.is_secure, static=request.endpoint == "static"
        ):
            headers.setdefault(name, value)
        return response


_SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
_HSTS = (("Strict-Transport-Security", "max-age=31536000"),)
_NO_STORE = (("Cache-Control", "no-store"),)


def security_headers(*, https: bool, static: bool) -> tuple[tuple[str, str], ...]:
    """The headers every response carries (a view may set its own value of any of them)."""
    return _SECURITY_HEADERS + (_HSTS if https else ()) + (() if static else _NO_STORE)
