"""Which column answers which question: by name, by label, or by a mapping file.

A mapping file is YAML::

    columns:
      "Q3. How safe do you feel at school?": safe_school
      School: site
      Serial no.: response_id
      Interviewer notes: ignore
    values:
      safe_school: {"1": very_safe, "2": quite_safe, "3": not_very_safe, "4": not_safe}

or a CSV with the columns ``column, question`` (one row per column; ``ignore`` to leave a
column out). ``values`` (YAML only) maps the codes a sheet uses to choice names.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from instruments import Instrument, Item
from surveys.errors import ServiceError, ServiceMessage
from surveys.importing.tables import decode
from surveys.importing.values import normalise

__all__ = ["IGNORE", "META_COLUMNS", "ColumnMapping", "Matcher", "read_mapping"]

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
#: What a mapping file gives for a column to leave out.
IGNORE = "ignore"

#: Other names people and tools give the meta columns.
_META_SYNONYMS: dict[str, str] = {
    "site_id": "site",
    "school": "site",
    "school id": "site",
    "school name": "site",
    "area": "site",
    "respondent id": "response_id",
    "respondent_id": "response_id",
    "serial": "response_id",
    "serial no": "response_id",
    "serial no.": "response_id",
    "serial number": "response_id",
    "questionnaire number": "response_id",
    "class name": "class",
    "form group": "class",
    "date": "submitted_at",
    "date completed": "submitted_at",
    "post code": "postcode",
}


@dataclass(frozen=True)
class ColumnMapping:
    """A mapping file: column -> question (or meta column, or ``ignore``), value codes."""

    columns: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def _problem(source: str, detail: str) -> ServiceError:
    return ServiceError(ServiceMessage.CSV_UNREADABLE, source=source, detail=detail)


def read_mapping(data: bytes, *, source: str) -> ColumnMapping:
    """Read a YAML or CSV mapping file (see the module docstring)."""
    text = decode(data)
    if source.lower().endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text))
        fields = [(f or "").strip().lower() for f in reader.fieldnames or []]
        if "column" not in fields or "question" not in fields:
            raise ServiceError(ServiceMessage.CSV_HEADER, source=source, columns="column, question")
        columns: dict[str, str] = {}
        for raw in reader:
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
            if row.get("column"):
                columns[row["column"]] = row.get("question", "") or IGNORE
        return ColumnMapping(columns=columns)
    import yaml

    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise _problem(source, f"it is not YAML: {err}") from err
    if not isinstance(loaded, dict):
        raise _problem(source, "it needs a 'columns:' section")
    unknown = set(loaded) - {"columns", "values"}
    if unknown:
        raise _problem(source, f"unknown section(s) {', '.join(sorted(map(str, unknown)))}")
    raw_columns = loaded.get("columns") or {}
    raw_values = loaded.get("values") or {}
    if not isinstance(raw_columns, dict) or not isinstance(raw_values, dict):
        raise _problem(source, "'columns' and 'values' must be mappings")
    values: dict[str, dict[str, str]] = {}
    for item, codes in raw_values.items():
        if not isinstance(codes, dict):
            raise _problem(source, f"values of '{item}' must map codes to choice names")
        values[str(item)] = {str(k).strip(): str(v).strip() for k, v in codes.items()}
    return ColumnMapping(
        columns={
            str(k).strip(): (str(v).strip() if v is not None else IGNORE)
            for k, v in raw_columns.items()
        },
        values=values,
    )


def _label_key(text: str) -> str:
    """A label compared loosely, without a leading question number or trailing colon."""
    key = normalise(text)
    key = re.sub(r"^(?:q\s*)?\d+[a-z]?\s*[.):-]\s*", "", key)
    return key.rstrip(" :?*")


class Matcher:
    """Resolves column names to items or meta columns for one instrument."""

    def __init__(self, instrument: Instrument, mapping: ColumnMapping | None = None) -> None:
        self.instrument = instrument
        self.mapping = mapping or ColumnMapping()
        self._mapped = {normalise(k): v for k, v in self.mapping.columns.items()}
        self._names: dict[str, str] = {}
        self._labels: dict[str, str] = {}
        for item in instrument.answerable_items:
            self._names[item.name.casefold()] = item.name
            for label in item.labels.values():
                self._labels.setdefault(_label_key(label), item.name)

    def mapped(self, text: str) -> str | None:
        """What the mapping file gives for this column (a question, meta name or ignore)."""
        return self._mapped.get(normalise(text))

    def item(self, text: str) -> Item | None:
        """The question a column answers, by exact name, name in any case, or label."""
        name = text.strip()
        if self.instrument.has_item(name) and self.instrument.item(name).answerable:
            return self.instrument.item(name)
        found = self._names.get(name.casefold()) or self._labels.get(_label_key(name))
        return self.instrument.item(found) if found else None

    def meta(self, text: str) -> str | None:
        """The meta column a column is, by name or a common synonym."""
        key = normalise(text).replace("-", "_")
        if key in META_COLUMNS:
            return key
        return _META_SYNONYMS.get(normalise(text))

    def resolve(self, text: str) -> str | None:
        """Item name, meta column, ``ignore``, or None when nothing matches.

        A question whose name is also a meta column (``year_group``, ``gender``,
        ``postcode``) resolves to the question; the import reads both from it.
        """
        mapped = self.mapped(text)
        if mapped is not None:
            return mapped
        item = self.item(text)
        if item is not None:
            return item.name
        return self.meta(text)
