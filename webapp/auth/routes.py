"""Sign in (throttled), sign out, the staff inactivity timeout, and the user loader."""

from __future__ import annotations

import time
from typing import Any

from flask import (
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from surveys.models import User
from surveys.services import verify_password
from surveys.services.audit import audit
from surveys.services.setup import password_hasher
from webapp.auth import bp
from webapp.auth.access import is_json_request
from webapp.auth.forms import LoginForm
from webapp.auth.throttle import (
    DEVICE_COOKIE,
    DEVICE_MAX_AGE,
    RateLimited,
    device_cookie_value,
    throttle_for,
)
from webapp.database import db_session
from webapp.extensions import login_manager
from webapp.redirects import safe_target

#: Session key holding the time (epoch seconds) of the signed-in user's last request.
LAST_SEEN = "_pv_last_seen"
#: Costs an unknown email the same argon2 verification as a known one.
_DUMMY_HASH = password_hasher().hash("placevoice-no-such-account")

#: Where each role lands after signing in.
HOME = {
    "admin": "admin.dashboard",
    "school_staff": "school.home",
    "researcher": "field.home",
    "coder": "coding.home",
}


class SessionUser:
    """The signed-in user as Flask-Login sees it (no ORM object kept across requests)."""

    def __init__(self, user: User) -> None:
        self.id = user.id
        self.email = user.email
        self.display_name = user.display_name
        self.role = user.role
        self.community_id = user.community_id
        self.site_ids = user.site_ids
        self.is_active = user.active
        self.is_authenticated = True
        self.is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)


@login_manager.user_loader  # type: ignore[untyped-decorator]
def load_user(user_id: str) -> SessionUser | None:
    """Reload the user on each request; a deactivated account is signed out."""
    try:
        user = db_session().get(User, int(user_id))
    except ValueError:
        return None
    if user is None or not user.active:
        return None
    return SessionUser(user)


def home_for(role: str) -> str:
    """The landing URL for a role (the front page if its area is not installed)."""
    from flask import current_app

    endpoint = HOME.get(role, "main.index")
    return url_for(endpoint) if endpoint in current_app.view_functions else url_for("main.index")


def _verify(user: User | None, password: str) -> bool:
    if user is None:
        try:
            password_hasher().verify(_DUMMY_HASH, password)
        except Exception:  # noqa: S110 - only the time it takes matters here
            pass
        return False
    return bool(user.active and verify_password(user, password))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Sign in with email and password (throttled per account and per client)."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user.role))
    form = LoginForm()
    error = ""
    status = 200
    retry_after: int | None = None
    if form.validate_on_submit():
        db = db_session()
        email = (form.email.data or "").strip().lower()
        user = db.scalar(select(User).where(User.email == email))
        user_id = user.id if user is not None else None
        throttle = throttle_for(request, email)
        try:
            throttle.check(db, user_id)
        except RateLimited as err:
            retry_after = err.retry_after
            minutes = max(1, (err.retry_after + 59) // 60)
            error = (
                "There have been too many sign-in attempts for this account."
                f" Wait {minutes} minute{'s' if minutes != 1 else ''} and try again."
            )
            status = 429
            if user is not None:
                audit(db, user.id, "login_throttled", "user", user.id)
                db.commit()
        else:
            if user is not None and _verify(user, form.password.data or ""):
                session.clear()
                login_user(SessionUser(user))
                session.permanent = True
                session[LAST_SEEN] = int(time.time())
                audit(db, user.id, "login", "user", user.id)
                db.commit()
                target = safe_target(request.args.get("next")) or home_for(user.role)
                response = make_response(redirect(target))
                response.set_cookie(
                    DEVICE_COOKIE,
                    device_cookie_value(user.id),
                    max_age=DEVICE_MAX_AGE,
                    path=url_for("auth.login"),
                    secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
                    httponly=True,
                    samesite="Strict",
                )
                return response
            if user is None:
                _verify(None, form.password.data or "")
            error = "The email address or password is not right."
            throttle.failed(db, user_id)
            if user is not None:
                audit(db, user.id, "login_failed", "user", user.id)
            db.commit()
    idle_minutes = (
        int(current_app.config.get("STAFF_IDLE_MINUTES") or 0) if request.args.get("idle") else 0
    )
    page = render_template("auth/login.html", form=form, error=error, idle_minutes=idle_minutes)
    response = make_response(page, status)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.post("/logout")
@login_required  # type: ignore[untyped-decorator]
def logout() -> WerkzeugResponse:
    """Sign out and forget the session."""
    if current_user.is_authenticated:
        db = db_session()
        audit(db, int(current_user.id), "logout", "user", current_user.id)
        db.commit()
    logout_user()
    session.clear()
    return redirect(url_for("main.index"))


@bp.before_app_request
def _staff_idle_timeout() -> Any:
    """Sign staff out after STAFF_IDLE_MINUTES without a request."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = int(time.time())
    idle = int(current_app.config.get("STAFF_IDLE_MINUTES") or 0) * 60
    last = session.get(LAST_SEEN)
    if idle and isinstance(last, int) and now - last > idle:
        logout_user()
        session.clear()
        if is_json_request():
            return jsonify(error="signed out after inactivity; sign in again", status=401), 401
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?"), idle=1))
    if not isinstance(last, int) or now - last >= 15:
        session[LAST_SEEN] = now
    return None
