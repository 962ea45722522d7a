"""Core team results: per wave, per site (school or area), per domain; packs; exports."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.wrappers import Response as WerkzeugResponse

from exports.data import FORMATS, LABEL_FORMATS, export_wave
from exports.dataset import ExportError, instrument_versions
from exports.pack_runs import RunInProgress, cancel_run, latest_run, retry_failed, start_run
from exports.packdata import domain_title, slugify
from exports.queue import QUEUE_ERRORS
from exports.xlsform import source_file, xlsx_file
from surveys.models import InstrumentVersion, Response, Site, Wave
from surveys.models.packs import PackRun
from surveys.services.audit import audit
from surveys.services.setup import visible_to
from webapp.auth.access import community_wave, roles_required
from webapp.database import db_session
from webapp.results import bp
from webapp.results.data import (
    pack_path,
    pack_queue,
    render_site_pack,
    wave_contexts,
    wave_packs_dir,
)
from webapp.results.view import (
    FLAG_TEXT,
    MARKS,
    local_time,
    page_context,
    run_progress,
    run_state,
)


class GenerateForm(FlaskForm):  # type: ignore[misc]
    """A button: generate every pack of the wave (CSRF-protected)."""


def _site(code: str) -> Site:
    site = db_session().scalar(
        select(Site).where(Site.code == code, Site.community_id == current_user.community_id)
    )
    if site is None:
        abort(404)
    return site


@bp.get("/")
@roles_required("admin")
def index() -> str:
    """Every wave, with its instruments and their XLSForms."""
    session = db_session()
    waves = session.scalars(
        select(Wave).where(Wave.community_id == current_user.community_id).order_by(Wave.id.desc())
    ).all()
    counts = dict(
        session.execute(
            select(Response.wave_id, func.count(Response.id))
            .where(Response.status.in_(("submitted", "approved")))
            .group_by(Response.wave_id)
        ).all()
    )
    versions = session.scalars(
        select(InstrumentVersion)
        .where(visible_to(current_user.community_id))
        .order_by(InstrumentVersion.instrument_id, InstrumentVersion.id)
    ).all()
    return render_template("results/index.html", waves=waves, counts=counts, versions=versions)


@bp.get("/<int:wave_id>/")
@roles_required("admin")
def wave(wave_id: int) -> str:
    """A wave: its schools and areas, packs, exports."""
    wave = community_wave(wave_id)
    session = db_session()
    contexts, notes = wave_contexts(session, wave)
    instruments = sorted(instrument_versions(session, wave))
    ready = {c["site"]: pack_path(wave, c["site"]).exists() for c in contexts}
    run = latest_run(session, wave.id)
    domains = list(
        dict.fromkeys(d["key"] for c in contexts if c["kind"] == "school" for d in c["domains"])
    )
    return render_template(
        "results/wave.html",
        wave=wave,
        schools=[c for c in contexts if c["kind"] == "school"],
        areas=[c for c in contexts if c["kind"] == "area"],
        notes=notes,
        ready=ready,
        instruments=instruments,
        formats=FORMATS,
        label_formats=LABEL_FORMATS,
        domains=[(d, domain_title(d)) for d in domains],
        form=GenerateForm(),
        run=run,
        state=run_state(run),
    )


@bp.get("/<int:wave_id>/site/<site_code>")
@roles_required("admin")
def site(wave_id: int, site_code: str) -> str:
    """One school's or area's results, as in its pack."""
    wave = community_wave(wave_id)
    if site_code != "community":
        _site(site_code)
    contexts, notes = wave_contexts(db_session(), wave)
    context = next((c for c in contexts if c["site"] == site_code), None)
    note = next((n for n in notes if n["site"] == site_code), None)
    if context is None and note is None:
        abort(404)
    return render_template(
        "results/site.html",
        wave=wave,
        c=page_context(context) if context else None,
        note=note,
        pdf_url=url_for("results.pack", wave_id=wave.id, site_code=site_code),
    )


@bp.get("/<int:wave_id>/domain/<domain>")
@roles_required("admin")
def domain(wave_id: int, domain: str) -> str:
    """One domain across every school with a pack: each question, school by school."""
    wave = community_wave(wave_id)
    contexts, _ = wave_contexts(db_session(), wave)
    rows = [
        (context, page_context({**context, "domains": [d]})["domains"][0])
        for context in contexts
        if context["kind"] == "school"
        for d in context["domains"]
        if d["key"] == domain
    ]
    if not rows:
        abort(404)
    return render_template("results/domain.html", wave=wave, title=domain_title(domain), rows=rows)


def _queue(session: Any, run: PackRun, back: WerkzeugResponse) -> WerkzeugResponse | None:
    """Queue the committed ``run``; on failure mark it failed and return ``back``."""
    try:
        pack_queue(session).enqueue(run.id)
    except QUEUE_ERRORS:
        current_app.logger.exception("could not queue pack run %s", run.id)
        session.refresh(run)
        if run.status in ("queued", "running"):
            run.status, run.active_wave_id, run.error = "failed", None, "could not be queued"
        session.commit()
        flash("The packs could not be started on the server. Try again, or ask for help.", "error")
        return back
    return None


@bp.post("/<int:wave_id>/packs")
@roles_required("admin")
def generate(wave_id: int) -> WerkzeugResponse:
    """Queue every pack of the wave (replacing older ones); workers make them."""
    wave = community_wave(wave_id)
    if not GenerateForm().validate_on_submit():
        abort(400)
    session = db_session()
    back = redirect(url_for("results.wave", wave_id=wave.id, _anchor="packs"))
    try:
        run = start_run(session, wave=wave, actor=current_user.id, out_dir=wave_packs_dir(wave))
    except RunInProgress as busy:
        session.rollback()
        flash(
            f"Packs for {wave.name} are already being generated ({run_progress(busy.run)})."
            " Wait for that run to finish, or stop it, before starting another.",
            "error",
        )
        return back
    audit(session, current_user.id, "packs_generate", "wave", wave.id, run=run.id)
    session.commit()  # the workers must see the run
    failed = _queue(session, run, back)
    if failed is not None:
        return failed
    flash(
        "Generating every pack of the wave in the background. You can leave this page;"
        " it shows how far the run has got.",
        "success",
    )
    return back


@bp.post("/<int:wave_id>/packs/cancel")
@roles_required("admin")
def cancel(wave_id: int) -> WerkzeugResponse:
    """Stop the wave's pack run: packs already made are kept, the rest are skipped."""
    wave = community_wave(wave_id)
    if not GenerateForm().validate_on_submit():
        abort(400)
    session = db_session()
    run = latest_run(session, wave.id)
    if run is None or not cancel_run(session, run):
        flash("No packs are being generated for this wave.", "error")
    else:
        audit(session, current_user.id, "packs_cancel", "wave", wave.id, run=run.id)
        session.commit()
        flash(
            f"Stopped generating packs: {run.done} of {run.total} were made and are kept.",
            "success",
        )
    return redirect(url_for("results.wave", wave_id=wave.id, _anchor="packs"))


