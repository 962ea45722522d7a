"""Core team screens: waves, sites, classes, codes and response rates (role admin only)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response as WerkzeugResponse

from surveys.errors import RowErrors, ServiceError
from surveys.models import (
    AccessCode,
    AuditEntry,
    Community,
    InstrumentVersion,
    Response,
    SchoolClass,
    Site,
    Wave,
)
from surveys.services import (
    create_wave,
    format_code,
    import_sites,
    issue_code,
    parse_sites_csv,
    set_wave_status,
)
from surveys.services.drafts import set_teacher_pin
from surveys.services.setup import visible_to
from webapp.admin import bp
from webapp.admin.forms import (
    ClassForm,
    CodesForm,
    EmptyForm,
    PinForm,
    SiteForm,
    SitesUploadForm,
    WaveForm,
    choices,
)
from webapp.auth.access import community_wave
from webapp.database import db_session

F = TypeVar("F", bound=Callable[..., Any])
Page = str | WerkzeugResponse | tuple[str, int]


def admin_required(view: F) -> F:
    """Signed-in core team only: others are sent to sign in (anonymous) or refused (403)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.path))
        if current_user.role != "admin":
            abort(403)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _community() -> Community:
    community = db_session().get(Community, current_user.community_id)
    if community is None:
        abort(404)
    return community


def _community_sites(community_id: int) -> list[Site]:
    """The community's schools, then areas, by code."""
    return list(
        db_session().scalars(
            select(Site).where(Site.community_id == community_id).order_by(Site.kind, Site.code)
        )
    )


def _site(site_id: int) -> Site:
    site = db_session().get(Site, site_id)
    if site is None or site.community_id != current_user.community_id:
        abort(404)
    return site


def _audit(action: str, object_type: str, object_id: object, **detail: object) -> None:
    db_session().add(
        AuditEntry(
            user_id=current_user.id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            detail=detail,
        )
    )


def form_errors(*forms: Any) -> list[tuple[str, str]]:
    """(field id, message) for the error summary."""
    return [(field.id, e) for form in forms for field in form for e in field.errors]


def _rate(count: int, base: int | None) -> float | None:
    return 100.0 * count / base if base else None


# --- dashboard ---------------------------------------------------------------------------


def _counts_by(column: Any, wave_id: int) -> dict[Any, tuple[int, int]]:
    rows = db_session().execute(
        select(column, Response.status, func.count(Response.id))
        .where(Response.wave_id == wave_id)
        .group_by(column, Response.status)
    )
    result: dict[Any, tuple[int, int]] = {}
    for key, status, count in rows:
        started, finished = result.get(key, (0, 0))
        started += count
        if status != "draft":
            finished += count
        result[key] = (started, finished)
    return result


@bp.get("/")
@admin_required
def dashboard() -> Page:
    """Waves at a glance, and where to go next."""
    community = _community()
    db = db_session()
    waves = list(
        db.scalars(select(Wave).where(Wave.community_id == community.id).order_by(Wave.id.desc()))
    )
    totals = {w.id: _counts_by(Response.wave_id, w.id).get(w.id, (0, 0)) for w in waves}
    n_sites = db.scalar(select(func.count(Site.id)).where(Site.community_id == community.id))
    return render_template(
        "admin/dashboard.html", community=community, waves=waves, totals=totals, n_sites=n_sites
    )


# --- waves ---------------------------------------------------------------------------------


def _instrument_choices() -> list[tuple[str, str]]:
    rows = db_session().execute(
        select(InstrumentVersion.instrument_id, InstrumentVersion.title)
        .where(visible_to(current_user.community_id))
        .order_by(InstrumentVersion.instrument_id, InstrumentVersion.id)
    )
    return list({iid: (iid, f"{title} ({iid})") for iid, title in rows}.values())


@bp.route("/waves", methods=["GET", "POST"])
@admin_required
def waves() -> Page:
    """List waves and create one."""
    community = _community()
    db = db_session()
    existing = list(
        db.scalars(select(Wave).where(Wave.community_id == community.id).order_by(Wave.id.desc()))
    )
    form = WaveForm()
    form.instruments.choices = choices(_instrument_choices())
    form.previous.choices = choices(
        [("", "None")] + [(w.name, w.name) for w in existing if w.retired_at is None]
    )
    error = ""
    if form.validate_on_submit():
        try:
            wave = create_wave(
                db,
                community=community,
                name=form.name.data or "",
                instrument_ids=form.instruments.data or [],
                previous=form.previous.data or None,
            )
        except ServiceError as err:
            error = str(err)
        else:
            _audit("wave_create", "wave", wave.id)
            db.commit()
            flash(f"Wave '{wave.name}' created. Open it when you are ready.", "success")
            return redirect(url_for("admin.wave", wave_id=wave.id))
    errors = form_errors(form) + ([("name", error[0].upper() + error[1:])] if error else [])
    return render_template("admin/waves.html", form=form, waves=existing, errors=errors)


