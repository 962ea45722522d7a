"""Importing responses collected elsewhere (paper, Excel, KoboToolbox) from CSV or XLSX.

One row per response: a column per item (choice names as values, select_multiple as
space-separated names), ``site`` (site id or name) and optional ``response_id``,
``class``, ``submitted_at``, ``language``, ``postcode``, ``year_group`` and ``gender``
(the last three are answers when the instrument has items with those names).

Every row is validated with :func:`surveys.validation.validate_answers` (the service the
web forms use) before anything is written; then the new rows are inserted in bulk. A file
with bad rows stores nothing unless ``skip_bad`` is given (then its good rows are stored).
Re-importing a file changes nothing: rows are idempotent on ``response_id``, and a row
without one gets a UUID derived from the wave, the instrument and the row's own content
(with its occurrence number among identical rows), so the same file, or the same file
with some rows corrected, never stores a response twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from instruments import Instrument
from surveys.errors import RowErrors, ServiceError, ServiceMessage
from surveys.models import InstrumentVersion, Response, SchoolClass, Site, Wave, utcnow
from surveys.services.responses import answers_hash, check_response_id, store_response
from surveys.services.setup import instrument_of
from surveys.validation import validate_answers

__all__ = [
    "META_COLUMNS",
    "ImportRefused",
    "ImportResult",
    "Table",
    "area_for_postcode",
    "derived_response_id",
    "import_responses",
    "normalise_postcode",
    "read_table",
    "wave_version",
]

#: Columns that describe a response rather than answer a question.
META_COLUMNS: tuple[str, ...] = (
    "site",
    "response_id",
    "class",
    "submitted_at",
    "language",
    "postcode",
    "year_group",
    "gender",
)
#: Meta columns that are answers when the instrument has an item of that name.
_ANSWER_OR_META = ("postcode", "year_group", "gender")

#: Namespace of the UUIDs given to imported rows without a response_id.
IMPORT_NAMESPACE = uuid.UUID("6f1c2d3e-8a4b-5c6d-9e0f-a1b2c3d4e5f6")

_BATCH = 500


class ImportRefused(ValueError):
    """The file cannot be imported into this wave at all (not a problem of its rows)."""


@dataclass(frozen=True)
class Table:
    """A spreadsheet's header and data rows (row numbers as the spreadsheet shows them)."""

    source: str
    header: tuple[str, ...]
    rows: list[tuple[int, tuple[str, ...]]]


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    rows: int
    added: int
    unchanged: int
    skipped: int
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


# --- reading ---------------------------------------------------------------------------


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _read_xlsx(data: bytes, source: str) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        raise ServiceError(
            ServiceMessage.CSV_UNREADABLE, source=source, detail="it is not an Excel .xlsx file"
        ) from err
    try:
        sheet = book.worksheets[0]
        return [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _read_csv(data: bytes, source: str) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ServiceError(
            ServiceMessage.CSV_UNREADABLE,
            source=source,
            detail="it is not UTF-8 text (in Excel, save it as 'CSV UTF-8')",
        ) from err
    try:
        return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    except csv.Error as err:
        raise ServiceError(ServiceMessage.CSV_UNREADABLE, source=source, detail=str(err)) from err


def read_table(data: bytes, *, source: str) -> Table:
    """Read a CSV (UTF-8) or an XLSX (first sheet) into a :class:`Table`.

    Blank rows are skipped; row numbers stay those of the file (the header is row 1).
    """
    is_xlsx = source.lower().endswith((".xlsx", ".xlsm")) or data[:4] == b"PK\x03\x04"
    cells = _read_xlsx(data, source) if is_xlsx else _read_csv(data, source)
    if not cells or not any(cells[0]):
        raise ServiceError(ServiceMessage.CSV_EMPTY, source=source)
    header = list(cells[0])
    while header and not header[-1]:
        header.pop()
    width = len(header)
    rows: list[tuple[int, tuple[str, ...]]] = []
    for number, row in enumerate(cells[1:], start=2):
        if not any(row):
            continue
        padded = list(row[:width]) + [""] * (width - len(row))
        if any(row[width:]):
            padded.extend(row[width:])  # more cells than columns: reported for this row
        rows.append((number, tuple(padded)))
    if not rows:
        raise ServiceError(ServiceMessage.CSV_EMPTY, source=source)
    return Table(source=source, header=tuple(header), rows=rows)


# --- postcodes -------------------------------------------------------------------------


def normalise_postcode(text: str) -> tuple[str, str]:
    """The outward code and the compact form of a full or partial UK postcode.

    >>> normalise_postcode(" e8 1ab "), normalise_postcode("E81AB"), normalise_postcode("N16")
    (('E8', 'E81AB'), ('E8', 'E81AB'), ('N16', 'N16'))
    >>> normalise_postcode("E8 1")
    ('E8', 'E81')
    """
    upper = " ".join(text.upper().split())
    compact = upper.replace(" ", "")
    if " " in upper:
        outward = upper.split(" ", 1)[0]
    elif len(compact) >= 5:
        outward = compact[:-3]
    else:
        outward = compact
    return outward, compact


def _prefix_matches(prefix: str, outward: str, compact: str) -> bool:
    if prefix.isalpha():  # a postcode area such as "E": E1, E8, E17 but not EC1
        rest = outward[len(prefix) :]
        return outward.startswith(prefix) and rest[:1].isdigit()
    if len(prefix) <= len(outward):  # an outward code such as "E8" (not "E81", "E8A")
        return outward == prefix
    return compact.startswith(prefix)  # a sector or finer, such as "E81"


def area_for_postcode(postcode: str, areas: Iterable[Site]) -> Site | None:
    """The area whose postcode prefixes match ``postcode`` most specifically, or None.

    Prefixes (``Site.postcodes``, space-separated) are postcode areas ("E"), outward
    codes ("E8") or sectors written without the space ("E81"); the longest matching
    prefix wins, so "E8" and "E81" can be different areas.
    """
    outward, compact = normalise_postcode(postcode)
    if not compact:
        return None
    best: tuple[int, Site] | None = None
    for area in areas:
        for raw in area.postcodes.split():
            prefix = raw.upper().replace(" ", "")
            if prefix and _prefix_matches(prefix, outward, compact):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), area)
    return best[1] if best else None


