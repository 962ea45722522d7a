"""Checking an imported file's columns and rows against the wave and instrument.

Nothing here writes: :func:`plan_rows` turns a :class:`~surveys.importing.tables.Table`
into the rows to store and the problems to report.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from instruments import Instrument
from surveys.errors import ServiceError, ServiceMessage
from surveys.importing.postcodes import area_for_postcode
from surveys.importing.tables import Table
from surveys.models import InstrumentVersion, SchoolClass, Site, Wave
from surveys.services.responses import answers_hash, check_response_id
from surveys.validation import validate_answers

__all__ = [
    "IMPORT_NAMESPACE",
    "META_COLUMNS",
    "ImportRefused",
    "Plan",
    "Row",
    "derived_response_id",
    "plan_rows",
    "read_columns",
    "row_problem",
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


class ImportRefused(ValueError):
    """The file cannot be imported into this wave at all (not a problem of its rows)."""


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


def row_problem(source: str, row: int, column: object, detail: str) -> str:
    """The message for a problem in one cell (or, with ``row`` 1, one header cell)."""
    return ServiceMessage.CSV_ROW.format(source=source, row=row, column=column, detail=detail)


@dataclass
class Row:
    """A checked row, ready to store."""

    number: int
    response_id: str
    site: Site
    school_class: SchoolClass | None
    language: str
    submitted_at: dt.datetime | None
    answers: dict[str, Any]
    digest: str


@dataclass
class Plan:
    """The rows to store, and (by row number) the problems of the rows that are not."""

    rows: list[Row] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)
    duplicates: int = 0

    def reject(self, number: int, problem: str) -> None:
        """Leave row ``number`` out, for ``problem``."""
        self.problems.append((number, problem))
        self.bad_rows.add(number)


def _parse_time(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def read_columns(
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
            problems.append(row_problem(table.source, 1, index + 1, "the column has no name"))
            continue
        if name in seen or key in seen:
            problems.append(row_problem(table.source, 1, name, "the column appears twice"))
            continue
        seen[name] = seen[key] = index
        if instrument.has_item(name) and instrument.item(name).sgic:
            problems.append(
                row_problem(
                    table.source,
                    1,
                    name,
                    f"'{name}' is a part of the identification code, which is only ever"
                    " stored from the survey itself (as keyed digests): remove the column",
                )
            )
        elif instrument.has_item(name):
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
                row_problem(
                    table.source,
                    1,
                    name,
                    f"'{name}' is not a question in '{instrument.id}' nor one of the"
                    f" columns {', '.join(META_COLUMNS)}",
                )
            )
    if "site" not in meta and "postcode" not in meta:
        problems.append(ServiceMessage.CSV_HEADER.format(source=table.source, columns="site"))
    return meta, items, problems, notes


def plan_rows(
    session: Session,
    *,
    table: Table,
    wave: Wave,
    version: InstrumentVersion,
    instrument: Instrument,
    meta: Mapping[str, int],
    items: Mapping[str, int],
) -> Plan:
    """Check every row of ``table``; nothing is written."""
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
    plan = Plan()
    occurrences: dict[str, int] = {}
    first_seen: dict[str, tuple[int, str]] = {}
    header = table.header

    for number, cells in table.rows:
        problems: list[str] = []

        def bad(
            column: str, detail: str, number: int = number, problems: list[str] = problems
        ) -> None:
            problems.append(row_problem(source, number, column, detail))

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
                plan.reject(
                    number,
                    row_problem(
                        source,
                        number,
                        "response_id",
                        f"{response_id} is also in row {earlier[0]}, with different answers",
                    ),
                )
            else:
                plan.duplicates += 1
            continue
        first_seen[response_id] = (number, digest)
        plan.rows.append(
            Row(
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
