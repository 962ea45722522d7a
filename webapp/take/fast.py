"""The submit fast path: a class of 30 pressing Send at once should not queue behind Flask.

``POST /s/<rid>/submit`` is the one request every respondent makes at the same moment at
the end of a lesson, and it is the one the throughput budget (DESIGN.md section 8) is set
for. Its common case is small: check the draft's form token, submit the draft
(:func:`surveys.services.submit.submit_draft`), redirect to the thank-you page. This WSGI
middleware does exactly that case without building a Flask request context, opening the
session cookie, running the app's request hooks or rendering anything: about half of what
the request cost through Flask (docs/taking-surveys.md, "Measured").

Everything else goes on to the Flask view (``webapp.take.routes.submit``) unchanged: no or
a wrong token (the view checks the browser's session binding), answers that fail
validation (the view shows check-your-answers with the errors), a closed wave or a missing
draft (the view's messages), any database error (the view's 503 with Retry-After), and
any request that is not a plain URL-encoded form. Handing over after a failed attempt is
safe because submitting is idempotent and the attempts that fail change nothing. The
response is the view's: the same status, ``Location`` and security headers
(``tests/webapp/test_take_fast.py`` compares the two paths).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Flask
from werkzeug.utils import redirect

from surveys.services import check_response_id
from surveys.services.submit import submit_draft
from webapp.extensions import security_headers
from webapp.take.flow import token_matches

__all__ = ["FastSubmit", "install"]

_SUBMIT_PATH = re.compile(r"/s/([0-9a-fA-F-]{32,36})/submit")
_FORM = "application/x-www-form-urlencoded"
#: A submit form holds one token (64 hex characters); anything much bigger is not one.
_MAX_BODY = 2048

#: Redirects kept: one per channel, language and scheme in practice.
_MAX_REPLIES = 256

StartResponse = Callable[..., Any]
_Reply = tuple[str, tuple[tuple[str, str], ...], bytes]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class FastSubmit:
    """WSGI middleware answering the common case of a submit; the rest goes to ``app``."""

    def __init__(self, flask_app: Flask, wsgi_app: WSGIApp) -> None:
        self.flask_app = flask_app
        self.wsgi_app = wsgi_app
        self._replies: dict[tuple[str, bool], _Reply] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST":
            match = _SUBMIT_PATH.fullmatch(environ.get("PATH_INFO", ""))
            if match is not None:
                answered = self._submit(environ, match.group(1), start_response)
                if answered is not None:
                    return answered
        return self.wsgi_app(environ, start_response)

    def _submit(
        self, environ: dict[str, Any], rid: str, start_response: StartResponse
    ) -> Iterable[bytes] | None:
        """The redirect for a submit this path can answer; None to hand it to the view."""
        token = self._token(environ)
        try:
            rid = check_response_id(rid)
        except ValueError:
            return None
        if token is None or not token_matches(str(self.flask_app.secret_key or ""), rid, token):
            return None
        try:
            result = submit_draft(self.flask_app.extensions["placevoice.engine"], rid)
        except Exception:
            return None
        if result.validated is not None and not result.validated.ok:
            return None
        https = environ.get("wsgi.url_scheme") == "https"
        location = (
            environ.get("SCRIPT_NAME", "")
            + "/done?"
            + urlencode({"who": result.channel, "lang": result.language})
        )
        status, headers, body = self._redirect(location, https)
        start_response(status, list(headers))
        return [body]

    def _redirect(self, location: str, https: bool) -> _Reply:
        """The view's redirect to ``location``, made once and kept (a handful exist)."""
        key = (location, https)
        reply = self._replies.get(key)
        if reply is None:
            response = redirect(location)
            response.headers.extend(security_headers(https=https, static=False))
            reply = (response.status, tuple(response.headers.to_wsgi_list()), response.get_data())
            if len(self._replies) < _MAX_REPLIES:
                self._replies[key] = reply
        return reply

    @staticmethod
    def _token(environ: dict[str, Any]) -> str | None:
        """The form's ``draft_token``, leaving the body readable for the view."""
        content_type = str(environ.get("CONTENT_TYPE", "")).split(";")[0].strip().lower()
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        if content_type != _FORM or not 0 < length <= _MAX_BODY:
            return None
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except (UnicodeDecodeError, ValueError):
            return None
        tokens = [value for name, value in fields if name == "draft_token"]
        return tokens[0] if tokens else None


def install(app: Flask) -> None:
    """Put the fast path in front of ``app``'s WSGI callable (``FAST_SUBMIT`` turns it off)."""
    if app.config.get("FAST_SUBMIT", True):
        app.wsgi_app = FastSubmit(app, app.wsgi_app)  # type: ignore[method-assign]
