"""The core team's review of field interviews."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Response, Wave, utcnow
from surveys.models.field import FieldInterview
from surveys.services.audit import audit
from surveys.services.field.common import FIELD_CHANNELS, REVIEW_ACTIONS, FieldError, FieldMessage
from surveys.services.field.interviews import get_interview

__all__ = ["review_interview", "review_queue"]


def review_queue(session: Session, *, community_id: int, show: str = "new") -> list[Response]:
    """Field interviews for the core team: "new" (submitted), "flagged", or a status."""
    query = (
        select(Response)
        .where(
            Response.channel.in_(FIELD_CHANNELS),
            Response.wave.has(Wave.community_id == community_id),
        )
        .order_by(Response.submitted_at)
    )
    if show == "new":
        query = query.where(Response.status == "submitted")
    elif show == "flagged":
        query = query.join(FieldInterview).where(FieldInterview.flagged.is_(True))
    elif show != "all":
        query = query.where(Response.status == show)
    return list(session.scalars(query))


def review_interview(
    session: Session,
    *,
    reviewer_id: int,
    community_id: int,
    response_id: str,
    action: str,
    note: str = "",
) -> Response:
    """Approve, reject (a reason is required), flag or unflag one interview."""
    if action not in REVIEW_ACTIONS:
        raise FieldError(FieldMessage.BAD_ACTION, action=action)
    response = get_interview(
        session,
        actor_id=reviewer_id,
        role="admin",
        community_id=community_id,
        response_id=response_id,
    )
    note = note.strip()
    meta = session.get(FieldInterview, response.id)
    if meta is None:
        meta = FieldInterview(response_id=response.id)
        session.add(meta)
    if action == "approve":
        response.status = "approved"
        response.review_note = note
    elif action == "reject":
        if not note:
            raise FieldError(FieldMessage.NO_REASON)
        response.status = "rejected"
        response.review_note = note
    else:
        meta.flagged = action == "flag"
        meta.flag_note = note if action == "flag" else ""
    meta.reviewer_id = reviewer_id
    meta.reviewed_at = utcnow()
    response.updated_at = utcnow()
    audit(session, reviewer_id, f"review_{action}", "response", response.id)
    session.flush()
    return response
