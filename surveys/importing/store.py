"""Storing an imported file's rows in bulk, once every row has been checked.

New respondents are inserted, respondents already imported from the same source whose
answers changed are updated (the report says which), the rest are left alone. With
``dry_run`` nothing is written and the result says what would have been.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, insert, or_, select, tuple_, update
from sqlalchemy.orm import Session

from surveys.errors import RowErrors, ServiceError, ServiceMessage
from surveys.importing.formats import to_table
from surveys.importing.mapping import ColumnMapping, Matcher
from surveys.importing.rows import Issue, Row, plan_rows, read_columns, wave_version
from surveys.importing.tables import Table, read_grids
from surveys.models import Response, Wave, utcnow
from surveys.services.responses import store_response
from surveys.services.setup import instrument_of

__all__ = ["Change", "ImportResult", "import_responses"]

#: Responses looked up per statement (keeps SQL parameter lists small).
_BATCH = 500
#: Responses inserted per statement.
_INSERT_BATCH = 2000


@dataclass(frozen=True)
class Change:
    """A respondent already stored whose answers the file changes."""

    row: int
    respondent: str
    questions: tuple[str, ...]


@dataclass(frozen=True)
class ImportResult:
    """What an import did (or, with ``dry_run``, would do)."""

    rows: int
    added: int
    unchanged: int
    skipped: int
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    updated: int = 0
    dry_run: bool = False
    format: str = "file"
    source: str = ""
    #: Column as the file names it -> question or meta column.
    matched: tuple[tuple[str, str], ...] = ()
    unmatched: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    issues: tuple[Issue, ...] = ()
    #: (row, earlier row) of repeated respondents with the same answers.
    duplicates: tuple[tuple[int, int], ...] = ()
    changes: tuple[Change, ...] = ()
    #: Rows the source's own review left out (row, reason).
    left_out: tuple[tuple[int, str], ...] = ()
    table: Table | None = field(default=None, repr=False, compare=False)


def _existing(
    session: Session, wave: Wave, source: str, rows: Sequence[Row]
) -> dict[str, Response]:
    """Stored responses of these rows, by the row's response id (or source id)."""
    found: dict[str, Response] = {}
    for start in range(0, len(rows), _BATCH):
        batch = rows[start : start + _BATCH]
        ids = [r.response_id for r in batch]
        source_ids = [r.source_id for r in batch if r.source_id]
        condition: ColumnElement[bool] = Response.id.in_(ids)
        if source_ids:
            condition = or_(
                condition,
                tuple_(Response.wave_id, Response.source, Response.source_id).in_(
                    [(wave.id, source, s) for s in source_ids]
                ),
            )
        for response in session.scalars(select(Response).where(condition)):
            found[response.id] = response
            if response.source == source and response.source_id:
                found[f"source:{response.source_id}"] = response
    return found


