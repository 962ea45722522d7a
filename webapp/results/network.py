"""The partnership network of a wave: map, tables, review list and downloads."""

from __future__ import annotations

import io

from flask import abort, render_template, send_file
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from exports.network_pack import network_pack_pdf
from exports.network_report import MIN_RATERS, network_report
from exports.packdata import slugify
from surveys.services.audit import audit
from surveys.services.network import edges_csv, graphml_bytes, wave_network
from webapp.auth.access import community_wave, roles_required
from webapp.database import db_session
from webapp.results import bp

#: Download formats: (mimetype, file suffix).
DOWNLOADS = {"edges": ("text/csv", "csv"), "graphml": ("application/graphml+xml", "graphml")}


@bp.get("/<int:wave_id>/network")
@roles_required("admin")
def network(wave_id: int) -> str:
    """The wave's partnership map beside its tables, with the change since the last wave."""
    wave = community_wave(wave_id)
    report = network_report(db_session(), wave)
    return render_template("results/network.html", wave=wave, report=report, min_raters=MIN_RATERS)


@bp.get("/<int:wave_id>/network/<fmt>")
@roles_required("admin")
def network_download(wave_id: int, fmt: str) -> WerkzeugResponse:
    """The wave's ties as a CSV edge list or GraphML (audit-logged)."""
    wave = community_wave(wave_id)
    if fmt not in DOWNLOADS:
        abort(404)
    session = db_session()
    found = wave_network(session, wave)
    data = edges_csv(found).encode() if fmt == "edges" else graphml_bytes(found)
    audit(session, current_user.id, "network_export", "wave", wave.id, format=fmt)
    session.commit()
    mimetype, suffix = DOWNLOADS[fmt]
    return send_file(
        io.BytesIO(data),
        mimetype=mimetype,
        as_attachment=True,
        download_name=f"{slugify(wave.name)}-network.{suffix}",
        max_age=0,
    )


@bp.get("/<int:wave_id>/network/pack.pdf")
@roles_required("admin")
def network_pack(wave_id: int) -> WerkzeugResponse:
    """The partnership pack (tagged PDF), made now (audit-logged)."""
    wave = community_wave(wave_id)
    session = db_session()
    data = network_pack_pdf(network_report(session, wave), community=wave.community.name)
    audit(session, current_user.id, "network_pack_download", "wave", wave.id)
    session.commit()
    return send_file(
        io.BytesIO(data),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{slugify(wave.name)}-partnership.pdf",
        max_age=0,
    )
