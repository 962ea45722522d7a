"""Field mode: the researcher's pages, the offline app shell, its service worker and API.

The interview endpoint takes JSON with a header CSRF token (``X-CSRFToken``, read from
the app's meta tag or from ``/field/api/session``) and the signed-in session; it answers
JSON: 201 stored, 200 already stored (a retry), 409 conflict, 422 invalid, 401 signed out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from flask import (
    Response as FlaskResponse,
)
from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as WerkzeugResponse

from instruments import Instrument
from instruments.model import RTL_LANGUAGES
from surveys.errors import Conflict
from surveys.models import InstrumentVersion
from surveys.services import field as field_service
from surveys.services import instrument_of, ratelimit
from webapp.database import db_session
from webapp.field import bp
from webapp.field.access import api_roles, roles
from webapp.field.forms import WithdrawForm

STATIC_FIELD = Path(__file__).resolve().parents[1] / "static" / "field"
#: Files the service worker keeps for offline use (besides the app page itself).
SHELL_ASSETS = ("site.css", "field/field.js", "field/relevance.js", "field/icon.svg")


@dataclass(frozen=True)
class Question:
    """One item as field mode renders it."""

    name: str
    type: str
    label: str
    hint: str
    required: bool
    relevant: str
    multiline: bool
    choices: tuple[tuple[str, str], ...]
    heading: str


def _combined_relevance(instrument: Instrument, group_names: tuple[str, ...], own: str) -> str:
    parts = [
        f"({instrument.group(g).relevant})" for g in group_names if instrument.group(g).relevant
    ]
    if own:
        parts.append(f"({own})")
    return " and ".join(parts)


def questions_of(instrument: Instrument, language: str = "") -> list[Question]:
    """The instrument's notes and questions in form order and ``language`` (default: the
    instrument's own), with their full relevance."""
    language = language or instrument.default_language
    result = []
    last_group = ""
    for item in instrument.items:
        if item.type == "calculate":
            continue
        group = item.groups[-1] if item.groups else ""
        heading = ""
        if group and group != last_group:
            heading = instrument.group(group).label(language)
        last_group = group
        result.append(
            Question(
                name=item.name,
                type=item.type,
                label=item.label(language),
                hint=item.hint(language),
                required=item.required,
                relevant=_combined_relevance(instrument, item.groups, item.relevant),
                multiline="multiline" in item.appearance,
                choices=tuple((c.name, c.label(language)) for c in item.choices),
                heading=heading,
            )
        )
    return result


@dataclass(frozen=True)
class FieldForm:
    """An instrument's questions in one language, as one form of the offline app."""

    language: str
    name: str
    direction: str
    questions: list[Question]


def _forms_of(instrument: Instrument) -> list[FieldForm]:
    """The instrument's forms, its default language first."""
    codes = [instrument.default_language] + [
        code for code in instrument.languages if code != instrument.default_language
    ]
    return [
        FieldForm(
            language=code,
            name=instrument.languages.get(code, code),
            direction="rtl" if code.split("-")[0] in RTL_LANGUAGES else "ltr",
            questions=questions_of(instrument, code),
        )
        for code in codes
    ]


def _me() -> tuple[int, str, int]:
    return int(current_user.id), str(current_user.role), int(current_user.community_id)


@bp.get("/")
@roles("researcher", "admin")
def home() -> str:
    """The researcher's own interviews, counts and assignments."""
    session = db_session()
    actor_id, role, community_id = _me()
    interviews = field_service.list_interviews(
        session, actor_id=actor_id, role="researcher", community_id=community_id
    )
    return render_template(
        "field/home.html",
        assignments=field_service.assignments_for(session, actor_id),
        counts=field_service.researcher_counts(session, actor_id),
        interviews=interviews,
        is_admin=role == "admin",
    )


@bp.get("/interviews/<response_id>")
@roles("researcher", "admin")
def interview(response_id: str) -> str:
    """One of the researcher's own interviews (an admin sees any in the community)."""
    actor_id, role, community_id = _me()
    session = db_session()
    try:
        row = field_service.get_interview(
            session,
            actor_id=actor_id,
            role=role,
            community_id=community_id,
            response_id=response_id,
        )
    except field_service.InterviewNotFound:
        abort(404)
    instrument = instrument_of(row.instrument_version)
    return render_template(
        "field/interview.html", response=row, questions=_answered(instrument, row.answers)
    )


