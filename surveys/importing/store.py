"""Storing an imported file's new rows in bulk, once every row has been checked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from surveys.errors import RowErrors, ServiceMessage
from surveys.importing.rows import Row, plan_rows, read_columns, row_problem, wave_version
from surveys.importing.tables import read_table
from surveys.models import Response, Wave, utcnow
from surveys.services.responses import store_response
from surveys.services.setup import instrument_of

__all__ = ["ImportResult", "import_responses"]

#: Responses looked up per statement (keeps SQL parameter lists small).
_BATCH = 500


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    rows: int
    added: int
    unchanged: int
    skipped: int
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def _existing(session: Session, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        for rid, status, digest in session.execute(
            select(Response.id, Response.status, Response.content_hash).where(
                Response.id.in_(batch)
            )
        ):
            found[rid] = (status, digest)
    return found


def import_responses(
    session: Session,
    *,
    wave: Wave,
    instrument_id: str,
    data: bytes,
    source: str,
    skip_bad: bool = False,
) -> ImportResult:
    """Validate every row of a responses file, then store the new ones in bulk.

    Raises
    ------
    RowErrors
        Every problem, each naming its row and column, when the header is wrong or (without
        ``skip_bad``) any row is bad. Nothing has been written.
    ServiceError, ImportRefused
        The file cannot be read, or the wave does not use the instrument.

    The caller commits: with one session the import is one transaction.
    """
    table = read_table(data, source=source)
    version = wave_version(session, wave, instrument_id)
    instrument = instrument_of(version)
    meta, items, header_problems, notes = read_columns(table, instrument)
    if header_problems:
        raise RowErrors(header_problems)
    plan = plan_rows(
        session,
        table=table,
        wave=wave,
        version=version,
        instrument=instrument,
        meta=meta,
        items=items,
    )
    existing = _existing(session, [row.response_id for row in plan.rows])
    new_rows: list[Row] = []
    drafts: list[Row] = []
    unchanged = plan.duplicates
    for row in plan.rows:
        found = existing.get(row.response_id)
        if found is None:
            new_rows.append(row)
        elif found[0] == "draft":
            drafts.append(row)
        elif found[1] == row.digest:
            unchanged += 1
        else:
            plan.reject(
                row.number,
                row_problem(
                    source,
                    row.number,
                    "response_id",
                    ServiceMessage.RESPONSE_CONFLICT.format(id=row.response_id),
                ),
            )
    problems = [p for _, p in sorted(plan.problems, key=lambda item: item[0])]
    if problems and not skip_bad:
        raise RowErrors(problems)
    now = utcnow()
    if new_rows:
        session.execute(
            insert(Response),
            [
                {
                    "id": row.response_id,
                    "wave_id": wave.id,
                    "site_id": row.site.id,
                    "class_id": row.school_class.id if row.school_class else None,
                    "instrument_version_id": version.id,
                    "channel": "import",
                    "status": "submitted",
                    "language": row.language or instrument.default_language,
                    "answers": row.answers,
                    "content_hash": row.digest,
                    "resume_word": None,
                    "receipt_hash": None,
                    "access_code_id": None,
                    "researcher_id": None,
                    "review_note": "",
                    "started_at": row.submitted_at or now,
                    "updated_at": now,
                    "submitted_at": row.submitted_at or now,
                }
                for row in new_rows
            ],
        )
    for row in drafts:
        store_response(
            session,
            response_id=row.response_id,
            wave=wave,
            version=version,
            channel="import",
            answers=row.answers,
            site=row.site,
            school_class=row.school_class,
            language=row.language,
            submitted_at=row.submitted_at,
            instrument=instrument,
        )
    session.flush()
    return ImportResult(
        rows=len(table.rows),
        added=len(new_rows) + len(drafts),
        unchanged=unchanged,
        skipped=len(plan.bad_rows),
        problems=tuple(problems),
        notes=tuple(notes),
    )