@bp.get("/waves/<int:wave_id>")
@admin_required
def wave(wave_id: int) -> Page:
    """One wave: status, open/close, response counts and rates by school, class, area."""
    wave = community_wave(wave_id)
    sites = _community_sites(wave.community_id)
    by_site = _counts_by(Response.site_id, wave.id)
    by_class = _counts_by(Response.class_id, wave.id)
    schools: list[dict[str, Any]] = []
    areas: list[dict[str, Any]] = []
    classes: list[dict[str, Any]] = []
    for site in sites:
        started, finished = by_site.get(site.id, (0, 0))
        row = {"site": site, "started": started, "finished": finished}
        row["rate"] = _rate(finished, site.population)
        (schools if site.kind == "school" else areas).append(row)
        if site.kind == "school":
            for cls in site.classes:
                c_started, c_finished = by_class.get(cls.id, (0, 0))
                classes.append(
                    {
                        "site": site,
                        "cls": cls,
                        "started": c_started,
                        "finished": c_finished,
                        "rate": _rate(c_finished, cls.size),
                    }
                )
    return render_template(
        "admin/wave.html",
        wave=wave,
        schools=schools,
        areas=areas,
        classes=classes,
        form=EmptyForm(),
    )


@bp.post("/waves/<int:wave_id>/status")
@admin_required
def wave_status(wave_id: int) -> Page:
    """Open or close a wave."""
    wave = community_wave(wave_id)
    form = EmptyForm()
    status = request.form.get("status", "")
    if not form.validate_on_submit() or status not in ("open", "closed"):
        abort(400)
    set_wave_status(wave, status)
    _audit(f"wave_{status}", "wave", wave.id)
    db_session().commit()
    state = "open: its codes work" if status == "open" else "closed: its codes no longer work"
    flash(f"Wave '{wave.name}' is now {state}.", "success")
    return redirect(url_for("admin.wave", wave_id=wave.id))


# --- sites and classes ---------------------------------------------------------------------


@bp.route("/sites", methods=["GET", "POST"])
@admin_required
def sites() -> Page:
    """Schools and areas: add by hand or upload a CSV (every bad row is listed)."""
    community = _community()
    db = db_session()
    form = SiteForm(prefix="site")
    upload = SitesUploadForm(prefix="csv")
    problems: list[str] = []
    error = ""
    if request.method == "POST" and "csv-file" in request.files and upload.validate_on_submit():
        data = upload.file.data.read()
        try:
            rows = parse_sites_csv(data, source=upload.file.data.filename or "sites.csv")
        except RowErrors as err:
            problems = err.problems
        except ServiceError as err:
            problems = [str(err)]
        else:
            added, updated = import_sites(db, community, rows)
            _audit("sites_import", "community", community.id, added=added, updated=updated)
            db.commit()
            flash(f"{added} sites added and {updated} updated.", "success")
            return redirect(url_for("admin.sites"))
    elif request.method == "POST" and "site-code" in request.form and form.validate_on_submit():
        code = (form.code.data or "").strip()
        if db.scalar(select(Site.id).where(Site.community_id == community.id, Site.code == code)):
            error = f"There is already a site with the ID {code}"
        else:
            site = Site(
                community=community,
                code=code,
                name=(form.name.data or "").strip(),
                kind=form.kind.data or "school",
                postcodes=" ".join((form.postcodes.data or "").upper().split()),
                population=form.population.data,
            )
            db.add(site)
            db.flush()
            _audit("site_create", "site", site.id)
            db.commit()
            flash(f"{site.name} added.", "success")
            return redirect(url_for("admin.sites"))
    all_sites = _community_sites(community.id)
    errors = form_errors(form, upload) + ([(form.code.id, error)] if error else [])
    errors += [(upload.file.id, p) for p in problems]
    return render_template(
        "admin/sites.html",
        form=form,
        upload=upload,
        sites=all_sites,
        errors=errors,
        problems=problems,
    )


@bp.route("/sites/<int:site_id>", methods=["GET", "POST"])
@admin_required
def site(site_id: int) -> Page:
    """One school: its classes; add a class with its teacher PIN."""
    site = _site(site_id)
    db = db_session()
    form = ClassForm()
    error = ""
    if form.validate_on_submit():
        name = (form.name.data or "").strip()
        if db.scalar(
            select(SchoolClass.id).where(SchoolClass.site_id == site.id, SchoolClass.name == name)
        ):
            error = f"{site.name} already has a class called {name}"
        else:
            cls = SchoolClass(
                site=site, name=name, year_group=form.year_group.data or 0, size=form.size.data
            )
            if form.pin.data:
                set_teacher_pin(cls, form.pin.data)
            db.add(cls)
            db.flush()
            _audit("class_create", "class", cls.id)
            db.commit()
            flash(f"Class {cls.name} added.", "success")
            return redirect(url_for("admin.site", site_id=site.id))
    errors = form_errors(form) + ([(form.name.id, error)] if error else [])
    return render_template(
        "admin/site.html", site=site, form=form, pin_form=PinForm(), errors=errors
    )