def _answered(instrument: Instrument, answers: dict[str, Any]) -> list[tuple[str, str]]:
    language = instrument.default_language
    rows = []
    for item in instrument.items:
        if item.name not in answers:
            continue
        value = answers[item.name]
        names = value if isinstance(value, list) else [value]
        shown = []
        for name in names:
            choice = item.choice(str(name)) if item.choices else None
            shown.append(choice.label(language) if choice else str(name))
        rows.append((item.label(language), ", ".join(shown)))
    return rows


@bp.get("/app")
@roles("researcher", "admin")
def app_shell() -> str:
    """The offline app: one page, every assigned questionnaire, kept by the service worker."""
    session = db_session()
    actor_id, _role, _community = _me()
    assignments = [
        a for a in field_service.assignments_for(session, actor_id) if a.version_id is not None
    ]
    # One form per questionnaire and language: the interview is held in the resident's
    # language, chosen when it starts, and the page works offline in every one of them.
    forms: dict[str, tuple[Instrument, list[FieldForm]]] = {}
    for a in assignments:
        if a.instrument_id in forms or a.version_id is None:
            continue
        version = session.get(InstrumentVersion, a.version_id)
        if version is None:
            continue
        instrument = instrument_of(version)
        forms[a.instrument_id] = (instrument, _forms_of(instrument))
    config = {
        "researcherId": actor_id,
        "assignments": [
            {
                "key": f"{a.wave_id}:{a.site_id}:{a.instrument_id}",
                "waveId": a.wave_id,
                "siteId": a.site_id,
                "siteName": a.site_name,
                "instrumentId": a.instrument_id,
                "label": f"{a.site_name} – {forms[a.instrument_id][0].title('en')} ({a.wave_name})",
                "languages": [
                    {"code": form.language, "name": form.name} for form in forms[a.instrument_id][1]
                ],
            }
            for a in assignments
            if a.wave_status == "open" and a.instrument_id in forms
        ],
        "urls": {
            "session": url_for("field.api_session"),
            "interviews": url_for("field.api_interviews"),
            "login": url_for("auth.login", next=url_for("field.app_shell")),
            "sw": url_for("field.service_worker"),
            "scope": url_for("field.home"),
        },
    }
    return render_template("field/app.html", config=config, forms=forms)


@cache
def _asset_version() -> str:
    digest = hashlib.sha256()
    for name in ("sw.js", *[Path(a).name for a in SHELL_ASSETS if a.startswith("field/")]):
        path = STATIC_FIELD / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@bp.get("/sw.js")
def service_worker() -> FlaskResponse:
    """The service worker, served from /field/ so its scope covers the app."""
    source = (STATIC_FIELD / "sw.js").read_text(encoding="utf-8")
    assets = [url_for("field.app_shell"), url_for("field.manifest")] + [
        url_for("static", filename=a) for a in SHELL_ASSETS
    ]
    import json

    source = source.replace("__VERSION__", _asset_version()).replace(
        "__ASSETS__", json.dumps(assets)
    )
    response = current_app.response_class(source, mimetype="application/javascript")
    response.headers["Service-Worker-Allowed"] = url_for("field.home")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/manifest.webmanifest")
