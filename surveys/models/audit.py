"""The append-only audit log: its table, and the guard that keeps it append-only.

:class:`AuditEntry` rows can be added but never changed or deleted through the ORM: a
session event refuses updates and deletes, both per object and as bulk
``update()``/``delete()`` statements. Only :func:`purge_audit_log` (retention of the log
itself) may delete, by passing :data:`AUDIT_RETENTION_OPTION`.

:mod:`surveys.models` imports this module, so the guard is active wherever the models are
used.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, delete, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, UOWTransaction, mapped_column

from surveys.models.base import Base, utcnow

__all__ = [
    "AUDIT_RETENTION_OPTION",
    "AuditEntry",
    "AuditLogReadOnly",
    "purge_audit_log",
]

#: Execution option that marks a bulk delete as retention of the audit log itself.
AUDIT_RETENTION_OPTION = "placevoice_audit_retention"


class AuditEntry(Base):
    """Who did what, when: logins, exports, downloads, reviews, deletions. Append-only."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(80), default="")
    #: Non-identifying details (counts, formats); never answers or personal data.
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AuditLogReadOnly(RuntimeError):
    """Something tried to change or delete an audit log entry."""


def purge_audit_log(session: Session, *, before: dt.datetime) -> int:
    """Delete audit entries older than ``before`` (the log's own retention); returns count."""
    result = session.execute(
        delete(AuditEntry).where(AuditEntry.at < before),
        execution_options={AUDIT_RETENTION_OPTION: True, "synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    for obj in session.deleted:
        if isinstance(obj, AuditEntry):
            raise AuditLogReadOnly("audit log entries cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, AuditEntry) and session.is_modified(obj):
            raise AuditLogReadOnly("audit log entries cannot be changed")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_audit_changes(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is None or not issubclass(mapper.class_, AuditEntry):
        return
    if state.is_delete and state.execution_options.get(AUDIT_RETENTION_OPTION):
        return
    raise AuditLogReadOnly("audit log entries cannot be changed or deleted")
