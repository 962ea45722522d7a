"""pyxform's JSON tree of a form, turned into placevoice items and groups.

The second half of :mod:`instruments.loader`: it walks the tree pyxform made of the
survey sheet, types each row, reads the placevoice analysis columns, and refuses what the
product cannot serve with a message naming the survey row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

from pyxform.xls2json_backends import DefinitionData

from instruments.errors import InstrumentError, Message
from instruments.model import DEFAULT_LANGUAGE, Choice, Group, Item, ItemType

__all__ = ["DEFAULT_LANGUAGE_NAME", "LANGUAGE_SUFFIX", "TreeBuilder", "language_code"]

_TYPES: dict[str, ItemType] = {
    "select one": "select_one",
    "select all that apply": "select_multiple",
    "integer": "integer",
    "int": "integer",
    "decimal": "decimal",
    "text": "text",
    "string": "text",
    "date": "date",
    "note": "note",
    "range": "range",
    "calculate": "calculate",
}

#: Metadata pyxform records automatically; placevoice keeps its own timestamps instead.
_TIMESTAMP_META = frozenset({"start", "end", "today"})

_PRIVACY = "placevoice never stores device, phone or personal identifiers with a response"
_UNSUPPORTED: dict[str, str] = {
    "repeat": "repeats are not supported; ask each question once, or use select_multiple",
    "geopoint": "locations are not collected; ask for a postcode (text) instead",
    "gps": "locations are not collected; ask for a postcode (text) instead",
    "geotrace": "locations are not collected; ask for a postcode (text) instead",
    "geoshape": "locations are not collected; ask for a postcode (text) instead",
    "photo": "photos, audio, video and files are not collected",
    "image": "photos, audio, video and files are not collected",
    "audio": "photos, audio, video and files are not collected",
    "background-audio": "photos, audio, video and files are not collected",
    "video": "photos, audio, video and files are not collected",
    "file": "photos, audio, video and files are not collected",
    "barcode": "barcodes are not collected",
    "deviceid": _PRIVACY,
    "uri:deviceid": _PRIVACY,
    "subscriberid": _PRIVACY,
    "simserial": _PRIVACY,
    "phonenumber": _PRIVACY,
    "phone number": _PRIVACY,
    "username": _PRIVACY,
    "email": _PRIVACY,
    "audit": _PRIVACY,
    "time": "use a date question; times of day are not supported",
    "datetime": "use a date question; times of day are not supported",
    "dateTime": "use a date question; times of day are not supported",
    "acknowledge": "use select_one with a single choice instead",
    "trigger": "use select_one with a single choice instead",
    "rank": "ranking questions are not supported; use select_one per rank",
    "hidden": "hidden questions are not supported; use calculate",
}

#: Choice-sheet columns with a meaning of their own; the rest become Choice.attributes.
_CHOICE_COLUMNS = frozenset({"name", "label", "score", "missing", "media", "image", "audio"})

LANGUAGE_SUFFIX = re.compile(r"\(([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\)\s*$")
_PARENT_REF = re.compile(r"\.\./([A-Za-z_][\w.-]*)")
_YES = frozenset({"yes", "true", "true()", "1"})
_NO = frozenset({"", "no", "false", "false()", "0"})

#: What pyxform calls the language of unprefixed ``label`` columns.
DEFAULT_LANGUAGE_NAME = "default"


def _survey_rows(workbook: DefinitionData) -> tuple[dict[str, int], dict[str, str]]:
    """Each survey-sheet name's row number as a spreadsheet shows it, and its type cell."""
    rows: dict[str, int] = {}
    types: dict[str, str] = {}
    for index, row in enumerate(workbook.survey or ()):
        name = str(_cell(row, "name")).strip()
        if name and name not in rows:
            rows[name] = index + 2
            types[name] = " ".join(str(_cell(row, "type")).split())
    return rows, types


def _cell(row: Mapping[str, Any], column: str) -> Any:
    """A cell by column name, ignoring the header's case (pyxform accepts "Name")."""
    if column in row:
        return row[column] or ""
    for key, value in row.items():
        if str(key).strip().lower() == column:
            return value or ""
    return ""


def language_code(language_name: str) -> str:
    """The language code in a pyxform language name: "English (en)" -> "en"."""
    match = LANGUAGE_SUFFIX.search(language_name)
    if match:
        return match.group(1).lower()
    return language_name.strip().lower() or DEFAULT_LANGUAGE


