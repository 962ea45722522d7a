"""The core team's panel pages: link a wave's pupils to the previous wave, see the match."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from exports.packdata.panel import panel_rows
from surveys.errors import ServiceError
from surveys.models import Wave
from surveys.services.panel.linking import link_waves
from surveys.services.panel.results import MATCH_COLUMNS, match_rows, panel_result, site_names
from webapp.auth.access import community_wave, roles_required
from webapp.database import db_session
from webapp.results import bp


class LinkForm(FlaskForm):  # type: ignore[misc]
    """A button: link the wave to the chosen previous wave (CSRF-protected)."""


def _earlier_waves(wave: Wave) -> list[Wave]:
    return list(
        db_session().scalars(
            select(Wave)
            .where(Wave.community_id == wave.community_id, Wave.id != wave.id)
            .order_by(Wave.id.desc())
        )
    )


@bp.get("/<int:wave_id>/panel")
@roles_required("admin")
def panel(wave_id: int) -> str:
    """The wave's panel: the match report per school and change within matched pupils."""
    wave = community_wave(wave_id)
    session = db_session()
    result = panel_result(session, wave)
    rows = []
    match = []
    if result is not None:
        match = match_rows(result.report, site_names(session, wave.community_id), k=result.k)
        rows = panel_rows(result.changes, "ALL", result.labels, {})
    return render_template(
        "results/panel.html",
        wave=wave,
        result=result,
        match=match,
        columns=MATCH_COLUMNS,
        rows=rows,
        waves=_earlier_waves(wave),
        form=LinkForm(),
    )


@bp.post("/<int:wave_id>/panel/link")
@roles_required("admin")
def panel_link(wave_id: int) -> WerkzeugResponse:
    """Link the wave's pupils to the chosen earlier wave (replacing earlier links)."""
    wave = community_wave(wave_id)
    if not LinkForm().validate_on_submit():
        abort(400)
    try:
        previous_id = int(request.form.get("previous", ""))
    except ValueError:
        abort(400)
    previous = community_wave(previous_id)
    session = db_session()
    try:
        run = link_waves(session, wave=wave, previous=previous, actor=current_user.id)
    except ServiceError as err:
        session.rollback()
        flash(str(err), "error")
        return redirect(url_for("results.panel", wave_id=wave.id))
    whole = match_rows(run.report, {}, k=wave.community.suppression_k)[0]
    session.commit()
    flash(
        f"Linked {whole['linked']} of {whole['codes']} pupils' codes in {wave.name} to"
        f" {previous.name} ({run.seconds:.1f} s).",
        "success",
    )
    return redirect(url_for("results.panel", wave_id=wave.id))
