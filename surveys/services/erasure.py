"""Deleting responses: retention periods and erasure by receipt code, with explicit actors.

* :func:`run_retention` deletes every response of each closed wave whose retention period
  (``Wave.retention_days`` after ``Wave.closed_at``) has passed, with everything hanging
  off those responses (codings, quotes, field-interview rows); it is what
  ``placevoice retention run`` calls from cron or a systemd timer.
* :func:`erase_by_receipt` deletes the one response a receipt code belongs to.

Rows of any table that point at a deleted response are found from the schema (a foreign
key to ``responses.id``, or a ``response_id`` column), so tables added later are covered
without changing this module: rows with a required link are deleted, optional links are
cleared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Engine, Table, delete, func, select, update
from sqlalchemy.orm import Session

from surveys.models import Base, Response, Wave, utcnow
from surveys.receipts import normalise_receipt, receipt_hash
from surveys.services.audit import audit

__all__ = [
    "RetentionResult",
    "delete_responses",
    "due_for_retention",
    "erase_by_receipt",
    "run_retention",
    "scrub_sqlite",
]

#: Responses deleted per statement (keeps SQL parameter lists small).
_CHUNK = 500


def _response_links() -> list[tuple[Table, Column[Any]]]:
    """Every (table, column) that refers to a response id."""
    links: list[tuple[Table, Column[Any]]] = []
    for table in Base.metadata.sorted_tables:
        if table.name == Response.__tablename__:
            continue
        for column in table.columns:
            points_at_response = any(
                fk.column.table.name == Response.__tablename__ for fk in column.foreign_keys
            )
            if points_at_response or column.name == "response_id":
                links.append((table, column))
    return links


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def delete_responses(
    session: Session, response_ids: Iterable[str], *, withdrawn: bool = False
) -> int:
    """Delete responses and what hangs off them; returns the number of responses deleted.

    ``withdrawn`` marks kept records that have a ``withdrawn_at`` column (consent records)
    as withdrawn by the respondent, rather than simply unlinked.
    """
    ids = sorted(set(response_ids))
    deleted = 0
    links = _response_links()
    for chunk in _chunks(ids):
        for table, column in links:
            if column.nullable and not column.primary_key:
                values: dict[str, Any] = {column.name: None}
                if withdrawn and "withdrawn_at" in table.columns:
                    values["withdrawn_at"] = utcnow()
                session.execute(update(table).where(column.in_(chunk)).values(**values))
            else:
                session.execute(delete(table).where(column.in_(chunk)))
        result = session.execute(
            delete(Response).where(Response.id.in_(chunk)),
            execution_options={"synchronize_session": False},
        )
        deleted += int(getattr(result, "rowcount", 0) or 0)
    _forget(session, set(ids), links)
    return deleted


def _forget(session: Session, ids: set[str], links: list[tuple[Table, Column[Any]]]) -> None:
    """Drop deleted rows from the session and refresh the ones whose link was cleared."""
    names = {column.name for _table, column in links}
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Response):
            if obj.id in ids:
                session.expunge(obj)
            continue
        for name in names:
            if getattr(obj, name, None) in ids:
                table = getattr(obj, "__table__", None)
                column = table.columns.get(name) if table is not None else None
                if column is not None and column.nullable and not column.primary_key:
                    session.expire(obj)
                else:
                    session.expunge(obj)
                break


def scrub_sqlite(engine: Engine) -> bool:
    """Overwrite freed pages of a SQLite database (VACUUM) so deleted answers are gone.

    Deleted rows otherwise stay readable in free pages and the WAL until reused. Returns
    False (doing nothing) for other databases; PostgreSQL's autovacuum reclaims dead rows.
    """
    if engine.url.get_backend_name() != "sqlite":
        return False
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.execute("VACUUM")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()
    return True


@dataclass(frozen=True)
class RetentionResult:
    """One wave's retention: how many responses were (or, in a dry run, would be) deleted."""

    wave_id: int
    wave_name: str
    closed_at: dt.datetime
    retention_days: int
    responses: int


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def due_for_retention(session: Session, *, now: dt.datetime | None = None) -> list[Wave]:
    """Closed waves whose retention period has ended."""
    now = now or utcnow()
    waves = session.scalars(
        select(Wave)
        .where(
            Wave.status == "closed",
            Wave.retention_days.is_not(None),
            Wave.closed_at.is_not(None),
        )
        .order_by(Wave.id)
    )
    due = []
    for wave in waves:
        assert wave.closed_at is not None and wave.retention_days is not None
        if _aware(wave.closed_at) + dt.timedelta(days=wave.retention_days) <= now:
            due.append(wave)
    return due


def run_retention(
    session: Session,
    *,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    actor: object = None,
) -> list[RetentionResult]:
    """Delete the responses of every wave whose retention period has ended.

    Returns one result per due wave that still had responses (with the count deleted, or
    that would be in a dry run). Each deletion is written to the audit log. The caller commits.
    """
    results = []
    for wave in due_for_retention(session, now=now):
        ids = list(session.scalars(select(Response.id).where(Response.wave_id == wave.id)))
        if not ids:
            continue
        count = len(ids) if dry_run else delete_responses(session, ids)
        assert wave.closed_at is not None and wave.retention_days is not None
        results.append(
            RetentionResult(wave.id, wave.name, wave.closed_at, wave.retention_days, count)
        )
        if not dry_run and count:
            audit(
                session,
                actor,
                "retention_delete",
                "wave",
                wave.id,
                wave=wave.name,
                responses=count,
                retention_days=wave.retention_days,
            )
    session.flush()
    return results


def erase_by_receipt(session: Session, *, receipt_code: str, actor: object = None) -> bool:
    """Delete the response ``receipt_code`` belongs to; returns whether one was found.

    The audit entry records that an erasure happened, not which response it was.
    """
    if not normalise_receipt(receipt_code):
        return False
    ids = list(
        session.scalars(
            select(Response.id).where(Response.receipt_hash == receipt_hash(receipt_code))
        )
    )
    if not ids:
        return False
    delete_responses(session, ids, withdrawn=True)
    audit(session, actor, "erasure", "response", "", responses=len(ids))
    session.flush()
    return True


def count_by_wave(session: Session) -> Mapping[int, int]:
    """Responses per wave id (for reports and tests)."""
    rows = session.execute(
        select(Response.wave_id, func.count(Response.id)).group_by(Response.wave_id)
    )
    return {int(wave_id): int(n) for wave_id, n in rows}
