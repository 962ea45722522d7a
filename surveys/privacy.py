"""Privacy primitives shared by every channel: receipt-code hashing and the append-only audit log.

* :func:`receipt_hash` is THE stored form of a withdrawal receipt code. Whoever issues
  receipt codes (field interviews, web surveys) stores ``receipt_hash(code)`` in
  ``Response.receipt_hash``; erasure looks the response up the same way. The code itself
  is never stored.
* :class:`~surveys.models.AuditEntry` rows can be added but never changed or deleted
  through the ORM: a session event refuses updates and deletes, both per object and as
  bulk ``update()``/``delete()`` statements. Only :func:`purge_audit_log` (retention of
  the log itself) may delete, by passing :data:`AUDIT_RETENTION_OPTION`.

This module is imported at the bottom of :mod:`surveys.models`, so the guard is active
wherever the models are used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import delete, event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from surveys.models import AuditEntry

__all__ = [
    "AUDIT_RETENTION_OPTION",
    "AuditLogReadOnly",
    "normalise_receipt",
    "purge_audit_log",
    "receipt_hash",
]

#: Execution option that marks a bulk delete as retention of the audit log itself.
AUDIT_RETENTION_OPTION = "placevoice_audit_retention"


class AuditLogReadOnly(RuntimeError):
    """Something tried to change or delete an audit log entry."""


def normalise_receipt(code: str) -> str:
    """A receipt code as compared: upper case, letters and digits only."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def receipt_hash(code: str) -> str:
    """The stored form of a receipt code (case, spaces and dashes ignored).

    >>> receipt_hash("abcd-efgh-jkmn") == receipt_hash("ABCD EFGH JKMN")
    True
    """
    return hashlib.sha256(f"placevoice-receipt:{normalise_receipt(code)}".encode()).hexdigest()


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
