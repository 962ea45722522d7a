"""Area boundaries for maps: upload a GeoJSON file, see every problem, see the outlines."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField
from wtforms.validators import Length, Optional

from exports.maps import MapValue, choropleth_svg
from surveys.services.boundaries import (
    BoundaryError,
    BoundaryPreview,
    load_boundaries,
    read_boundaries,
    store_boundaries,
)
from webapp.admin import bp
from webapp.admin.routes import (
    Page,
    _audit,
    _community,
    _community_sites,
    admin_required,
    form_errors,
)
from webapp.database import db_session


class BoundariesForm(FlaskForm):  # type: ignore[misc]
    """A GeoJSON file of area boundaries and the property naming each feature's area."""

    file = FileField("GeoJSON file", validators=[FileRequired("Choose a GeoJSON file to upload")])
    match = StringField(
        "Property naming each feature's area (optional)", validators=[Optional(), Length(max=100)]
    )


@bp.route("/boundaries", methods=["GET", "POST"])
@admin_required
def boundaries() -> Page:
    """Upload the areas' boundaries; a file with any problem stores nothing."""
    community = _community()
    session = db_session()
    form = BoundariesForm(prefix="geo")
    problems: list[str] = []
    preview: BoundaryPreview | None = None
    if request.method == "POST" and form.validate_on_submit():
        upload = form.file.data
        try:
            preview = read_boundaries(
                session,
                community.id,
                upload.read(),
                match=(form.match.data or "").strip() or None,
                source=upload.filename or "the file",
            )
        except BoundaryError as err:
            problems = [str(err)]
        else:
            problems = list(preview.problems)
            if preview.ok:
                stored = store_boundaries(session, community.id, preview)
                _audit("boundaries_upload", "community", community.id, areas=stored)
                session.commit()
                skipped = (
                    f"; {len(preview.skipped)} feature(s) named no area" if preview.skipped else ""
                )
                flash(f"Boundaries stored for {stored} area(s){skipped}.", "success")
                return redirect(url_for("admin.boundaries"))
    areas = [s for s in _community_sites(community.id) if s.kind == "area"]
    shapes = load_boundaries(session, community.id)
    outline = (
        choropleth_svg(
            shapes,
            {s.code: MapValue(s.name, "", None) for s in areas},
            title="The areas' boundaries as stored",
            width=480,
            ident="outline",
            legend=False,
        )
        if shapes
        else ""
    )
    errors = form_errors(form) + [(form.file.id, p) for p in problems]
    return render_template(
        "admin/boundaries.html",
        form=form,
        areas=areas,
        shapes=shapes,
        outline=outline,
        problems=problems,
        skipped=preview.skipped if preview else [],
        errors=errors,
    )