def manifest() -> FlaskResponse:
    """The web app manifest, so field mode can be added to a phone's home screen."""
    data = {
        "name": "placevoice field mode",
        "short_name": "Field mode",
        "start_url": url_for("field.app_shell"),
        "scope": url_for("field.home"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#12436d",
        "icons": [
            {
                "src": url_for("static", filename="field/icon.svg"),
                "sizes": "any",
                "type": "image/svg+xml",
            }
        ],
    }
    response = jsonify(data)
    response.mimetype = "application/manifest+json"
    return response


# --- JSON API ---------------------------------------------------------------------------


@bp.get("/api/session")
@api_roles("researcher", "admin")
def api_session() -> FlaskResponse:
    """Who is signed in, and a fresh CSRF token for the interview endpoint."""
    return jsonify(researcher_id=int(current_user.id), csrf_token=generate_csrf())


@bp.route("/api/interviews", methods=["GET", "POST"])
@api_roles("researcher", "admin")
def api_interviews() -> tuple[FlaskResponse, int] | FlaskResponse:
    """GET: the researcher's own interviews. POST: store one interview (idempotent)."""
    session = db_session()
    actor_id, role, community_id = _me()
    if request.method == "GET":
        rows = field_service.list_interviews(
            session, actor_id=actor_id, role="researcher", community_id=community_id
        )
        return jsonify(
            interviews=[
                {
                    "id": r.id,
                    "status": r.status,
                    "site_id": r.site_id,
                    "submitted_at": r.submitted_at.isoformat() if r.submitted_at else None,
                }
                for r in rows
            ]
        )
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return jsonify(error="send the interview as a JSON object", status=400), 400
    if role != "researcher":
        return jsonify(error="only researchers record interviews", status=403), 403
    try:
        received = field_service.receive_interview(
            session, researcher_id=actor_id, community_id=community_id, payload=payload
        )
    except Conflict as err:
        session.rollback()
        return jsonify(error=str(err), status=409, id=str(payload.get("id", ""))), 409
    except field_service.InvalidInterview as err:
        session.rollback()
        return jsonify(error=str(err), problems=err.problems, status=422), 422
    except field_service.NotAssigned as err:
        session.rollback()
        return jsonify(error=str(err), status=403), 403
    except field_service.FieldError as err:
        session.rollback()
        return jsonify(error=str(err), status=422), 422
    session.commit()
    code = 201 if received.created else 200
    return jsonify(id=received.id, outcome=received.outcome, status=code), code


@bp.get("/api/interviews/<response_id>")
@api_roles("researcher", "admin")
def api_interview(response_id: str) -> tuple[FlaskResponse, int] | FlaskResponse:
    """One of the researcher's own interviews; 404 for anyone else's."""
    actor_id, role, community_id = _me()
    try:
        row = field_service.get_interview(
            db_session(),
            actor_id=actor_id,
            role=role,
            community_id=community_id,
            response_id=response_id,
        )
    except field_service.InterviewNotFound:
        return jsonify(error="not found", status=404), 404
    return jsonify(id=row.id, status=row.status, answers=row.answers, site_id=row.site_id)


@bp.errorhandler(400)
@bp.errorhandler(413)
def _api_error(error: HTTPException) -> tuple[FlaskResponse, int] | tuple[str, int]:
    """JSON errors for the field API (a missing CSRF token, a body that is too large)."""
    code = error.code or 400
    limit = int(current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
    if code == 413:
        message = f"The upload is too large. Files can be at most {limit} MB."
    else:
        message = error.description or "Something in the request was not right."
    if request.path.startswith(url_for("field.home") + "api/"):
        return jsonify(error=message, status=code), code
    return render_template("error.html", code=code, message=message), code


# --- withdrawal (public) -----------------------------------------------------------------


@bp.route("/withdraw", methods=["GET", "POST"])
def withdraw() -> tuple[str, int] | WerkzeugResponse:
    """A respondent withdraws their interview with the receipt code they were given."""
    form = WithdrawForm()
    error = ""
    status = 200
    if form.validate_on_submit():
        session = db_session()
        key = ratelimit.client_key(request.remote_addr or "", str(current_app.secret_key))
        try:
            ratelimit.check(session, bucket="withdraw", key=key)
        except ratelimit.RateLimited as err:
            error = f"Too many attempts. Try again in {err.retry_after} seconds."
            status = 429
        else:
            if field_service.withdraw(session, form.code.data or ""):
                session.commit()
                flash("Your interview has been deleted. Thank you for telling us.", "success")
                return redirect(url_for("field.withdraw"))
            ratelimit.record(session, bucket="withdraw", key=key)
            session.commit()
            error = "We could not find an interview with that receipt code. Check it and try again."
    return render_template("field/withdraw.html", form=form, error=error), status
