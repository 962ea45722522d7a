"""``/audit``: who did what, when. Read-only: there is no form that changes an entry."""

from __future__ import annotations

import datetime as dt

from flask import render_template, request
from flask_login import current_user
from sqlalchemy import func, or_, select

from surveys.models import AuditEntry, User
from webapp.audit import bp
from webapp.auth.access import roles_required
from webapp.database import db_session

#: Entries shown per page.
PAGE_SIZE = 100


def _since(text: str) -> dt.datetime | None:
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        return None
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


@bp.get("/")
@roles_required("admin")
def index() -> str:
    """The newest entries first, filtered by action and start date."""
    session = db_session()
    action = request.args.get("action", "").strip()[:40]
    since_text = request.args.get("since", "").strip()[:10]
    since = _since(since_text) if since_text else None
    try:
        page = max(1, min(10_000, int(request.args.get("page", "1"))))
    except ValueError:
        page = 1
    community_users = select(User.id).where(User.community_id == current_user.community_id)
    query = select(AuditEntry, User.email).outerjoin(User, User.id == AuditEntry.user_id)
    query = query.where(or_(AuditEntry.user_id.is_(None), AuditEntry.user_id.in_(community_users)))
    if action:
        query = query.where(AuditEntry.action == action)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    actions = list(
        session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
    )
    return render_template(
        "audit/index.html",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
        action=action,
        actions=actions,
        since=since_text,
        since_error=bool(since_text) and since is None,
    )
