"""The audit log's one writer: who did what, when, with an explicit actor.

:func:`audit` appends one entry (never answers or personal data in ``detail``); the table
and the guard that keeps it append-only are in :mod:`surveys.models.audit`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from surveys.models import AuditEntry, utcnow

__all__ = ["audit"]


def _actor_id(actor: object) -> int | None:
    if actor is None:
        return None
    if isinstance(actor, int):
        return actor
    value = getattr(actor, "id", None)
    return int(value) if value is not None else None


def audit(
    session: Session,
    actor: object,
    action: str,
    object_type: str = "",
    object_id: object = "",
    **detail: Any,
) -> AuditEntry:
    """Append one audit entry: ``actor`` is a user id, a user-like object, or None (system).

    ``detail`` holds non-identifying facts only (counts, formats, wave names).
    """
    entry = AuditEntry(
        user_id=_actor_id(actor),
        action=action[:40],
        object_type=object_type[:40],
        object_id=str(object_id)[:80],
        detail=dict(detail),
        at=utcnow(),
    )
    session.add(entry)
    return entry
