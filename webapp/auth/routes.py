"""Sign in, sign out, and the user loader."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from surveys.models import AuditEntry, User
from surveys.services import verify_password
from webapp.auth import bp
from webapp.auth.forms import LoginForm
from webapp.database import db_session
from webapp.extensions import login_manager

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


@login_manager.user_loader
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


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | WerkzeugResponse:
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user.role))
    form = LoginForm()
    error = ""
    if form.validate_on_submit():
        db = db_session()
        email = (form.email.data or "").strip().lower()
        user = db.scalar(select(User).where(User.email == email))
        if user is not None and user.active and verify_password(user, form.password.data or ""):
            session.clear()
            login_user(SessionUser(user))
            session.permanent = True
            db.add(
                AuditEntry(
                    user_id=user.id, action="login", object_type="user", object_id=str(user.id)
                )
            )
            db.commit()
            return redirect(_safe_next(request.args.get("next")) or home_for(user.role))
        error = "The email address or password is not right."
        if user is not None:
            db.add(
                AuditEntry(
                    user_id=user.id,
                    action="login_failed",
                    object_type="user",
                    object_id=str(user.id),
                )
            )
            db.commit()
    return render_template("auth/login.html", form=form, error=error)


@bp.post("/logout")
@login_required
def logout() -> WerkzeugResponse:
    """Sign out and forget the session."""
    logout_user()
    session.clear()
    return redirect(url_for("main.index"))
