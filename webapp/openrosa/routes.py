"""OpenRosa form list, form download and submission for ODK Collect and KoboCollect.

Every response carries ``X-OpenRosa-Version: 1.0``. Researchers sign in with HTTP Basic
(their placevoice email and password; use HTTPS). Submissions land as responses with
channel ``odk``: 201 when stored, 202 for an identical re-submission (nothing stored
twice), 409 for different content under an instanceID already used, 400 for unreadable
or unsafe XML, 413 when too large.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from xml.sax.saxutils import escape

from flask import Response, current_app, request, url_for
from sqlalchemy import select
from werkzeug.datastructures import Authorization

from instruments.xform import to_xform
from surveys.errors import Conflict
from surveys.models import InstrumentVersion, User
from surveys.services import field as field_service
from surveys.services import instrument_of, ratelimit
from webapp.auth.throttle import throttle_for
from webapp.database import db_session
from webapp.openrosa import bp
from webapp.openrosa.instance import BadInstance, parse_instance

OPENROSA_VERSION = "1.0"
REALM = "placevoice"
#: Largest submission accepted (bytes); ODK Collect splits larger ones (none here: no media).
MAX_SUBMISSION = 10 * 1024 * 1024
XML = "text/xml; charset=utf-8"


def _response(body: str, status: int = 200, mimetype: str = XML) -> Response:
    response = Response(body, status=status, content_type=mimetype)
    response.headers["X-OpenRosa-Version"] = OPENROSA_VERSION
    return response


def _message(text: str, status: int, nature: str = "") -> Response:
    attribute = f' nature="{nature}"' if nature else ""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<OpenRosaResponse xmlns="http://openrosa.org/http/response">'
        f"<message{attribute}>{escape(text)}</message></OpenRosaResponse>"
    )
    return _response(body, status)


def _challenge() -> Response:
    response = _message("Sign in with your placevoice email address and password.", 401)
    response.headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    return response


class _TooMany(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after


#: Seconds a verified Basic credential is remembered by this worker, so that ODK Collect's
#: burst of requests (form list, forms, HEAD, submissions) pays argon2 once, not each time.
VERIFIED_TTL = 300.0
_verified: dict[str, float] = {}


def _credential_key(user: User, password: str) -> str:
    """A keyed digest of the credential; it changes when the password hash changes."""
    material = f"{user.id}:{user.password_hash}:{password}".encode()
    return hmac.new(str(current_app.secret_key).encode(), material, hashlib.sha256).hexdigest()


def _remembered(user: User | None, password: str) -> bool:
    if user is None or not user.active or user.role != "researcher":
        return False
    key = _credential_key(user, password)
    expires = _verified.get(key)
    if expires is None:
        return False
    if expires < time.monotonic():
        _verified.pop(key, None)
        return False
    return True


def _remember(user: User, password: str) -> None:
    now = time.monotonic()
    if len(_verified) > 1000:
        for stale in [k for k, t in _verified.items() if t < now]:
            _verified.pop(stale, None)
    _verified[_credential_key(user, password)] = now + VERIFIED_TTL


def _researcher() -> User | None:
    """The researcher the Basic credentials belong to.

    Failed attempts are throttled exactly like the sign-in page (``webapp.auth.throttle``):
    per account and client address, and per account. So colleagues behind one address (a
    school's or a community centre's Wi-Fi) are never locked out by one person's typos.
    """
    auth: Authorization | None = request.authorization
    if auth is None or auth.type != "basic" or not auth.username or auth.password is None:
        return None
    session = db_session()
    account = session.scalar(select(User).where(User.email == auth.username.strip().lower()))
    throttle = throttle_for(request, auth.username)
    try:
        throttle.check(session, account.id if account else None)
    except ratelimit.RateLimited as err:
        raise _TooMany(err.retry_after) from None
    if _remembered(account, auth.password):
        return account
    user = field_service.authenticate_researcher(session, auth.username, auth.password)
    if user is None:
        throttle.failed(session, account.id if account else None)
        session.commit()
        return None
    _remember(user, auth.password)
    return user


@bp.errorhandler(_TooMany)
def _too_many(err: _TooMany) -> Response:
    response = _message("Too many failed sign-ins. Wait and try again.", 429)
    response.headers["Retry-After"] = str(err.retry_after)
    return response


def _xform_for(version: InstrumentVersion, user: User) -> bytes:
    """The version's XForm; the area is filled in when the researcher has only one."""
    xml = to_xform(instrument_of(version))
    areas = {
        a.site_name
        for a in field_service.assignments_for(db_session(), user.id)
        if a.version_id == version.id and a.wave_status == "open"
    }
    if len(areas) == 1 and "<area/>" in xml:
        start = xml.index("<instance>")
        position = xml.index("<area/>", start)
        area = escape(next(iter(areas)))
        xml = xml[:position] + f"<area>{area}</area>" + xml[position + len("<area/>") :]
    return xml.encode("utf-8")


