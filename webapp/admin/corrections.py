"""Core team screens for correcting mistakes: find, delete and move a response; edit and
retire sites, classes and waves. Deleting and retiring go through a confirmation page;
every change is audited by the service it calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.errors import NotFound, ServiceError
from surveys.models import SchoolClass, Site
from surveys.services.corrections import (
    Retirable,
    community_response,
    delete_response,
    edit_class,
    edit_site,
    move_response,
    rename_wave,
    restore,
    retire,
)
from webapp.admin import bp
from webapp.admin.forms import (
    DeleteResponseForm,
    EditClassForm,
    EditSiteForm,
    EmptyForm,
    FindResponseForm,
    MoveResponseForm,
    RenameWaveForm,
    choices,
)
from webapp.admin.routes import Page, _site, admin_required, form_errors
from webapp.auth.access import community_wave
from webapp.database import db_session


def _class(class_id: int) -> SchoolClass:
    cls = db_session().get(SchoolClass, class_id)
    if cls is None or cls.site.community_id != current_user.community_id:
        abort(404)
    return cls


def _response(response_id: str) -> Any:
    try:
        return community_response(db_session(), current_user.community_id, response_id)
    except NotFound:
        abort(404)


# --- responses ------------------------------------------------------------------------------


@bp.get("/responses")
@admin_required
def find_response() -> Page:
    """Look a response up by its id (as in exports) to delete or move it."""
    form = FindResponseForm(request.args)
    found = None
    errors: list[tuple[str, str]] = []
    if request.args and form.validate():
        try:
            found = community_response(db_session(), current_user.community_id, form.id.data)
        except NotFound:
            errors = [(form.id.id, "No response of your community has that id")]
    elif request.args:
        errors = form_errors(form)
    return render_template("admin/find_response.html", form=form, found=found, errors=errors)


@bp.route("/responses/<response_id>/delete", methods=["GET", "POST"])
@admin_required
def delete_response_page(response_id: str) -> Page:
    """Confirm, with a reason, then delete one response (e.g. a teacher's test run)."""
    response = _response(response_id)
    form = DeleteResponseForm()
    if form.validate_on_submit():
        db = db_session()
        delete_response(
            db,
            actor=current_user.id,
            community_id=current_user.community_id,
            response=response,
            reason=form.reason.data or "",
        )
        db.commit()
        flash("The response has been deleted. The reason is kept in the audit log.", "success")
        return redirect(url_for("admin.find_response"))
    return render_template(
        "admin/confirm_delete.html", response=response, form=form, errors=form_errors(form)
    )


@bp.route("/responses/<response_id>/move", methods=["GET", "POST"])
@admin_required
def move_response_page(response_id: str) -> Page:
    """Move a pupil's response to another class (a pupil who used the wrong code)."""
    response = _response(response_id)
    db = db_session()
    classes = list(
        db.scalars(
            select(SchoolClass)
            .join(Site)
            .where(
                Site.community_id == current_user.community_id,
                Site.retired_at.is_(None),
                SchoolClass.retired_at.is_(None),
            )
            .order_by(Site.name, SchoolClass.year_group, SchoolClass.name)
        )
    )
    form = MoveResponseForm()
    form.to.choices = choices([(str(c.id), f"{c.site.name}: {c.name}") for c in classes])
    error = ""
    if form.validate_on_submit():
        to = next((c for c in classes if str(c.id) == form.to.data), None)
        if to is None:
            error = "Choose a class"
        else:
            try:
                before, after = move_response(
                    db,
                    actor=current_user.id,
                    community_id=current_user.community_id,
                    response=response,
                    to=to,
                )
            except ServiceError as err:
                error = str(err).capitalize()
            else:
                db.commit()
                flash(f"The response has moved from {before} to {after}.", "success")
                return redirect(url_for("admin.find_response", id=response.id))
    errors = form_errors(form) + ([(form.to.id, error)] if error else [])
    return render_template("admin/move_response.html", response=response, form=form, errors=errors)


# --- edit -----------------------------------------------------------------------------------


def _edit_page(title: str, form: Any, back: str, error: str = "") -> Page:
    errors = form_errors(form) + ([(form.name.id, error)] if error else [])
    return render_template("admin/edit.html", title=title, form=form, back=back, errors=errors)


def _save_edit(
    form: Any, title: str, back: str, change: Callable[[Session], object], saved: Callable[[], str]
) -> Page:
    """The edit pages' one flow: a valid form makes ``change`` and goes ``back`` with the
    ``saved`` message; a refused change shows the form again with the service's reason."""
    if form.validate_on_submit():
        db = db_session()
        try:
            change(db)
        except ServiceError as err:
            return _edit_page(title, form, back, str(err).capitalize())
        db.commit()
        flash(saved(), "success")
        return redirect(back)
    return _edit_page(title, form, back)


@bp.route("/sites/<int:site_id>/edit", methods=["GET", "POST"])
@admin_required
def edit_site_page(site_id: int) -> Page:
    """Change a school's or area's name, population or postcodes."""
    site = _site(site_id)
    form = EditSiteForm(obj=site)
    return _save_edit(
        form,
        f"Change {site.name}",
        url_for("admin.sites"),
        lambda db: edit_site(
            db,
            actor=current_user.id,
            community_id=current_user.community_id,
            site=site,
            name=form.name.data,
            population=form.population.data,
            postcodes=form.postcodes.data or "",
        ),
        lambda: f"{site.name} saved.",
    )


@bp.route("/classes/<int:class_id>/edit", methods=["GET", "POST"])
@admin_required
def edit_class_page(class_id: int) -> Page:
    """Change a class's name, year group or size."""
    cls = _class(class_id)
    form = EditClassForm(obj=cls)
    return _save_edit(
        form,
        f"Change class {cls.name}",
        url_for("admin.site", site_id=cls.site_id),
        lambda db: edit_class(
            db,
            actor=current_user.id,
            community_id=current_user.community_id,
            school_class=cls,
            name=form.name.data,
            year_group=form.year_group.data,
            size=form.size.data,
        ),
        lambda: f"Class {cls.name} saved.",
    )


@bp.route("/waves/<int:wave_id>/edit", methods=["GET", "POST"])
@admin_required
def edit_wave_page(wave_id: int) -> Page:
    """Rename a wave."""
    wave = community_wave(wave_id)
    form = RenameWaveForm(obj=wave)
    return _save_edit(
        form,
        f"Rename {wave.name}",
        url_for("admin.wave", wave_id=wave.id),
        lambda db: rename_wave(
            db,
            actor=current_user.id,
            community_id=current_user.community_id,
            wave=wave,
            name=form.name.data or "",
        ),
        lambda: f"The wave is now called {wave.name}.",
    )


# --- retire ---------------------------------------------------------------------------------

_WHAT = {Site: "site", SchoolClass: "class"}


def _retire_page(obj: Retirable, back: str) -> Page:
    """The confirmation page (GET) and the change (POST, ``undo`` brings it back)."""
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        db = db_session()
        change = restore if request.form.get("undo") == "1" else retire
        change(db, actor=current_user.id, community_id=current_user.community_id, obj=obj)
        db.commit()
        state = "back in use" if obj.retired_at is None else "retired"
        flash(f"{obj.name} is {state}.", "success")
        return redirect(back)
    kind = _WHAT.get(type(obj), "wave")
    return render_template("admin/confirm_retire.html", obj=obj, kind=kind, form=form, back=back)


@bp.route("/sites/<int:site_id>/retire", methods=["GET", "POST"])
@admin_required
def retire_site(site_id: int) -> Page:
    """Retire a school or area (or bring it back)."""
    return _retire_page(_site(site_id), url_for("admin.sites"))


@bp.route("/classes/<int:class_id>/retire", methods=["GET", "POST"])
@admin_required
def retire_class(class_id: int) -> Page:
    """Retire a class (or bring it back)."""
    cls = _class(class_id)
    return _retire_page(cls, url_for("admin.site", site_id=cls.site_id))


@bp.route("/waves/<int:wave_id>/retire", methods=["GET", "POST"])
@admin_required
def retire_wave(wave_id: int) -> Page:
    """Retire a wave (or bring it back)."""
    wave = community_wave(wave_id)
    return _retire_page(wave, url_for("admin.wave", wave_id=wave.id))
