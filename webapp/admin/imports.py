"""Importing responses on the web: upload, preview every problem, then confirm (admin only).

The uploaded file waits, between preview and confirmation, in a private temporary folder
under a random token, with the community, wave and person it was uploaded for; it is
deleted once stored, and files older than an hour are removed on the next upload.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from surveys.errors import RowErrors, ServiceError
from surveys.importing import ImportRefused, ImportResult, import_responses, read_mapping
from webapp.admin import bp
from webapp.admin.forms import ImportConfirmForm, ImportForm, choices
from webapp.admin.routes import Page, _audit, admin_required, form_errors
from webapp.auth.access import community_wave
from webapp.database import db_session

#: How long an uploaded file waits for confirmation.
_KEEP_SECONDS = 3600


def _folder() -> Path:
    folder = Path(tempfile.gettempdir()) / f"placevoice-imports-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    now = time.time()
    for old in folder.iterdir():
        if now - old.stat().st_mtime > _KEEP_SECONDS:
            old.unlink(missing_ok=True)
    return folder


def _keep(data: bytes, meta: dict[str, Any]) -> str:
    token = secrets.token_urlsafe(24)
    folder = _folder()
    (folder / f"{token}.data").write_bytes(data)
    (folder / f"{token}.json").write_text(json.dumps(meta))
    return token


def _kept(token: str, wave_id: int) -> tuple[bytes, dict[str, Any]]:
    """The file kept under ``token``: only for the person and wave it was uploaded for."""
    folder = _folder()
    try:
        meta = json.loads((folder / f"{token}.json").read_text())
        data = (folder / f"{token}.data").read_bytes()
    except (OSError, ValueError):
        abort(410)
    if (
        meta.get("user") != current_user.id
        or meta.get("community") != current_user.community_id
        or meta.get("wave") != wave_id
    ):
        abort(404)
    return data, meta


def _forget(token: str) -> None:
    folder = _folder()
    for suffix in (".data", ".json"):
        (folder / f"{token}{suffix}").unlink(missing_ok=True)


def _run(
    wave: Any, data: bytes, meta: dict[str, Any], *, dry_run: bool, skip: bool
) -> ImportResult:
    mapping = (
        read_mapping(meta["mapping"].encode("utf-8"), source=meta["mapping_name"])
        if meta.get("mapping")
        else None
    )
    return import_responses(
        db_session(),
        wave=wave,
        instrument_id=meta["instrument"],
        data=data,
        source=meta["name"],
        skip_bad=skip,
        dry_run=dry_run,
        mapping=mapping,
        source_name=meta.get("source") or None,
        date_first=meta.get("dates") or None,
    )


@bp.route("/waves/<int:wave_id>/import", methods=["GET", "POST"])
@admin_required
def import_responses_page(wave_id: int) -> Page:
    """Upload a responses file and see what importing it would do."""
    wave = community_wave(wave_id)
    form = ImportForm()
    used = sorted({link.instrument_version.instrument_id for link in wave.instruments})
    form.instrument.choices = choices([(i, i) for i in used])
    if request.method == "GET" and "pupil_perception" in used:
        form.instrument.data = "pupil_perception"
    problems: list[str] = []
    result: ImportResult | None = None
    token = ""
    if request.method == "POST" and form.validate_on_submit():
        upload = form.file.data
        meta: dict[str, Any] = {
            "user": current_user.id,
            "community": current_user.community_id,
            "wave": wave.id,
            "name": Path(upload.filename or "responses.csv").name[:120],
            "instrument": form.instrument.data,
            "source": (form.source.data or "").strip(),
            "dates": form.dates.data or "",
        }
        if form.mapping.data:
            meta["mapping"] = form.mapping.data.read().decode("utf-8-sig", errors="replace")
            meta["mapping_name"] = Path(form.mapping.data.filename or "mapping.yaml").name
        data = upload.read()
        try:
            result = _run(wave, data, meta, dry_run=True, skip=False)
        except (RowErrors, ServiceError, ImportRefused) as err:
            problems = err.problems if isinstance(err, RowErrors) else [str(err)]
        finally:
            db_session().rollback()  # a preview writes nothing
        if result is not None:
            token = _keep(data, meta)
    return render_template(
        "admin/import.html",
        wave=wave,
        form=form,
        confirm=ImportConfirmForm(token=token),
        result=result,
        token=token,
        problems=problems,
        errors=form_errors(form) + [(form.file.id, p) for p in problems],
    )


@bp.post("/waves/<int:wave_id>/import/confirm")
@admin_required
def import_confirm(wave_id: int) -> Page:
    """Store a previewed file: all of it, or (when chosen) its valid rows."""
    wave = community_wave(wave_id)
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    token = form.token.data or ""
    data, meta = _kept(token, wave.id)
    skip = form.skip_invalid.data == "1"
    try:
        result = _run(wave, data, meta, dry_run=False, skip=skip)
    except (RowErrors, ServiceError, ImportRefused) as err:
        db_session().rollback()
        count = len(err.problems) if isinstance(err, RowErrors) else 1
        flash(
            f"Nothing was stored: {count} problem(s). Preview the file again to see them.",
            "error",
        )
        return redirect(url_for("admin.import_responses_page", wave_id=wave.id))
    _audit(
        "responses_import",
        "wave",
        wave.id,
        file=meta["name"],
        added=result.added,
        updated=result.updated,
        skipped=result.skipped,
    )
    db_session().commit()
    _forget(token)
    flash(
        f"{meta['name']}: {result.added} responses added, {result.updated} updated,"
        f" {result.unchanged} already stored, {result.skipped} rows with problems left out.",
        "success",
    )
    return redirect(url_for("admin.wave", wave_id=wave.id))