class TreeBuilder:
    """Collects an instrument's items and groups from pyxform's tree (:meth:`walk`)."""

    def __init__(
        self,
        source: str,
        workbook: DefinitionData,
        languages: Mapping[str, str],
        default: str,
    ) -> None:
        self.source = source
        #: name -> survey row number, and name -> the type cell as written (to tell
        #: "select_one x or_other" from a plain select).
        self.rows, self.raw_types = _survey_rows(workbook)
        self.languages = languages
        self.default = default
        self.items: list[Item] = []
        self.groups: list[Group] = []

    def texts(self, value: object) -> dict[str, str]:
        if value is None or value == "":
            return {}
        if isinstance(value, dict):
            out: dict[str, str] = {}
            for lang, text in value.items():
                if text in (None, ""):
                    continue
                code = self.default if lang == DEFAULT_LANGUAGE_NAME else language_code(str(lang))
                out.setdefault(code, str(text))
            return out
        return {self.default: str(value)}

    def walk(self, children: list[dict[str, Any]], parents: tuple[str, ...]) -> None:
        for node in children:
            kind = str(node.get("type", ""))
            name = str(node.get("name", ""))
            row = self.rows.get(name, 0)
            control = node.get("control") or {}
            if kind == "group":
                if control.get("bodyless"):
                    continue  # pyxform's own meta/instanceID block
                bind = node.get("bind") or {}
                self.groups.append(
                    Group(
                        name=name,
                        row=row,
                        labels=self.texts(node.get("label")),
                        relevant=_refs(str(bind.get("relevant", ""))),
                        appearance=str(control.get("appearance", "")),
                        parents=parents,
                    )
                )
                self.walk(node.get("children", []), (*parents, name))
                continue
            if kind in _TIMESTAMP_META:
                continue  # placevoice records started_at / submitted_at for every response
            item_type = _TYPES.get(kind)
            if item_type is None:
                why = _UNSUPPORTED.get(kind, "this question type is not one placevoice serves")
                raise InstrumentError(
                    Message.UNSUPPORTED_TYPE,
                    source=self.source,
                    row=row or "?",
                    type=kind,
                    name=name,
                    why=why,
                )
            self.items.append(self.item(node, item_type, name, row, parents))

    def flag(self, node: Mapping[str, Any], column: str, default: bool, row: int) -> bool:
        raw = str(node.get(column, "")).strip().lower()
        if not raw:
            return default
        if raw in _YES:
            return True
        if raw in _NO:
            return False
        raise InstrumentError(
            Message.BAD_FLAG, source=self.source, row=row, column=column, value=raw
        )

    def code_place(
        self, node: Mapping[str, Any], name: str, item_type: ItemType, row: int, required: bool
    ) -> int:
        """The ``sgic`` column: this question's place in the identification code, or 0."""
        raw = str(node.get("sgic", "")).strip()
        if not raw or raw.lower() in _NO:
            return 0
        if not raw.isdigit() or int(raw) < 1:
            raise InstrumentError(
                Message.BAD_SGIC, source=self.source, row=row, name=name, value=raw
            )
        place = int(raw)
        if item_type not in ("text", "integer", "select_one") or required:
            raise InstrumentError(
                Message.SGIC_TYPE,
                source=self.source,
                row=row,
                name=name,
                type=item_type,
                required=" required" if required else "",
            )
        other = next((i.name for i in self.items if i.sgic == place), None)
        if other is not None:
            raise InstrumentError(
                Message.SGIC_DUPLICATE,
                source=self.source,
                row=row,
                name=name,
                value=place,
                other=other,
            )
        return place

    def item(
        self,
        node: Mapping[str, Any],
        item_type: ItemType,
        name: str,
        row: int,
        parents: tuple[str, ...],
    ) -> Item:
        bind = cast(Mapping[str, Any], node.get("bind") or {})
        control = cast(Mapping[str, Any], node.get("control") or {})
        params = cast(Mapping[str, Any], node.get("parameters") or {})
        list_name = str(node.get("list_name") or node.get("itemset") or "")
        choices = tuple(self.choice(c, list_name) for c in node.get("choices") or ())
        names = {c.name for c in choices}
        positive = frozenset(str(node.get("positive", "")).split())
        if positive and item_type not in ("select_one", "select_multiple"):
            raise InstrumentError(
                Message.POSITIVE_NOT_SELECT, source=self.source, row=row, name=name, type=item_type
            )
        for choice in sorted(positive - names):
            raise InstrumentError(
                Message.UNKNOWN_POSITIVE,
                source=self.source,
                row=row,
                choice=choice,
                list_name=list_name,
                name=name,
            )
        start, end, step = 1.0, 10.0, 1.0  # ODK's defaults
        if item_type == "range":
            try:
                start = float(params.get("start", 1))
                end = float(params.get("end", 10))
                step = float(params.get("step", 1))
            except ValueError as err:
                raise InstrumentError(
                    Message.BAD_RANGE, source=self.source, row=row, name=name, detail=str(err)
                ) from err
            if step <= 0 or end == start:
                raise InstrumentError(
                    Message.BAD_RANGE,
                    source=self.source,
                    row=row,
                    name=name,
                    detail="step must be above 0 and end must differ from start",
                )
        required_raw = str(bind.get("required", "")).strip().lower()
        item = Item(
            name=name,
            type=item_type,
            row=row,
            labels=self.texts(node.get("label")),
            hints=self.texts(node.get("hint")),
            choices=choices,
            list_name=list_name,
            or_other=self.raw_types.get(name, "").endswith("or_other"),
            required=required_raw in _YES,
            required_messages=self.texts(bind.get("jr:requiredMsg")),
            relevant=_refs(str(bind.get("relevant", ""))),
            constraint=_refs(str(bind.get("constraint", ""))),
            constraint_messages=self.texts(bind.get("jr:constraintMsg")),
            calculation=_refs(str(bind.get("calculate", ""))),
            choice_filter=_refs(str(node.get("choice_filter", ""))),
            appearance=str(control.get("appearance", "")),
            default=str(node.get("default", "")),
            groups=parents,
            range_start=start,
            range_end=end,
            range_step=step,
            domain=str(node.get("domain", "")).strip(),
            scale=str(node.get("scale", "")).strip(),
            positive=positive,
            reverse=self.flag(node, "reverse", False, row),
            report=self.flag(node, "report", True, row),
            source=str(node.get("source", "")).strip(),
            sgic=self.code_place(node, name, item_type, row, required_raw in _YES),
        )
        self.check_expressions(item)
        return item

    def choice(self, node: Mapping[str, Any], list_name: str) -> Choice:
        name = str(node.get("name", ""))
        raw_score = node.get("score")
        score: float | None = None
        if raw_score not in (None, ""):
            try:
                score = float(str(raw_score))
            except ValueError as err:
                raise InstrumentError(
                    Message.BAD_SCORE,
                    source=self.source,
                    row="?",
                    value=raw_score,
                    choice=name,
                    list_name=list_name,
                ) from err
        missing = str(node.get("missing", "")).strip().lower() in _YES
        attributes = {
            str(key): str(value)
            for key, value in node.items()
            if key not in _CHOICE_COLUMNS and isinstance(value, str | int | float)
        }
        return Choice(
            name=name,
            labels=self.texts(node.get("label")),
            score=score,
            missing=missing,
            attributes=attributes,
        )

    def check_expressions(self, item: Item) -> None:
        from instruments.expressions import ExpressionError, compile_expression

        known = {i.name for i in self.items} | {item.name}
        for column, text in (
            ("relevant", item.relevant),
            ("constraint", item.constraint),
            ("calculation", item.calculation),
            ("choice_filter", item.choice_filter),
        ):
            if not text:
                continue
            try:
                expr = compile_expression(text)
            except ExpressionError as err:
                raise InstrumentError(
                    Message.BAD_EXPRESSION,
                    source=self.source,
                    row=item.row,
                    column=column,
                    name=item.name,
                    detail=str(err),
                ) from err
            for ref in sorted(expr.references):
                if ref not in known and ref not in self.rows:
                    raise InstrumentError(
                        Message.UNKNOWN_REFERENCE,
                        source=self.source,
                        row=item.row,
                        column=column,
                        name=item.name,
                        ref=ref,
                    )


def _refs(expression: str) -> str:
    """Turn pyxform's generated ``../name`` paths back into ``${name}`` references."""
    return _PARENT_REF.sub(lambda m: "${" + m.group(1) + "}", expression.strip())
