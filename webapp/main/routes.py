"""Landing page: what placevoice is and where each kind of user goes."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from surveys.models import Community, Response, Site, Wave
from webapp.database import db_session
from webapp.main import bp


@bp.get("/")
def index() -> str:
    """The front door."""
    session = db_session()
    community = session.scalar(select(Community).order_by(Community.id).limit(1))
    counts: dict[str, int] = {}
    if community is not None:
        counts = {
            "schools": session.scalar(
                select(func.count(Site.id)).where(
                    Site.community_id == community.id, Site.kind == "school"
                )
            )
            or 0,
            "areas": session.scalar(
                select(func.count(Site.id)).where(
                    Site.community_id == community.id, Site.kind == "area"
                )
            )
            or 0,
            "waves": session.scalar(
                select(func.count(Wave.id)).where(Wave.community_id == community.id)
            )
            or 0,
            "responses": session.scalar(
                select(func.count(Response.id)).where(Response.status != "draft")
            )
            or 0,
        }
    return render_template("main/index.html", community=community, counts=counts)


@bp.get("/healthz")
def health() -> tuple[dict[str, str], int]:
    """Liveness and database check for a load balancer."""
    try:
        db_session().execute(select(1))
    except SQLAlchemyError:
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}, 200