# --- the import ------------------------------------------------------------------------


def wave_version(session: Session, wave: Wave, instrument_id: str) -> InstrumentVersion:
    """The version of ``instrument_id`` that ``wave`` uses (the newest if several)."""
    versions = [
        link.instrument_version
        for link in wave.instruments
        if link.instrument_version.instrument_id == instrument_id
    ]
    if not versions:
        used = ", ".join(
            sorted({link.instrument_version.instrument_id for link in wave.instruments})
        )
        exists = session.scalar(
            select(InstrumentVersion.id).where(InstrumentVersion.instrument_id == instrument_id)
        )
        if exists is None:
            raise ServiceError(ServiceMessage.NO_INSTRUMENT, id=instrument_id)
        raise ImportRefused(
            f"the wave '{wave.name}' does not use instrument '{instrument_id}'"
            f" (it uses: {used or 'none'})"
        )
    return max(versions, key=lambda v: v.id)


def derived_response_id(
    wave_id: int, instrument_id: str, cells: Mapping[str, str], occurrence: int
) -> str:
    """The UUID of a row without a ``response_id``: same row content, same id."""
    content = json.dumps(sorted(cells.items()), separators=(",", ":"), ensure_ascii=False)
    return str(uuid.uuid5(IMPORT_NAMESPACE, f"{wave_id}|{instrument_id}|{occurrence}|{content}"))


@dataclass
class _Row:
    number: int
    response_id: str
    site: Site
    school_class: SchoolClass | None
    language: str
    submitted_at: dt.datetime | None
    answers: dict[str, Any]
    digest: str


@dataclass
class _Plan:
    rows: list[_Row] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)
    duplicates: int = 0