def import_responses(
    session: Session,
    *,
    wave: Wave,
    instrument_id: str,
    data: bytes,
    source: str,
    skip_bad: bool = False,
    dry_run: bool = False,
    mapping: ColumnMapping | None = None,
    source_name: str | None = None,
    fmt: str | None = None,
    date_first: str | None = None,
) -> ImportResult:
    """Validate every row of a responses file, then store the new and changed ones.

    ``source_name`` names where the file comes from (default: its format: kobo, odk,
    surveymonkey or file); a respondent id is unique per wave and source. ``fmt`` forces
    a format instead of detecting it; ``date_first`` ('dmy' or 'mdy') settles dates such
    as 03/04/2025 that the file's own columns leave ambiguous.

    Raises
    ------
    RowErrors
        Every problem, each naming its row and column, when (without ``skip_bad`` or
        ``dry_run``) any column or row is bad. Nothing has been written.
    ServiceError, ImportRefused
        The file cannot be read, or the wave does not use the instrument.

    The caller commits: with one session the import is one transaction.
    """
    version = wave_version(session, wave, instrument_id)
    instrument = instrument_of(version)
    matcher = Matcher(instrument, mapping)
    kind, grids = read_grids(data, source=source)
    table = to_table(kind, grids, source=source, matcher=matcher, fmt=fmt)
    origin = (source_name or table.format).strip()[:60]
    if not table.rows and not table.skipped:
        raise ServiceError(ServiceMessage.CSV_EMPTY, source=source)
    columns = read_columns(table, instrument, matcher)
    if columns.problems and not dry_run:  # a column's problem is every row's
        raise RowErrors([p.text(source) for p in columns.problems])
    plan = plan_rows(
        session,
        table=table,
        wave=wave,
        version=version,
        instrument=instrument,
        columns=columns,
        matcher=matcher,
        source_name=origin,
        date_first=date_first,
    )
    existing = _existing(session, wave, origin, plan.rows)
    new_rows: list[Row] = []
    drafts: list[Row] = []
    changed: list[tuple[Row, Response]] = []
    changes: list[Change] = []
    unchanged = 0
    for row in plan.rows:
        found = existing.get(row.response_id) or existing.get(f"source:{row.source_id}")
        if found is None:
            new_rows.append(row)
        elif found.status == "draft":
            drafts.append(row)
        elif found.content_hash == row.digest:
            unchanged += 1
        elif found.channel == "import" and found.wave_id == wave.id:
            changed.append((row, found))
            keys = sorted(set(found.answers) | set(row.answers))
            questions = [k for k in keys if found.answers.get(k) != row.answers.get(k)]
            if found.site_id != row.site.id:
                questions.insert(0, "site")
            changes.append(Change(row.number, row.source_id or row.response_id, tuple(questions)))
        else:
            plan.reject(
                Issue(
                    row.number,
                    "response_id",
                    ServiceMessage.RESPONSE_CONFLICT.format(id=row.response_id),
                    row.source_id or row.response_id,
                )
            )
    issues = sorted([*columns.problems, *plan.problems], key=lambda i: (i.row, i.column))
    problems = [i.text(source) for i in issues]
    if problems and not (skip_bad or dry_run):
        raise RowErrors(problems)
    if not dry_run:
        _write(session, wave, version.id, instrument.default_language, origin, new_rows)
        for row, response in changed:
            session.execute(
                update(Response)
                .where(Response.id == response.id)
                .values(
                    answers=row.answers,
                    content_hash=row.digest,
                    site_id=row.site.id,
                    class_id=row.school_class.id if row.school_class else None,
                    language=row.language or response.language,
                    submitted_at=row.submitted_at or response.submitted_at,
                    updated_at=utcnow(),
                    source=origin if row.source_id else response.source,
                    source_id=row.source_id or response.source_id,
                )
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
        unchanged=unchanged + len(plan.duplicates),
        skipped=len(plan.bad_rows),
        problems=tuple(problems),
        notes=(*table.notes, *columns.notes),
        updated=len(changed),
        dry_run=dry_run,
        format=table.format,
        source=origin,
        matched=tuple(
            (table.label(i), name)
            for i, name in sorted(
                {i: n for n, i in {**columns.meta, **columns.items}.items()}.items()
            )
        ),
        unmatched=tuple(columns.unmatched),
        ignored=tuple(columns.ignored),
        issues=tuple(issues),
        duplicates=tuple(plan.duplicates),
        changes=tuple(changes),
        left_out=tuple(table.skipped),
        table=table,
    )


def _write(
    session: Session,
    wave: Wave,
    version_id: int,
    default_language: str,
    origin: str,
    rows: Sequence[Row],
) -> None:
    now = utcnow()
    for start in range(0, len(rows), _INSERT_BATCH):  # bounded memory for large files
        _insert_batch(
            session,
            wave,
            version_id,
            default_language,
            origin,
            rows[start : start + _INSERT_BATCH],
            now,
        )


def _insert_batch(
    session: Session,
    wave: Wave,
    version_id: int,
    default_language: str,
    origin: str,
    rows: Sequence[Row],
    now: dt.datetime,
) -> None:
    session.execute(
        insert(Response),
        [
            {
                "id": row.response_id,
                "wave_id": wave.id,
                "site_id": row.site.id,
                "class_id": row.school_class.id if row.school_class else None,
                "instrument_version_id": version_id,
                "channel": "import",
                "status": "submitted",
                "language": row.language or default_language,
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
                "source": origin if row.source_id else None,
                "source_id": row.source_id,
            }
            for row in rows
        ],
    )
