"""The core team's side of field work: review, assignments, and uploads of unsent files."""

from __future__ import annotations

import secrets

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from surveys.errors import ServiceError
from surveys.models import Community, Site, User, Wave, WaveInstrument
from surveys.models.field import FieldInterview
from surveys.services import create_user, instrument_of
from surveys.services import field as field_service
from webapp.database import db_session
from webapp.field import bp
from webapp.field.access import roles
from webapp.field.forms import AssignmentForm, InviteForm, ReviewForm, UploadForm
from webapp.field.routes import _answered

SHOW = ("new", "flagged", "approved", "rejected", "all")


@bp.get("/review")
@roles("admin")
def review_list() -> str:
    """Field interviews waiting for review (or another view of them)."""
    show = request.args.get("show", "new")
    if show not in SHOW:
        show = "new"
    session = db_session()
    rows = field_service.review_queue(
        session, community_id=int(current_user.community_id), show=show
    )
    flagged = {
        m.response_id
        for m in session.scalars(
            select(FieldInterview).where(FieldInterview.response_id.in_([r.id for r in rows]))
        )
        if m.flagged
    }
    researchers = {u.id: u.display_name or u.email for u in session.scalars(select(User))}
    return render_template(
        "field/review_list.html",
        rows=rows,
        show=show,
        shows=SHOW,
        flagged=flagged,
        researchers=researchers,
    )


@bp.route("/review/<response_id>", methods=["GET", "POST"])
@roles("admin")
def review(response_id: str) -> str | WerkzeugResponse:
    """One interview: its answers and the decision form."""
    session = db_session()
    community_id = int(current_user.community_id)
    try:
        row = field_service.get_interview(
            session,
            actor_id=int(current_user.id),
            role="admin",
            community_id=community_id,
            response_id=response_id,
        )
    except field_service.InterviewNotFound:
        abort(404)
    form = ReviewForm()
    error = ""
    if form.validate_on_submit():
        try:
            field_service.review_interview(
                session,
                reviewer_id=int(current_user.id),
                community_id=community_id,
                response_id=row.id,
                action=form.action.data or "",
                note=form.note.data or "",
            )
        except field_service.FieldError as err:
            session.rollback()
            error = str(err).capitalize() + "."
        else:
            session.commit()
            flash("Your decision was saved.", "success")
            return redirect(url_for("field.review_list"))
    meta = session.get(FieldInterview, row.id)
    return render_template(
        "field/review.html",
        response=row,
        meta=meta,
        questions=_answered(instrument_of(row.instrument_version), row.answers),
        form=form,
        error=error,
    )


@bp.route("/assignments", methods=["GET", "POST"])
@roles("admin")
def assignments() -> str | WerkzeugResponse:
    """Invite researchers and assign them to waves, areas and questionnaires."""
    session = db_session()
    community_id = int(current_user.community_id)
    researchers = list(
        session.scalars(
            select(User)
            .where(User.community_id == community_id, User.role == "researcher")
            .order_by(User.display_name, User.email)
        )
    )
    waves = list(
        session.scalars(
            select(Wave).where(Wave.community_id == community_id).order_by(Wave.id.desc())
        )
    )
    sites = list(
        session.scalars(
            select(Site).where(Site.community_id == community_id).order_by(Site.kind, Site.name)
        )
    )
    instrument_ids = sorted(
        {
            wi.instrument_version.instrument_id
            for wi in session.scalars(
                select(WaveInstrument).where(WaveInstrument.wave_id.in_([w.id for w in waves]))
            )
        }
    )
    form = AssignmentForm(prefix="assign")
    form.user_id.choices = [SelectChoice(u.id, u.display_name or u.email) for u in researchers]
    form.wave_id.choices = [SelectChoice(w.id, w.name) for w in waves]
    form.site_id.choices = [SelectChoice(s.id, f"{s.name} ({s.kind})") for s in sites]
    form.instrument_id.choices = [SelectChoice(i, i) for i in instrument_ids]
    invite = InviteForm(prefix="invite")
    error = ""
    new_password = ""
    if request.method == "POST" and "invite-email" in request.form:
        if invite.validate_on_submit():
            community = session.get(Community, community_id)
            if community is None:
                abort(400)
            try:
                new_password = secrets.token_urlsafe(12)
                create_user(
                    session,
                    community=community,
                    email=invite.email.data or "",
                    password=new_password,
                    role="researcher",
                    display_name=invite.display_name.data or "",
                )
            except ServiceError as err:
                session.rollback()
                new_password = ""
                error = str(err).capitalize() + "."
            else:
                session.commit()
                flash(
                    f"Account made. Give {invite.email.data} this first password in person:"
                    f" {new_password}",
                    "success",
                )
                return redirect(url_for("field.assignments"))
    elif form.validate_on_submit():
        user = session.get(User, form.user_id.data)
        wave = session.get(Wave, form.wave_id.data)
        site = session.get(Site, form.site_id.data)
        if (
            user is None
            or wave is None
            or site is None
            or {user.community_id, wave.community_id, site.community_id} != {community_id}
        ):
            abort(404)  # not of this community: as if it did not exist
        try:
            field_service.assign_researcher(
                session,
                actor_id=int(current_user.id),
                user=user,
                wave=wave,
                site=site,
                instrument_id=form.instrument_id.data or "",
            )
        except ValueError as err:
            session.rollback()
            error = str(err).capitalize() + "."
        else:
            session.commit()
            flash("Assignment saved.", "success")
            return redirect(url_for("field.assignments"))
    table = [(u, field_service.assignments_for(session, u.id)) for u in researchers]
    return render_template(
        "field/assignments.html", form=form, invite=invite, table=table, error=error
    )


@bp.post("/assignments/<int:assignment_id>/remove")
@roles("admin")
def remove_assignment(assignment_id: int) -> WerkzeugResponse:
    """End an assignment."""
    session = db_session()
    removed = field_service.remove_assignment(
        session,
        actor_id=int(current_user.id),
        community_id=int(current_user.community_id),
        assignment_id=assignment_id,
    )
    if not removed:
        abort(404)
    session.commit()
    flash("Assignment removed.", "success")
    return redirect(url_for("field.assignments"))


@bp.route("/upload", methods=["GET", "POST"])
@roles("admin")
def upload() -> str:
    """Store the interviews of a file a researcher exported from field mode."""
    form = UploadForm()
    report = None
    error = ""
    if form.validate_on_submit():
        session = db_session()
        data = form.file.data.read()
        try:
            report = field_service.import_unsent(
                session,
                actor_id=int(current_user.id),
                community_id=int(current_user.community_id),
                data=data,
            )
        except field_service.FieldError as err:
            session.rollback()
            error = str(err).capitalize() + "."
        else:
            session.commit()
    return render_template("field/upload.html", form=form, report=report, error=error)