def _parse_time(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def _columns(
    table: Table, instrument: Instrument
) -> tuple[dict[str, int], dict[str, int], list[str], list[str]]:
    """Meta column -> index, item column -> index, header problems, notes."""
    problems: list[str] = []
    notes: list[str] = []
    meta: dict[str, int] = {}
    items: dict[str, int] = {}
    seen: dict[str, int] = {}
    for index, raw in enumerate(table.header):
        name = raw.strip()
        key = name.lower()
        if not name:
            problems.append(
                ServiceMessage.CSV_ROW.format(
                    source=table.source,
                    row=1,
                    column=index + 1,
                    detail="the column has no name",
                )
            )
            continue
        if name in seen or key in seen:
            problems.append(
                ServiceMessage.CSV_ROW.format(
                    source=table.source, row=1, column=name, detail="the column appears twice"
                )
            )
            continue
        seen[name] = seen[key] = index
        if instrument.has_item(name):
            items[name] = index
            if key in _ANSWER_OR_META:
                meta[key] = index
        elif key in META_COLUMNS:
            meta[key] = index
            if key in ("year_group", "gender"):
                notes.append(
                    f"column {name}: instrument '{instrument.id}' has no question '{key}',"
                    " so the column is not stored"
                )
        else:
            problems.append(
                ServiceMessage.CSV_ROW.format(
                    source=table.source,
                    row=1,
                    column=name,
                    detail=(
                        f"'{name}' is not a question in '{instrument.id}' nor one of the"
                        f" columns {', '.join(META_COLUMNS)}"
                    ),
                )
            )
    if "site" not in meta and "postcode" not in meta:
        problems.append(ServiceMessage.CSV_HEADER.format(source=table.source, columns="site"))
    return meta, items, problems, notes


def _plan(
    session: Session,
    *,
    table: Table,
    wave: Wave,
    version: InstrumentVersion,
    instrument: Instrument,
    meta: Mapping[str, int],
    items: Mapping[str, int],
) -> _Plan:
    source = table.source
    sites = list(session.scalars(select(Site).where(Site.community_id == wave.community_id)))
    by_code = {s.code: s for s in sites}
    by_name = {s.name.strip().lower(): s for s in sites}
    areas = [s for s in sites if s.kind == "area" and s.postcodes.strip()]
    classes = {
        (c.site_id, c.name.strip().lower()): c
        for c in session.scalars(
            select(SchoolClass).where(SchoolClass.site_id.in_([s.id for s in sites]))
        )
    }
    languages = set(instrument.languages) | {instrument.default_language}
    plan = _Plan()
    occurrences: dict[str, int] = {}
    first_seen: dict[str, tuple[int, str]] = {}
    header = table.header

    for number, cells in table.rows:
        problems: list[str] = []

        def bad(
            column: str, detail: str, number: int = number, problems: list[str] = problems
        ) -> None:
            problems.append(
                ServiceMessage.CSV_ROW.format(
                    source=source, row=number, column=column, detail=detail
                )
            )

        if len(cells) > len(header):
            bad(str(len(header) + 1), "the row has more cells than the header has columns")
            cells = cells[: len(header)]

        def cell(key: str, cells: tuple[str, ...] = cells) -> str:
            index = meta.get(key)
            return cells[index] if index is not None else ""

        site_text, postcode = cell("site"), cell("postcode")
        site: Site | None = None
        if site_text:
            site = by_code.get(site_text) or by_name.get(site_text.lower())
            if site is None:
                bad("site", f"there is no site '{site_text}'")
        elif postcode:
            site = area_for_postcode(postcode, areas)
            if site is None:
                bad("postcode", f"'{postcode}' is in none of the areas' postcodes")
        else:
            bad(
                "site",
                "is empty (give a site id or name"
                + (", or a postcode)" if "postcode" in meta else ")"),
            )

        school_class: SchoolClass | None = None
        class_text = cell("class")
        if class_text and site is not None:
            school_class = classes.get((site.id, class_text.lower()))
            if school_class is None:
                bad("class", f"there is no class '{class_text}' at site '{site.code}'")

        given_id = cell("response_id")
        response_id = ""
        if given_id:
            try:
                response_id = check_response_id(given_id)
            except ValueError:
                bad("response_id", f"'{given_id}' is not a UUID")

        submitted_at: dt.datetime | None = None
        if cell("submitted_at"):
            try:
                submitted_at = _parse_time(cell("submitted_at"))
            except ValueError:
                bad(
                    "submitted_at",
                    f"'{cell('submitted_at')}' is not a date and time (use ISO 8601)",
                )

        language = cell("language")
        if language and language not in languages:
            bad(
                "language",
                f"'{language}' is not one of the form's languages ({', '.join(sorted(languages))})",
            )

        raw = {name: cells[index] for name, index in items.items()}
        validated = validate_answers(instrument, raw, strict_unknown=True)
        for error in validated.errors:
            bad(error.item, error.text())

        if problems or site is None:
            plan.problems.extend((number, p) for p in problems)
            plan.bad_rows.add(number)
            continue
        digest = answers_hash(
            {
                "answers": validated.answers,
                "wave": wave.id,
                "version": version.id,
                "site": site.id,
                "class": school_class.id if school_class else None,
            }
        )
        if not response_id:
            content = {
                h: c for h, c in zip(header, cells, strict=False) if h.lower() != "response_id"
            }
            key = json.dumps(sorted(content.items()), ensure_ascii=False)
            occurrences[key] = occurrences.get(key, 0) + 1
            response_id = derived_response_id(wave.id, instrument.id, content, occurrences[key])
        earlier = first_seen.get(response_id)
        if earlier is not None:
            if earlier[1] != digest:
                plan.problems.append(
                    (
                        number,
                        ServiceMessage.CSV_ROW.format(
                            source=source,
                            row=number,
                            column="response_id",
                            detail=(
                                f"{response_id} is also in row {earlier[0]}, with different answers"
                            ),
                        ),
                    )
                )
                plan.bad_rows.add(number)
            else:
                plan.duplicates += 1
            continue
        first_seen[response_id] = (number, digest)
        plan.rows.append(
            _Row(
                number=number,
                response_id=response_id,
                site=site,
                school_class=school_class,
                language=language,
                submitted_at=submitted_at,
                answers=validated.answers,
                digest=digest,
            )
        )
    return plan


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
    meta, items, header_problems, notes = _columns(table, instrument)
    if header_problems:
        raise RowErrors(header_problems)
    plan = _plan(
        session,
        table=table,
        wave=wave,
        version=version,
        instrument=instrument,
        meta=meta,
        items=items,
    )
    existing = _existing(session, [row.response_id for row in plan.rows])
    new_rows: list[_Row] = []
    drafts: list[_Row] = []
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
            plan.problems.append(
                (
                    row.number,
                    ServiceMessage.CSV_ROW.format(
                        source=source,
                        row=row.number,
                        column="response_id",
                        detail=ServiceMessage.RESPONSE_CONFLICT.format(id=row.response_id),
                    ),
                )
            )
            plan.bad_rows.add(row.number)
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
