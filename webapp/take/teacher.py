"""The teacher's live count: how many pupils in the class have started and finished.

Reached with the class code and the class's teacher PIN, or signed in as school staff of
that school (or the core team). It shows counts only: never who, never any answer.
"""

from __future__ import annotations

from flask import abort, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from surveys.models import AccessCode, SchoolClass, Wave
from surveys.services.drafts import DraftError, check_teacher_pin, class_counts, find_code
from surveys.services.ratelimit import RateLimited, check, client_key, record
from webapp.auth.access import require_site
from webapp.database import db_session
from webapp.take import bp
from webapp.take.flow import client_address, form_errors, use_language
from webapp.take.forms import TeacherForm
from webapp.take.routes import limited_message

SESSION_TEACHER = "take_teacher"


@bp.route("/teacher", methods=["GET", "POST"])
def teacher() -> str | WerkzeugResponse | tuple[str, int]:
    """Sign in to a class's live count with the class code and teacher PIN."""
    lang = use_language("en")
    form = TeacherForm()
    error = ""
    status = 200
    if form.validate_on_submit():
        db = db_session()
        key = client_key(client_address(), str(current_app.secret_key or ""))
        try:
            check(db, bucket="pin", key=key)
            code: AccessCode | None = find_code(db, form.code.data or "", starting=False)
        except RateLimited as err:
            error, status, code = limited_message(err), 429, None
        except DraftError:
            code = None
        if status == 200:
            school_class = code.school_class if code is not None else None
            if school_class is not None and check_teacher_pin(school_class, form.pin.data or ""):
                session[SESSION_TEACHER] = [school_class.id, code.wave_id]  # type: ignore[union-attr]
                return redirect(url_for("take.teacher_live"))
            record(db, bucket="pin", key=key)
            db.commit()
            error = _("The class code or teacher PIN is not right. Check both and try again.")
    errors = form_errors(form, "code", "pin", problem=error)
    return render_template("take/teacher_login.html", form=form, errors=errors, **lang), status


def _counts_page(class_id: int, wave_id: int, json_url: str) -> str | WerkzeugResponse:
    db = db_session()
    school_class = db.get(SchoolClass, class_id)
    wave = db.get(Wave, wave_id)
    if school_class is None or wave is None or wave.community_id != school_class.site.community_id:
        abort(404)  # a wave of another community is not this class's
    counts = class_counts(db, class_id=class_id, wave_id=wave_id)
    if request.args.get("format") == "json":
        return jsonify(
            started=counts.started,
            answering=counts.answering,
            finished=counts.finished,
            size=counts.size,
        )
    return render_template(
        "take/teacher.html",
        school_class=school_class,
        wave=wave,
        counts=counts,
        json_url=json_url,
        signed_in_with_pin=SESSION_TEACHER in session,
        **use_language("en"),
    )


@bp.get("/teacher/live")
def teacher_live() -> str | WerkzeugResponse:
    """The live count for the class this browser signed in to with a PIN."""
    held = session.get(SESSION_TEACHER)
    if not held:
        return redirect(url_for("take.teacher"))
    class_id, wave_id = int(held[0]), int(held[1])
    return _counts_page(class_id, wave_id, url_for("take.teacher_live", format="json"))


@bp.get("/teacher/class/<int:class_id>/<int:wave_id>")
def teacher_staff(class_id: int, wave_id: int) -> str | WerkzeugResponse:
    """The live count for school staff of the class's school, or the core team."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    school_class = db_session().get(SchoolClass, class_id)
    if school_class is None:
        abort(404)
    if current_user.role not in ("admin", "school_staff"):
        abort(403)
    # Another school's (or community's) class: 404, so its existence is not revealed.
    require_site(school_class.site_id, site_community_id=school_class.site.community_id)
    return _counts_page(
        class_id,
        wave_id,
        url_for("take.teacher_staff", class_id=class_id, wave_id=wave_id, format="json"),
    )


@bp.post("/teacher/leave")
def teacher_leave() -> WerkzeugResponse:
    """Stop showing the live count on this device."""
    session.pop(SESSION_TEACHER, None)
    return redirect(url_for("take.teacher"))
