"""Helpers for the survey pages: binding a draft to a browser, languages, field rendering.

**Who may see a draft.** A response id in a URL is not enough to read answers: the draft
is bound to the browser's signed session cookie when it is started or resumed. Without
that binding a page asks for the code and resume word (:func:`webapp.take.routes.resume`).

**Why no answer is lost to an expired session.** Survey pages do not use the session-bound
CSRF token. Each draft has its own form token, an HMAC of the response id under the app's
secret key, put in every form of that draft. It cannot be guessed by another site (CSRF
protection), it never expires while the draft is open, and a POST carrying it re-binds the
draft to the browser, so a form left open for hours, or whose cookie was cleared, still
saves and submits.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any

from flask import current_app, g, request, session
from flask_babel import gettext as _
from flask_babel import refresh

from instruments import Instrument
from instruments.model import RTL_LANGUAGES, Item
from surveys.validation import AnswerError, Problem

__all__ = [
    "INTERFACE_LANGUAGES",
    "answer_text",
    "bind",
    "bound",
    "client_address",
    "draft_token",
    "error_text",
    "field_id",
    "form_errors",
    "token_matches",
    "token_ok",
    "use_language",
]

#: Languages the interface is translated into (webapp/translations), with their own names.
INTERFACE_LANGUAGES: dict[str, str] = {
    "en": "English",
    "pl": "Polski",
    "tr": "Türkçe",
    "ur": "اردو",
}

SESSION_DRAFT = "take_rid"
SESSION_LANG = "take_lang"


def draft_token(response_id: str) -> str:
    """The form token of one draft (see the module docstring)."""
    return _token(str(current_app.secret_key or ""), response_id)


def _token(secret_key: str, response_id: str) -> str:
    return hmac.new(
        secret_key.encode(), f"draft:{response_id}".encode(), hashlib.sha256
    ).hexdigest()


def token_ok(response_id: str, token: str | None) -> bool:
    """Whether ``token`` is the draft's form token."""
    return token_matches(str(current_app.secret_key or ""), response_id, token)


def token_matches(secret_key: str, response_id: str, token: str | None) -> bool:
    """Whether ``token`` is the form token of ``response_id`` under ``secret_key``."""
    return bool(token) and hmac.compare_digest(_token(secret_key, response_id), str(token))


def bind(response_id: str) -> None:
    """Bind a draft to this browser."""
    session[SESSION_DRAFT] = response_id


def bound(response_id: str) -> bool:
    """Whether this browser holds the draft."""
    return bool(session.get(SESSION_DRAFT) == response_id)


def use_language(language: str) -> dict[str, str]:
    """Make ``language`` the page language; returns ``page_lang``/``page_dir`` for base.html."""
    g.language = language if language in INTERFACE_LANGUAGES else "en"
    refresh()
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?", language):
        language = "en"
    base = language.split("-")[0]
    return {"page_lang": language, "page_dir": "rtl" if base in RTL_LANGUAGES else "ltr"}


def client_address() -> str:
    """The client's address as the server sees it (a proxy sets X-Forwarded-For via ProxyFix)."""
    return request.remote_addr or "unknown"


def field_id(name: str, index: int = 0) -> str:
    """The id of a question's first input (what error links point at), or its n-th choice."""
    return f"f-{name}" if index == 0 else f"f-{name}-{index}"


def form_errors(form: Any, *names: str, problem: str = "") -> list[tuple[str, str]]:
    """(link target, message) for the error summary: each named field's errors, then
    ``problem`` (a refusal of the whole form) linked to the first field."""
    errors = [(field_id(name), message) for name in names for message in form[name].errors]
    return errors + ([(field_id(names[0]), problem)] if problem else [])


def error_text(error: AnswerError, item: Item, language: str) -> str:
    """A respondent-facing sentence for one problem, in the page language."""
    if error.problem is Problem.CONSTRAINT:
        return (
            item.constraint_messages.get(language)
            or str(error.params.get("message") or "")
            or _("Check this answer")
        )
    messages = {
        Problem.NOT_A_CHOICE: _("Choose one of the answers shown"),
        Problem.ONE_CHOICE_ONLY: _("Choose only one answer"),
        Problem.NOT_INTEGER: _("Enter a whole number, like 3"),
        Problem.NOT_NUMBER: _("Enter a number, like 2.5"),
        Problem.NOT_DATE: _("Enter a real date"),
        Problem.OUT_OF_RANGE: _("Enter a number from %(start)s to %(end)s"),
        Problem.OFF_STEP: _("Enter a number from the scale shown"),
        Problem.TOO_LONG: _("Your answer is too long"),
        Problem.REQUIRED: item.required_messages.get(language) or _("Answer this question"),
    }
    text = messages.get(error.problem, _("Check this answer"))
    params = {k: v for k, v in error.params.items() if k in ("start", "end")}
    return str(text % params if params else text)


def answer_text(item: Item, value: Any, language: str) -> str:
    """A stored answer as the respondent reads it on the check-answers page."""
    if value is None or value == "" or value == []:
        return ""
    if item.type == "select_one":
        choice = item.choice(str(value))
        return choice.label(language) if choice else str(value)
    if item.type == "select_multiple":
        names = value if isinstance(value, list) else str(value).split()
        labels = [(item.choice(n).label(language) if item.choice(n) else n) for n in names]  # type: ignore[union-attr]
        return ", ".join(labels)
    return str(value)


def raw_answers(
    instrument: Instrument, names: list[str], form: Mapping[str, Any]
) -> dict[str, object]:
    """The posted values of a page's questions (an unticked box list posts nothing)."""
    raw: dict[str, object] = {}
    for name in names:
        item = instrument.item(name)
        if not item.answerable:
            continue
        if item.type == "select_multiple":
            raw[name] = form.getlist(name)  # type: ignore[attr-defined]
        else:
            raw[name] = form.get(name, "")
    return raw