@bp.post("/<int:wave_id>/packs/retry")
@roles_required("admin")
def retry(wave_id: int) -> WerkzeugResponse:
    """Make the failed packs of the wave's last run again."""
    wave = community_wave(wave_id)
    if not GenerateForm().validate_on_submit():
        abort(400)
    session = db_session()
    back = redirect(url_for("results.wave", wave_id=wave.id, _anchor="packs"))
    run = latest_run(session, wave.id)
    try:
        count = retry_failed(session, run) if run is not None else 0
    except RunInProgress as busy:
        session.rollback()
        flash(
            f"Packs for {wave.name} are already being generated ({run_progress(busy.run)}).",
            "error",
        )
        return back
    if not count or run is None:
        flash("The last run has no failed packs to make again.", "error")
        return back
    audit(session, current_user.id, "packs_retry", "wave", wave.id, run=run.id, packs=count)
    session.commit()
    failed = _queue(session, run, back)
    if failed is not None:
        return failed
    flash(f"Making the {count} failed pack{'' if count == 1 else 's'} again.", "success")
    return back


@bp.get("/<int:wave_id>/packs/run")
@roles_required("admin")
def pack_run(wave_id: int) -> WerkzeugResponse:
    """The latest pack run's state as JSON, for the wave page to update itself."""
    wave = community_wave(wave_id)
    run = latest_run(db_session(), wave.id)
    state = run_state(run)
    html = render_template(
        "results/_pack_run.html", wave=wave, run=run, state=state, form=GenerateForm()
    )
    response = jsonify(
        status=run.status if run else None,
        active=state == "active",
        done=run.done if run else 0,
        total=run.total if run else 0,
        failed=[f["site"] for f in run.failed_sites] if run else [],
        html=html,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:wave_id>/packs/<site_code>.pdf")
@roles_required("admin")
def pack(wave_id: int, site_code: str) -> WerkzeugResponse:
    """Download one pack (made now if it was not generated yet)."""
    wave = community_wave(wave_id)
    if site_code != "community":
        _site(site_code)
    session = db_session()
    path = render_site_pack(session, wave, site_code)
    if path is None:
        abort(404)
    audit(session, current_user.id, "pack_download", "site", site_code, wave=wave.name)
    session.commit()
    return send_file(
        io.BytesIO(path.read_bytes()),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=path.name,
        max_age=0,
    )


@bp.get("/<int:wave_id>/export/<fmt>")
@bp.get("/<int:wave_id>/export/<fmt>/<instrument>")
@roles_required("admin")
def export(wave_id: int, fmt: str, instrument: str | None = None) -> WerkzeugResponse:
    """A zip of the wave's data export in ``fmt`` with its codebook(s)."""
    wave = community_wave(wave_id)
    if fmt not in FORMATS:
        abort(404)
    labels = request.args.get("labels") == "1"
    if labels and fmt not in LABEL_FORMATS:
        abort(404)
    session = db_session()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            written = export_wave(
                session,
                wave=wave,
                fmt=fmt,
                out_dir=tmp,
                instruments=[instrument] if instrument else None,
                labels=labels,
            )
        except ExportError:
            abort(404)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in written:
                archive.write(path, Path(path).name)
    audit(
        session,
        current_user.id,
        "export",
        "wave",
        wave.id,
        format=fmt,
        instrument=instrument or "all",
        files=len(written),
        labels=labels,
        via="web",
    )
    session.commit()
    buffer.seek(0)
    kind = f"{fmt}-labels" if labels else fmt
    name = f"{slugify(wave.name)}-{instrument or 'all'}-{kind}.zip"
    return send_file(buffer, mimetype="application/zip", as_attachment=True, download_name=name)


def _instrument_version(version_id: int) -> InstrumentVersion:
    """A built-in instrument version or one of the user's community; 404 for any other."""
    version = db_session().get(InstrumentVersion, version_id)
    if version is None or version.community_id not in (None, current_user.community_id):
        abort(404)
    return version


@bp.get("/instruments/<int:version_id>/xlsform")
@roles_required("admin")
def xlsform(version_id: int) -> WerkzeugResponse:
    """The instrument's XLSForm exactly as stored."""
    version = _instrument_version(version_id)
    file = source_file(version)
    return send_file(
        io.BytesIO(file.data),
        mimetype=file.mimetype,
        as_attachment=True,
        download_name=file.filename,
    )


@bp.get("/instruments/<int:version_id>/xlsform.xlsx")
@roles_required("admin")
def xlsform_xlsx(version_id: int) -> WerkzeugResponse:
    """The instrument's XLSForm as an Excel workbook (for KoboToolbox and ODK)."""
    version = _instrument_version(version_id)
    try:
        file = xlsx_file(version)
    except ValueError:
        abort(404)
    return send_file(
        io.BytesIO(file.data),
        mimetype=file.mimetype,
        as_attachment=True,
        download_name=file.filename,
    )


@bp.context_processor
def _chart_helpers() -> dict[str, object]:
    return {
        "flag_text": FLAG_TEXT,
        "marks": MARKS,
        "local_time": local_time,
        "run_progress": run_progress,
    }
