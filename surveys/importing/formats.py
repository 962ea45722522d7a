"""The exports people have, turned into one :class:`~surveys.importing.tables.Table`.

- ``kobo``: KoboToolbox CSV (``;``-separated) or XLSX, XML names or labels as headers;
  ``group/question`` prefixes stripped; ``_uuid`` is the respondent id, ``_submission_time``
  the time; rows whose ``_validation_status`` is "not approved" are left out; the
  ``question/choice`` 0/1 columns of a select_multiple are used when its own column is absent.
- ``odk``: ODK Central's CSV zip: ``group-question`` headers, ``KEY`` (the instanceID) as the
  respondent id, ``SubmissionDate``; each repeat group's file (``Form-repeat.csv``) joined on
  ``PARENT_KEY``; rows whose ``ReviewState`` is "rejected" are left out.
- ``surveymonkey``: two header rows (question, then "Response" / "Open-Ended Response" / a
  choice or a statement); ``Respondent ID``, ``End Date``; a multiple-choice question's
  columns (one per choice) are combined.
- ``file``: one header row (a title or merged group headings above it are passed over),
  names or labels as headers; what paper questionnaires are typed into.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from surveys.importing.mapping import IGNORE, Matcher
from surveys.importing.tables import Grid, Table
from surveys.importing.values import normalise

__all__ = ["FORMATS", "detect_format", "to_table"]

FORMATS = ("kobo", "odk", "surveymonkey", "file")

_KOBO_MARKS = {"_uuid", "_submission_time", "_validation_status", "_submitted_by", "_index"}
_KOBO_META = {
    "_uuid": "response_id",
    "_submission_time": "submitted_at",
}
_KOBO_IGNORED = {
    "start", "end", "today", "deviceid", "username", "simserial", "subscriberid",
    "phonenumber", "audit", "__version__", "meta/instanceid", "formhub/uuid",
    "meta/rootuuid", "meta/deprecatedid", "meta/instancename",
}  # fmt: skip
_ODK_META = {"key": "response_id", "submissiondate": "submitted_at"}
_ODK_IGNORED = {
    "meta-instanceid", "submitterid", "submittername", "attachmentspresent",
    "attachmentsexpected", "status", "reviewstate", "deviceid", "edits", "formversion",
    "start", "end", "today", "username", "meta-instancename", "meta-deprecatedid",
    "parent_key", "isvalidated",
}  # fmt: skip
_SM_META = {"respondent id": "response_id", "end date": "submitted_at"}
_SM_IGNORED = {
    "collector id", "start date", "ip address", "email address", "first name", "last name",
    "custom data 1",
}  # fmt: skip
_SM_SINGLE = {"response", "open-ended response", ""}
_FALSE = {"", "0", "false", "no", "n/a"}


@dataclass
class _Column:
    name: str
    label: str
    sources: list[int] = field(default_factory=list)
    #: For a select_multiple built from one column per choice: the choice each source is.
    choices: list[str] = field(default_factory=list)


def detect_format(kind: str, grids: Sequence[Grid]) -> str:
    """The export a file is, from its kind and first rows."""
    if kind == "zip":
        return "odk"
    rows = grids[0].rows
    first = {normalise(c) for c in rows[0][1]}
    if {"respondent id", "collector id"} <= first:
        return "surveymonkey"
    if first & _KOBO_MARKS:
        return "kobo"
    if {"key", "submissiondate"} <= first:
        return "odk"
    return "file"


def _strip_groups(text: str, sep: str, matcher: Matcher) -> str:
    """The shortest group-less name that means something, else the last part."""
    parts = text.split(sep)
    for start in range(len(parts)):
        candidate = sep.join(parts[start:])
        if matcher.resolve(candidate) is not None:
            return candidate
    return parts[-1]


def _split_choice(text: str, seps: str, matcher: Matcher) -> tuple[str, str] | None:
    """(item, choice label) for a ``question/choice`` column of a select_multiple."""
    for sep in seps:
        if sep not in text:
            continue
        head, _, tail = text.rpartition(sep)
        item = matcher.item(_strip_groups(head, seps[0], matcher))
        if item is not None and item.type == "select_multiple":
            wanted = normalise(tail)
            for choice in item.choices:
                if wanted == normalise(choice.name) or wanted in map(
                    normalise, choice.labels.values()
                ):
                    return item.name, choice.name
    return None


def _columns(
    header: Sequence[str],
    matcher: Matcher,
    *,
    sep: str,
    meta: dict[str, str],
    ignored: set[str],
    table: Table,
) -> list[_Column]:
    columns: list[_Column] = []
    split: dict[str, _Column] = {}
    for index, raw in enumerate(header):
        key = normalise(raw)
        if matcher.mapped(raw) is not None:
            columns.append(_Column(raw, raw, [index]))
        elif key in meta:
            columns.append(_Column(meta[key], raw, [index]))
        elif key in ignored or (table.format == "kobo" and raw.startswith("_")):
            table.ignored.append(raw)
        elif (found := _split_choice(raw, sep, matcher)) is not None:
            item, choice = found
            column = split.setdefault(item, _Column(item, raw))
            column.sources.append(index)
            column.choices.append(choice)
        else:
            columns.append(_Column(_strip_groups(raw, sep, matcher), raw, [index]))
    present = {matcher.resolve(c.name) or c.name for c in columns}
    for item, column in split.items():
        if item in present:
            table.ignored.extend(header[i] for i in column.sources)
        else:
            columns.append(column)
    return columns


def _value(column: _Column, cells: Sequence[str]) -> str:
    if not column.choices:
        index = column.sources[0]
        return cells[index] if index < len(cells) else ""
    chosen = [
        choice
        for index, choice in zip(column.sources, column.choices, strict=True)
        if index < len(cells) and cells[index].strip().lower() not in _FALSE
    ]
    return ";".join(chosen)


def _fill(
    table: Table,
    columns: list[_Column],
    rows: Sequence[tuple[int, list[str]]],
    keep: Callable[[list[str]], str],
) -> None:
    table.header = tuple(c.name for c in columns)
    table.labels = tuple(c.label for c in columns)
    for number, cells in rows:
        reason = keep(cells)
        if reason:
            table.skipped.append((number, reason))
            continue
        table.rows.append((number, tuple(_value(c, cells) for c in columns)))


def _header_row(grid: Grid, matcher: Matcher) -> int:
    """Index (in grid.rows) of the row that names the columns: the one most names match."""
    best, best_score = 0, -1
    for position, (_, cells) in enumerate(grid.rows[:6]):
        score = sum(1 for c in cells if c and matcher.resolve(c) is not None)
        if score > best_score:
            best, best_score = position, score
    return best


def _plain(grid: Grid, table: Table, matcher: Matcher) -> None:
    start = _header_row(grid, matcher)
    if start:
        first, last = grid.rows[0][0], grid.rows[start - 1][0]
        span = f"row {first}" if first == last else f"rows {first}-{last}"
        table.notes.append(f"{span} above the column names passed over")
    header = list(grid.rows[start][1])
    while header and not header[-1]:
        header.pop()
    for index, name in enumerate(header):
        if not name:
            table.problems.append((grid.rows[start][0], str(index + 1), "the column has no name"))
    body = grid.rows[start + 1 :]
    width = len(header)
    for number, cells in body:
        if any(cells[width:]):
            table.problems.append(
                (number, str(width + 1), "the row has more cells than the header has columns")
            )
    columns = [_Column(name, name, [i]) for i, name in enumerate(header) if name]
    _fill(table, columns, body, lambda _cells: "")


def _kobo(grid: Grid, table: Table, matcher: Matcher) -> None:
    header = grid.rows[0][1]
    keys = [normalise(h) for h in header]
    meta = dict(_KOBO_META)
    if "_uuid" not in keys:
        meta["_id"] = "response_id"
    columns = _columns(header, matcher, sep="/", meta=meta, ignored=_KOBO_IGNORED, table=table)
    status = keys.index("_validation_status") if "_validation_status" in keys else None

    def keep(cells: list[str]) -> str:
        if status is None or status >= len(cells):
            return ""
        value = normalise(cells[status]).replace("validation_status_", "").replace("_", " ")
        return "marked 'not approved' in KoboToolbox" if value == "not approved" else ""

    _fill(table, columns, grid.rows[1:], keep)


def _odk(grids: Sequence[Grid], table: Table, matcher: Matcher) -> None:
    main = next((g for g in grids if "parent_key" not in map(normalise, g.rows[0][1])), grids[0])
    header = list(main.rows[0][1])
    keys = [normalise(h) for h in header]
    columns = _columns(header, matcher, sep="-", meta=_ODK_META, ignored=_ODK_IGNORED, table=table)
    key_at = keys.index("key") if "key" in keys else None
    review = keys.index("reviewstate") if "reviewstate" in keys else None
    rows = [(n, list(cells)) for n, cells in main.rows[1:]]
    for repeat in grids:
        if repeat is main:
            continue
        r_header = repeat.rows[0][1]
        r_keys = [normalise(h) for h in r_header]
        if "parent_key" not in r_keys or key_at is None:
            table.notes.append(
                f"{repeat.name}: not a repeat group's file (no PARENT_KEY); passed over"
            )
            continue
        parent = r_keys.index("parent_key")
        entries: dict[str, list[list[str]]] = {}
        for _, cells in repeat.rows[1:]:
            entries.setdefault(cells[parent] if parent < len(cells) else "", []).append(cells)
        r_columns = [
            c
            for c in _columns(
                r_header, matcher, sep="-", meta={}, ignored=_ODK_IGNORED, table=table
            )
            if c.name != "response_id" and normalise(c.label) != "key"
        ]
        offset = len(header)
        for column in r_columns:
            column.sources = [offset + i for i in column.sources]
            column.label = f"{repeat.name}: {column.label}"
        header.extend(r_header)
        columns.extend(r_columns)
        for number, cells in rows:
            cells.extend([""] * (offset - len(cells)))
            found = entries.get(cells[key_at] if key_at < len(cells) else "", [])
            if len(found) > 1 and any(matcher.item(c.name) for c in r_columns):
                table.problems.append(
                    (
                        number,
                        repeat.name,
                        f"the repeat group has {len(found)} entries for this submission;"
                        " the instrument takes one answer per question",
                    )
                )
            cells.extend(found[0] if found else [""] * len(r_header))

    def keep(cells: list[str]) -> str:
        if review is None or review >= len(cells):
            return ""
        return "rejected in ODK Central" if normalise(cells[review]) == "rejected" else ""

    _fill(table, columns, rows, keep)


def _surveymonkey(grid: Grid, table: Table, matcher: Matcher) -> None:
    top, sub = grid.rows[0][1], grid.rows[1][1] if len(grid.rows) > 1 else []
    columns: list[_Column] = []
    multi: dict[str, _Column] = {}
    question = ""
    for index, raw in enumerate(top):
        question = raw or question  # merged cells: the question spans its columns
        below = sub[index] if index < len(sub) else ""
        key = normalise(question)
        if matcher.mapped(question) is not None and normalise(below) in _SM_SINGLE:
            columns.append(_Column(question, question, [index]))
        elif key in _SM_META and raw:
            columns.append(_Column(_SM_META[key], raw, [index]))
        elif key in _SM_IGNORED and raw:
            table.ignored.append(raw)
        elif normalise(below) in _SM_SINGLE:
            columns.append(_Column(question, question, [index]))
        else:
            item = matcher.item(question)
            if item is not None and item.type == "select_multiple":
                if normalise(below).startswith("other (please specify)"):
                    table.ignored.append(f"{question} / {below}")
                    continue
                column = multi.get(item.name)
                if column is None:
                    column = multi[item.name] = _Column(item.name, question)
                    columns.append(column)
                column.sources.append(index)
                column.choices.append(below)
            elif matcher.resolve(below) is not None:
                columns.append(_Column(below, f"{question} / {below}", [index]))
            else:
                columns.append(_Column(f"{question} / {below}", f"{question} / {below}", [index]))
    _fill(table, columns, grid.rows[2:], lambda _cells: "")


def to_table(
    kind: str, grids: Sequence[Grid], *, source: str, matcher: Matcher, fmt: str | None = None
) -> Table:
    """Read ``grids`` as the export ``fmt`` (detected when None) into a :class:`Table`."""
    fmt = fmt or detect_format(kind, grids)
    table = Table(source=source, header=(), rows=[], format=fmt)
    if fmt == "kobo":
        _kobo(grids[0], table, matcher)
    elif fmt == "odk":
        _odk(grids, table, matcher)
    elif fmt == "surveymonkey":
        _surveymonkey(grids[0], table, matcher)
    else:
        _plain(grids[0], table, matcher)
    if len(grids) > 1 and fmt != "odk":
        table.notes.append(f"only the first sheet ('{grids[0].name}') is read")
    table.ignored = [c for c in table.ignored if matcher.mapped(c) != IGNORE]
    return table
