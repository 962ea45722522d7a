"""JSON views. Every view needs a signed-in session; school staff see only their own sites."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from analysis import AnalysisError
from analysis.spec import ALL_SITES
from surveys.analysis_bridge import LEVELS, wave_summary
from surveys.errors import NotFound
from surveys.models import Community, Site, Wave
from webapp.api import bp
from webapp.api.openapi import openapi_document
from webapp.database import db_session

#: Roles that see every site's rows.
SEE_ALL = frozenset({"admin"})
#: Roles that see only the rows of the sites they are bound to (and whole-wave rows).
SEE_OWN = frozenset({"school_staff", "researcher"})

PUBLIC_ENDPOINTS = frozenset({"api.openapi"})


def problem(status: int, message: str) -> ResponseReturnValue:
    """A JSON error body, the same shape as the app's other API errors."""
    return jsonify({"error": message, "status": status}), status


@bp.before_request
def _require_login() -> ResponseReturnValue | None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        response = jsonify({"error": "Sign in first (POST /login).", "status": 401})
        response.status_code = 401
        cookie = current_app.config["SESSION_COOKIE_NAME"]
        response.headers["WWW-Authenticate"] = f'Cookie realm="placevoice", cookie-name="{cookie}"'
        return response
    if current_user.role not in SEE_ALL | SEE_OWN:
        return problem(403, "Your role does not give access to results.")
    return None


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3.0 description of this API."""
    return jsonify(openapi_document(current_app.config["SESSION_COOKIE_NAME"]))


@bp.get("/waves")
def waves() -> ResponseReturnValue:
    """The community's waves, newest first."""
    session = db_session()
    rows = session.scalars(
        select(Wave)
        .where(Wave.community_id == current_user.community_id)
        .order_by(Wave.created_at.desc(), Wave.id.desc())
    ).all()
    return jsonify(
        {
            "waves": [
                {
                    "name": w.name,
                    "status": w.status,
                    "previous": w.previous.name if w.previous else None,
                }
                for w in rows
            ]
        }
    )


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _rows(table: pd.DataFrame, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {name: _json_value(v) for name, v in zip(columns, row, strict=True)}
        for row in table.loc[:, list(columns)].itertuples(index=False, name=None)
    ]


@bp.get("/waves/<wave>/summary")
def summary(wave: str) -> ResponseReturnValue:
    """A wave's summary rows (the ``summary`` CSV as JSON), small numbers suppressed.

    Admins get every site's rows; school staff get only their own schools' rows and the
    whole-wave rows (their rows carry the benchmark figures).
    """
    level = request.args.get("level", "school")
    if level not in LEVELS:
        return problem(400, "level must be 'school' or 'area'.")
    instrument_id = request.args.get("instrument") or None
    session = db_session()
    community = session.get(Community, current_user.community_id)
    found = session.scalar(
        select(Wave).where(Wave.community_id == current_user.community_id, Wave.name == wave)
    )
    if community is None or found is None:
        return problem(404, f"There is no wave called '{wave}'.")
    try:
        result = wave_summary(session, found, level, instrument_id, trends=False)
    except NotFound as err:
        return problem(404, f"{str(err)[:1].upper()}{str(err)[1:]}.")
    except AnalysisError as err:
        return problem(422, f"The summary cannot be made: {err}.")
    table = result.items
    if current_user.role not in SEE_ALL:
        own = set(
            session.scalars(select(Site.code).where(Site.id.in_(list(current_user.site_ids))))
        )
        table = table[table["site"].isin(own | {ALL_SITES})]
    return jsonify(
        {
            "wave": found.name,
            "level": level,
            "instrument": result.instrument_id,
            "k": result.k,
            "weighted": result.weighted,
            "notes": list(result.notes),
            "columns": list(result.columns),
            "rows": _rows(table, result.columns),
        }
    )