@bp.post("/classes/<int:class_id>/pin")
@admin_required
def class_pin(class_id: int) -> Page:
    """Set a class's teacher PIN (only its hash is kept)."""
    db = db_session()
    cls = db.get(SchoolClass, class_id)
    if cls is None or cls.site.community_id != current_user.community_id:
        abort(404)
    form = PinForm()
    if form.validate_on_submit():
        set_teacher_pin(cls, form.pin.data or "")
        _audit("class_pin", "class", cls.id)
        db.commit()
        flash(f"The teacher PIN for {cls.name} has been set.", "success")
    else:
        for message in form.pin.errors:
            flash(f"{cls.name}: {message}", "error")
    return redirect(url_for("admin.site", site_id=cls.site_id))


# --- codes ------------------------------------------------------------------------------


def _wave_versions(wave: Wave) -> list[InstrumentVersion]:
    return [link.instrument_version for link in wave.instruments]


@bp.route("/waves/<int:wave_id>/codes", methods=["GET", "POST"])
@admin_required
def codes(wave_id: int) -> Page:
    """Issue class codes, area links and one-time letter codes; list what was issued."""
    wave = community_wave(wave_id)
    db = db_session()
    all_sites = [s for s in _community_sites(wave.community_id) if s.retired_at is None]
    versions = _wave_versions(wave)
    form = CodesForm()
    form.site.choices = choices([(str(s.id), f"{s.name} ({s.kind})") for s in all_sites])
    form.instrument.choices = choices(
        [(str(v.id), f"{v.title} ({v.instrument_id})") for v in versions]
    )
    error = ""
    if form.validate_on_submit():
        site = next((s for s in all_sites if str(s.id) == form.site.data), None)
        version = next((v for v in versions if str(v.id) == form.instrument.data), None)
        if site is None or version is None:
            error = "Choose a school or area and a questionnaire"
        elif form.kind.data == "class":
            if site.kind != "school":
                error = f"{site.name} is an area: class codes are for schools"
            else:
                have = set(
                    db.scalars(
                        select(AccessCode.class_id).where(
                            AccessCode.wave_id == wave.id,
                            AccessCode.kind == "class",
                            AccessCode.revoked.is_(False),
                        )
                    )
                )
                made = 0
                for cls in site.classes:
                    if cls.id not in have and cls.retired_at is None:
                        issue_code(
                            db,
                            wave=wave,
                            version=version,
                            kind="class",
                            site=site,
                            school_class=cls,
                        )
                        made += 1
                if not site.classes:
                    error = f"{site.name} has no classes yet: add them first"
                else:
                    _audit("codes_issue", "site", site.id, kind="class", count=made)
                    db.commit()
                    flash(f"{made} class codes issued for {site.name}.", "success")
                    return redirect(url_for("admin.codes", wave_id=wave.id))
        else:
            count = 1 if form.kind.data == "area" else (form.count.data or 1)
            for _ in range(count):
                issue_code(
                    db, wave=wave, version=version, kind=form.kind.data or "token", site=site
                )
            _audit("codes_issue", "site", site.id, kind=form.kind.data, count=count)
            db.commit()
            what = "area link" if form.kind.data == "area" else "one-time codes"
            flash(f"{count} {what} issued for {site.name}.", "success")
            return redirect(url_for("admin.codes", wave_id=wave.id))
    issued = list(
        db.scalars(
            select(AccessCode)
            .where(AccessCode.wave_id == wave.id)
            .order_by(AccessCode.site_id, AccessCode.kind, AccessCode.id)
        )
    )
    summary: dict[int, dict[str, int]] = {}
    for code in issued:
        if code.site_id is None:
            continue
        per = summary.setdefault(code.site_id, {"class": 0, "area": 0, "token": 0, "revoked": 0})
        per["revoked" if code.revoked else code.kind] += 1
    errors = form_errors(form) + ([(form.site.id, error)] if error else [])
    return render_template(
        "admin/codes.html",
        wave=wave,
        form=form,
        sites=all_sites,
        summary=summary,
        errors=errors,
        revoke_form=EmptyForm(),
    )


@bp.get("/waves/<int:wave_id>/sheet/<int:site_id>")
@admin_required
def sheet(wave_id: int, site_id: int) -> Page:
    """A printable sheet of a school's class codes (or an area's link and letter codes)."""
    wave = community_wave(wave_id)
    site = _site(site_id)
    codes = list(
        db_session().scalars(
            select(AccessCode)
            .where(AccessCode.wave_id == wave.id, AccessCode.site_id == site.id)
            .order_by(AccessCode.kind, AccessCode.id)
        )
    )
    return render_template(
        "admin/sheet.html",
        wave=wave,
        site=site,
        codes=codes,
        format_code=format_code,
        base_url=request.host_url.rstrip("/"),
        revoke_form=EmptyForm(),
    )


@bp.post("/codes/<int:code_id>/revoke")
@admin_required
def revoke(code_id: int) -> Page:
    """Withdraw a code (e.g. written on a board photographed and shared)."""
    db = db_session()
    code = db.get(AccessCode, code_id)
    if code is None or code.wave.community_id != current_user.community_id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    code.revoked = True
    _audit("code_revoke", "access_code", code.id)
    db.commit()
    flash(f"Code {format_code(code.code)} withdrawn.", "success")
    return redirect(url_for("admin.sheet", wave_id=code.wave_id, site_id=code.site_id))