@bp.get("/formList")
def form_list() -> Response:
    """The forms this researcher may fill in (OpenRosa xformsList)."""
    user = _researcher()
    if user is None:
        return _challenge()
    entries = []
    for version in field_service.odk_versions(db_session(), user.id):
        data = _xform_for(version, user)
        url = url_for("openrosa.form", version_id=version.id, _external=True)
        entries.append(
            "<xform>"
            f"<formID>{escape(version.instrument_id)}</formID>"
            f"<name>{escape(version.title)}</name>"
            f"<version>{escape(version.version)}</version>"
            f"<hash>md5:{hashlib.md5(data, usedforsecurity=False).hexdigest()}</hash>"
            f"<downloadUrl>{escape(url)}</downloadUrl>"
            "</xform>"
        )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<xforms xmlns="http://openrosa.org/xforms/xformsList">' + "".join(entries) + "</xforms>"
    )
    return _response(body)


@bp.get("/forms/<int:version_id>/form.xml")
def form(version_id: int) -> Response:
    """Download one XForm (only a form the researcher is assigned)."""
    user = _researcher()
    if user is None:
        return _challenge()
    allowed = {v.id: v for v in field_service.odk_versions(db_session(), user.id)}
    version = allowed.get(version_id)
    if version is None:
        return _message("There is no such form for you.", 404)
    return _response(_xform_for(version, user).decode("utf-8"))


@bp.route("/submission", methods=["HEAD", "POST"])
def submission() -> Response:
    """Receive one filled-in form from ODK Collect or KoboCollect."""
    user = _researcher()
    if user is None:
        return _challenge()
    if request.method == "HEAD":
        response = _response("", 204)
        response.headers["X-OpenRosa-Accept-Content-Length"] = str(MAX_SUBMISSION)
        response.headers["Location"] = url_for("openrosa.submission", _external=True)
        return response
    if (request.content_length or 0) > MAX_SUBMISSION:
        return _message("The submission is too large.", 413)
    upload = request.files.get("xml_submission_file")
    if upload is None:
        return _message("The submission has no xml_submission_file part.", 400)
    data = upload.read(MAX_SUBMISSION + 1)
    if len(data) > MAX_SUBMISSION:
        return _message("The submission is too large.", 413)
    try:
        instance = parse_instance(data)
    except BadInstance as err:
        return _message(f"The form could not be read: {err}.", 400)
    session = db_session()
    try:
        wave, site, version = field_service.resolve_odk_target(
            session,
            user_id=user.id,
            form_id=instance.form_id,
            version=instance.version,
            area=instance.answers.get("area", ""),
        )
        received = field_service.record_interview(
            session,
            researcher_id=user.id,
            response_id=instance.instance_id,
            wave=wave,
            site=site,
            version=version,
            answers=instance.answers,
            channel="odk",
        )
    except Conflict:
        session.rollback()
        return _message(
            "A different form was already received with this instance ID; nothing was changed.",
            409,
        )
    except field_service.NotAssigned as err:
        session.rollback()
        return _message(str(err).capitalize() + ".", 403)
    except field_service.FieldError as err:
        session.rollback()
        return _message(str(err).capitalize() + ".", 400)
    session.commit()
    if received.created:
        return _message("Thank you: the interview was received.", 201, "submit_success")
    return _message("This interview was already received.", 202, "submit_success")
