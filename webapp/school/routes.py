"""School staff pages: /school/ (their schools), results and the pack of each.

Every view looks the school up by its code within the user's community and then checks
``require_site``: staff of another school get 404 whatever the URL, so they cannot even
learn whether a code exists. Admins may use these pages too (they see every school).
"""

from __future__ import annotations

import io

from flask import abort, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response as WerkzeugResponse

from surveys.models import Response, Site, Wave
from surveys.services.audit import audit
from webapp.auth.access import require_site, roles_required, site_visible
from webapp.database import db_session
from webapp.results.data import render_site_pack, wave_contexts
from webapp.results.view import FLAG_TEXT, MARKS, page_context
from webapp.school import bp


def _school(site_code: str) -> Site:
    site = db_session().scalar(
        select(Site).where(
            Site.code == site_code,
            Site.kind == "school",
            Site.community_id == current_user.community_id,
        )
    )
    if site is None:
        abort(404)
    require_site(site.id, site_community_id=site.community_id)
    return site


def _waves_with_responses(site: Site) -> list[Wave]:
    return list(
        db_session().scalars(
            select(Wave)
            .join(Response, Response.wave_id == Wave.id)
            .where(Response.site_id == site.id, Response.status.in_(("submitted", "approved")))
            .group_by(Wave.id)
            .order_by(Wave.id.desc())
        )
    )


def _chosen_wave(site: Site) -> tuple[Wave | None, list[Wave]]:
    waves = _waves_with_responses(site)
    name = request.args.get("wave")
    if name is None:
        return (waves[0] if waves else None), waves
    chosen = next((w for w in waves if w.name == name), None)
    if chosen is None:
        abort(404)
    return chosen, waves


@bp.get("/")
@roles_required("school_staff", "admin")
def home() -> str:
    """The schools this person may see, with their latest results and packs."""
    session = db_session()
    schools = [
        s
        for s in session.scalars(
            select(Site)
            .where(Site.community_id == current_user.community_id, Site.kind == "school")
            .order_by(Site.name)
        )
        if site_visible(s.id, site_community_id=s.community_id)
    ]
    counts = (
        dict(
            session.execute(
                select(Response.site_id, func.count(Response.id))
                .where(
                    Response.site_id.in_([s.id for s in schools]),
                    Response.status.in_(("submitted", "approved")),
                )
                .group_by(Response.site_id)
            ).all()
        )
        if schools
        else {}
    )
    latest: dict[int, Wave | None] = {}
    for school in schools:
        waves = _waves_with_responses(school)
        latest[school.id] = waves[0] if waves else None
    return render_template("school/home.html", schools=schools, counts=counts, latest=latest)


@bp.get("/<site_code>/results")
@roles_required("school_staff", "admin")
def results(site_code: str) -> str:
    """The school's results for a wave (default: the latest), as in its pack."""
    site = _school(site_code)
    wave, waves = _chosen_wave(site)
    context = note = None
    if wave is not None:
        contexts, notes = wave_contexts(db_session(), wave)
        found = next((c for c in contexts if c["site"] == site.code), None)
        context = page_context(found) if found else None
        note = next((n for n in notes if n["site"] == site.code), None)
    return render_template(
        "school/results.html",
        site=site,
        wave=wave,
        waves=waves,
        c=context,
        note=note,
        flag_text=FLAG_TEXT,
        marks=MARKS,
        pdf_url=url_for("school.pack", site_code=site.code, wave=wave.name) if wave else None,
    )


@bp.get("/<site_code>/pack.pdf")
@roles_required("school_staff", "admin")
def pack(site_code: str) -> WerkzeugResponse:
    """The school's feedback pack for a wave (default: the latest). Audit-logged."""
    site = _school(site_code)
    wave, _ = _chosen_wave(site)
    if wave is None:
        abort(404)
    session = db_session()
    path = render_site_pack(session, wave, site.code)
    if path is None:
        abort(404)
    audit(session, current_user.id, "pack_download", "site", site.code, wave=wave.name)
    session.commit()
    return send_file(
        io.BytesIO(path.read_bytes()),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=path.name,
        max_age=0,
    )
