"""The partner organisations the partnership survey maps: list them, upload a CSV."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select

from surveys.errors import RowErrors, ServiceError
from surveys.models import Organisation
from surveys.services.network import import_organisations, parse_organisations_csv
from webapp.admin import bp
from webapp.admin.routes import Page, _audit, _community, admin_required, form_errors
from webapp.database import db_session


class OrganisationsUploadForm(FlaskForm):  # type: ignore[misc]
    """A CSV of partner organisations."""

    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file to upload")])


@bp.route("/organisations", methods=["GET", "POST"])
@admin_required
def organisations() -> Page:
    """Partner organisations: the list, and a CSV upload (every bad row is listed)."""
    community = _community()
    db = db_session()
    upload = OrganisationsUploadForm(prefix="csv")
    problems: list[str] = []
    if request.method == "POST" and upload.validate_on_submit():
        try:
            rows = parse_organisations_csv(
                upload.file.data.read(), source=upload.file.data.filename or "organisations.csv"
            )
        except RowErrors as err:
            problems = err.problems
        except ServiceError as err:
            problems = [str(err)]
        else:
            added, updated = import_organisations(db, community=community, rows=rows)
            _audit("organisations_import", "community", community.id, added=added, updated=updated)
            db.commit()
            flash(f"{added} organisations added and {updated} updated.", "success")
            return redirect(url_for("admin.organisations"))
    listed = db.scalars(
        select(Organisation)
        .where(Organisation.community_id == community.id)
        .order_by(Organisation.code)
    ).all()
    errors = form_errors(upload) + [(upload.file.id, p) for p in problems]
    return render_template(
        "admin/organisations.html",
        organisations=listed,
        upload=upload,
        errors=errors,
        problems=problems,
    )
