"""Checking an imported file's columns and rows against the wave and instrument.

Nothing here writes: :func:`read_columns` says which column is which, :func:`plan_rows`
turns a :class:`~surveys.importing.tables.Table` into the rows to store and the problems
to report (each naming its row, column and value).
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
from surveys.importing.mapping import IGNORE, META_COLUMNS, Matcher
from surveys.importing.postcodes import area_for_postcode
from surveys.importing.tables import Table
from surveys.importing.values import NotAChoice, choice_indexes, date_order, parse_when
from surveys.models import InstrumentVersion, SchoolClass, Site, Wave
from surveys.services.responses import answers_hash
from surveys.validation import validate_answers

__all__ = [
    "IMPORT_NAMESPACE",
    "Columns",
    "ImportRefused",
    "Issue",
    "Plan",
    "Row",
    "derived_response_id",
    "plan_rows",
    "read_columns",
    "row_problem",
    "source_response_id",
    "wave_version",
]

#: Meta columns that are answers when the instrument has an item of that name.
_ANSWER_OR_META = ("postcode", "year_group", "gender")

#: Namespace of the UUIDs given to imported rows.
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
    """The UUID of a row without a respondent id: same row content, same id."""
    content = json.dumps(sorted(cells.items()), separators=(",", ":"), ensure_ascii=False)
    return str(uuid.uuid5(IMPORT_NAMESPACE, f"{wave_id}|{instrument_id}|{occurrence}|{content}"))


def source_response_id(
    wave_id: int, source: str, source_id: str, *, keep_uuid: bool = False
) -> str:
    """The project's UUID for a source's respondent id: the same id in the same wave and
    source is always the same response, and the same id in another wave another one.

    With ``keep_uuid`` (a ``response_id`` column of the project's own format) a UUID is
    used as it is, so an import can complete a draft started on the web.
    """
    text = source_id.strip()
    if keep_uuid:
        try:
            return str(uuid.UUID(text))
        except ValueError:
            pass
    return str(uuid.uuid5(IMPORT_NAMESPACE, f"{wave_id}|{source}|{text}"))


def row_problem(source: str, row: int, column: object, detail: str) -> str:
    """The message for a problem in one cell (or, with the header's row, one header cell)."""
    return ServiceMessage.CSV_ROW.format(source=source, row=row, column=column, detail=detail)


@dataclass(frozen=True)
class Issue:
    """One problem: its row, the column as the file names it, the value, and what is wrong."""

    row: int
    column: str
    message: str
    value: str = ""

    def text(self, source: str) -> str:
        """The problem as one line naming the file, row and column."""
        return row_problem(source, self.row, self.column, self.message)


@dataclass
class Columns:
    """Which column is which."""

    meta: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    problems: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_columns(table: Table, instrument: Instrument, matcher: Matcher) -> Columns:
    """Match every column to a question, a meta column, or nothing."""
    found = Columns(ignored=list(table.ignored))
    header_row = table.rows[0][0] - 1 if table.rows else 1
    for index, name in enumerate(table.header):
        label = table.label(index)
        target = matcher.resolve(name)
        if target == IGNORE:
            found.ignored.append(label)
            continue
        if target is None:
            found.unmatched.append(label)
            found.problems.append(
                Issue(
                    header_row,
                    label,
                    f"'{label}' is not a question in '{instrument.id}' (by name or label) nor"
                    f" one of the columns {', '.join(META_COLUMNS)}; map it to a question,"
                    " or to 'ignore', in a mapping file",
                )
            )
            continue
        if instrument.has_item(target) and instrument.item(target).sgic:
            found.problems.append(
                Issue(
                    header_row,
                    label,
                    f"'{label}' is a part of the identification code, which is only ever"
                    " stored from the survey itself (as keyed digests): remove the column",
                )
            )
            continue
        if instrument.has_item(target) and instrument.item(target).answerable:
            if target in found.items:
                first = table.label(found.items[target])
                found.problems.append(
                    Issue(header_row, label, f"'{first}' already answers '{target}'")
                )
                continue
            found.items[target] = index
            if target in _ANSWER_OR_META:
                found.meta[target] = index
        elif target in META_COLUMNS:
            if target in found.meta:
                found.problems.append(Issue(header_row, label, f"a second '{target}' column"))
                continue
            found.meta[target] = index
            if target in ("year_group", "gender"):
                found.notes.append(
                    f"column {label}: instrument '{instrument.id}' has no question '{target}',"
                    " so the column is not stored"
                )
        else:
            found.problems.append(
                Issue(
                    header_row,
                    label,
                    f"the mapping file maps it to '{target}', which is not a question in"
                    f" '{instrument.id}' nor one of the columns {', '.join(META_COLUMNS)}",
                )
            )
    if "site" not in found.meta and "postcode" not in found.meta:
        found.problems.append(
            Issue(
                header_row,
                "site",
                "missing column: the file needs a site column (a site id or name)",
            )
        )
    return found


@dataclass
class Row:
    """A checked row, ready to store."""

    number: int
    response_id: str
    source_id: str | None
    site: Site
    school_class: SchoolClass | None
    language: str
    submitted_at: dt.datetime | None
    answers: dict[str, Any]
    digest: str


@dataclass
class Plan:
    """The rows to store, the problems of the rows that are not, and the duplicates."""

    rows: list[Row] = field(default_factory=list)
    problems: list[Issue] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)
    #: (row, earlier row) pairs of the same respondent with the same answers.
    duplicates: list[tuple[int, int]] = field(default_factory=list)

    def reject(self, issue: Issue) -> None:
        """Leave ``issue.row`` out, for ``issue``."""
        self.problems.append(issue)
        self.bad_rows.add(issue.row)


def _when_orders(table: Table, columns: Columns, instrument: Instrument) -> dict[int, str | None]:
    """Day-first or month-first per date column, from the column's own values."""
    indexes = [columns.meta["submitted_at"]] if "submitted_at" in columns.meta else []
    indexes += [i for name, i in columns.items.items() if instrument.item(name).type == "date"]
    return {i: date_order(cells[i] for _, cells in table.rows) for i in indexes}


def plan_rows(
    session: Session,
    *,
    table: Table,
    wave: Wave,
    version: InstrumentVersion,
    instrument: Instrument,
    columns: Columns,
    matcher: Matcher,
    source_name: str,
    date_first: str | None = None,
) -> Plan:
    """Check every row of ``table``; nothing is written."""
    meta, items = columns.meta, columns.items
    sites = list(session.scalars(select(Site).where(Site.community_id == wave.community_id)))
    by_code = {s.code.strip().lower(): s for s in sites}
    by_name = {s.name.strip().lower(): s for s in sites}
    areas = [s for s in sites if s.kind == "area" and s.postcodes.strip()]
    classes = {
        (c.site_id, c.name.strip().lower()): c
        for c in session.scalars(
            select(SchoolClass).where(SchoolClass.site_id.in_([s.id for s in sites]))
        )
    }
    languages = set(instrument.languages) | {instrument.default_language}
    indexes = choice_indexes(instrument, matcher.mapping.values)
    kinds = {name: instrument.item(name).type for name in items}
    orders = {i: date_first or o for i, o in _when_orders(table, columns, instrument).items()}
    plan = Plan()
    for number, column, message in table.problems:
        plan.reject(Issue(number, column, message))
    own_ids = "response_id" in meta and table.label(meta["response_id"]).strip() == "response_id"
    occurrences: dict[str, int] = {}
    first_seen: dict[str, tuple[int, str]] = {}
    header = table.header

    for number, cells in table.rows:
        problems: list[Issue] = []

        def cell(key: str, cells: tuple[str, ...] = cells) -> str:
            index = meta.get(key)
            return cells[index] if index is not None else ""

        def bad(
            key: str,
            detail: str,
            number: int = number,
            problems: list[Issue] = problems,
            cells: tuple[str, ...] = cells,
        ) -> None:
            index = meta.get(key, items.get(key))
            label = table.label(index) if index is not None else key
            problems.append(Issue(number, label, detail, cells[index] if index is not None else ""))

        site_text, postcode = cell("site"), cell("postcode")
        site: Site | None = None
        if site_text:
            site = by_code.get(site_text.lower()) or by_name.get(site_text.lower())
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

        source_id = cell("response_id") or None
        if source_id is not None and len(source_id) > 200:
            bad("response_id", "the respondent id is longer than 200 characters")

        submitted_at: dt.datetime | None = None
        if cell("submitted_at"):
            try:
                submitted_at = parse_when(cell("submitted_at"), orders.get(meta["submitted_at"]))
            except ValueError as err:
                bad("submitted_at", str(err))

        language = cell("language")
        if language and language not in languages:
            bad(
                "language",
                f"'{language}' is not one of the form's languages ({', '.join(sorted(languages))})",
            )

        raw: dict[str, object] = {}
        for name, index in items.items():
            text = cells[index]
            kind = kinds[name]
            if not text.strip():
                raw[name] = ""
            elif name in indexes:
                try:
                    raw[name] = indexes[name].read(text)
                except NotAChoice as err:
                    bad(name, str(err))
            elif kind == "date":
                try:
                    raw[name] = parse_when(text, orders.get(index)).date().isoformat()
                except ValueError as err:
                    bad(name, str(err))
            else:
                raw[name] = text
        validated = validate_answers(instrument, raw, strict_unknown=True)
        for error in validated.errors:
            bad(error.item, error.text())

        if problems or site is None or number in plan.bad_rows:
            plan.problems.extend(problems)
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
        if source_id is not None:
            response_id = source_response_id(wave.id, source_name, source_id, keep_uuid=own_ids)
        else:
            content = {h: c for h, c in zip(header, cells, strict=False) if h != "response_id"}
            key = json.dumps(sorted(content.items()), ensure_ascii=False)
            occurrences[key] = occurrences.get(key, 0) + 1
            response_id = derived_response_id(wave.id, instrument.id, content, occurrences[key])
        earlier = first_seen.get(response_id)
        if earlier is not None:
            if earlier[1] != digest:
                shown = source_id or response_id
                plan.reject(
                    Issue(
                        number,
                        table.label(meta["response_id"]) if "response_id" in meta else "row",
                        f"respondent {shown} is also in row {earlier[0]}, with different answers",
                        shown,
                    )
                )
            else:
                plan.duplicates.append((number, earlier[0]))
            continue
        first_seen[response_id] = (number, digest)
        plan.rows.append(
            Row(
                number=number,
                response_id=response_id,
                source_id=source_id,
                site=site,
                school_class=school_class,
                language=language,
                submitted_at=submitted_at,
                answers=validated.answers,
                digest=digest,
            )
        )
    return plan
