"""Read an XLSForm (.xlsx, .xls, .csv or markdown table) into an :class:`Instrument`.

pyxform does the reading and the XLSForm rules; this module turns its output into typed
objects, checks the placevoice analysis columns, and rejects what the product cannot
serve with a message that names the survey row.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from pyxform.errors import PyXFormError
from pyxform.xls2json import workbook_to_json
from pyxform.xls2json_backends import DefinitionData, get_xlsform

from instruments._tree import DEFAULT_LANGUAGE_NAME, LANGUAGE_SUFFIX, TreeBuilder, language_code
from instruments.errors import InstrumentError, Message
from instruments.model import DEFAULT_LANGUAGE, Instrument, Item

__all__ = ["SUPPORTED_FORMATS", "ValidationResult", "load_instrument", "validate_file"]

SUPPORTED_FORMATS = (".xlsx", ".xls", ".csv", ".md")


_FORM_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,79}$")


@dataclass(frozen=True)
class ValidationResult:
    """What ``placevoice instruments validate`` reports for one file."""

    path: str
    instrument: Instrument | None
    error: str = ""

    @property
    def ok(self) -> bool:
        """Whether the file can be used."""
        return self.instrument is not None


def validate_file(path: str | Path) -> ValidationResult:
    """Load ``path`` and report the instrument or the error, never raising for bad files."""
    try:
        return ValidationResult(str(path), load_instrument(path))
    except InstrumentError as err:
        return ValidationResult(str(path), None, str(err))


def load_instrument(
    source: str | Path | bytes,
    *,
    file_type: str | None = None,
    name: str = "",
) -> Instrument:
    """Read an XLSForm into an :class:`Instrument`.

    Parameters
    ----------
    source
        A path, or the file's bytes (then give ``file_type``, e.g. ``".xlsx"``; markdown
        and CSV text are recognised without it).
    file_type
        One of :data:`SUPPORTED_FORMATS`; taken from the path's suffix when omitted.
    name
        What error messages call the file; defaults to the path's name.

    Raises
    ------
    InstrumentError
        When the file cannot be read, breaks an XLSForm rule, uses a construct placevoice
        does not serve, or has bad analysis columns. The message names the row.
    """
    if isinstance(source, bytes):
        data = source
        label = name or "uploaded form"
    else:
        path = Path(source)
        label = name or path.name
        if file_type is None:
            file_type = path.suffix.lower()
        try:
            data = path.read_bytes()
        except OSError as err:
            raise InstrumentError(Message.UNREADABLE, source=label, detail=err.strerror) from err
    if file_type is not None and file_type not in SUPPORTED_FORMATS:
        raise InstrumentError(
            Message.UNREADABLE,
            source=label,
            detail=f"'{file_type}' files are not XLSForms; use one of "
            + ", ".join(SUPPORTED_FORMATS),
        )
    try:
        with warnings.catch_warnings():
            # openpyxl notes Excel extensions it skips (data validation etc.): not our concern.
            warnings.simplefilter("ignore", UserWarning)
            workbook = get_xlsform(BytesIO(data), file_type=file_type)
    except PyXFormError as err:
        raise InstrumentError(Message.UNREADABLE, source=label, detail=_pyxform_text(err)) from err
    except Exception as err:
        raise InstrumentError(
            Message.UNREADABLE, source=label, detail=f"{type(err).__name__}: {err}"
        ) from err
    return _build(workbook, data, file_type or _sniff(data), label)


def _sniff(data: bytes) -> str:
    head = data[:4]
    if head.startswith(b"PK"):
        return ".xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return ".xls"
    return ".md" if data.lstrip().startswith(b"|") else ".csv"


def _pyxform_text(err: Exception) -> str:
    text = str(err).strip()
    if text.startswith("Duplicate column header"):
        column = text.split(":", 1)[-1].strip()
        return (
            f"row 1 (the column headers) of a sheet has the column '{column}' twice;"
            " delete or rename one of them"
        )
    return text


def _build(workbook: DefinitionData, data: bytes, fmt: str, label: str) -> Instrument:
    notes: list[str] = []
    settings = dict(workbook.settings[0]) if workbook.settings else {}
    try:
        tree = workbook_to_json(
            workbook_dict=workbook,
            form_name="data",
            fallback_form_name=label.rsplit(".", 1)[0],
            default_language=DEFAULT_LANGUAGE_NAME,
            warnings=notes,
        )
    except PyXFormError as err:
        raise InstrumentError(Message.PYXFORM, source=label, detail=_pyxform_text(err)) from err
    except Exception as err:
        raise InstrumentError(
            Message.PYXFORM, source=label, detail=f"{type(err).__name__}: {err}"
        ) from err
    form_id = str(settings.get("form_id") or tree.get("id_string") or "").strip()
    if not form_id:
        raise InstrumentError(Message.NO_FORM_ID, source=label)
    if not _FORM_ID.match(form_id):
        raise InstrumentError(Message.BAD_FORM_ID, source=label, form_id=form_id)
    languages = _languages(tree)
    default_name = str(tree.get("default_language") or "default")
    default = language_code(default_name) if default_name != "default" else ""
    if not default:
        default = next(iter(languages), DEFAULT_LANGUAGE)
    builder = TreeBuilder(label, workbook, languages, default)
    builder.walk(tree.get("children", []), ())
    draft = {
        language_code(part.strip())
        for part in str(settings.get("draft_languages") or "").split(",")
        if part.strip()
    }
    title = str(tree.get("title") or form_id)
    titles = {default: title}
    for key, value in settings.items():  # title_pl: the title in Polish (pyxform ignores it)
        match = _TITLE_COLUMN.fullmatch(str(key).strip())
        if match and str(value or "").strip():
            titles[match.group(1)] = str(value).strip()
    minutes = _minutes(settings.get("estimated_minutes"), label)
    notes.extend(_untranslated(builder.items, languages, default, titles))
    return Instrument(
        id=form_id,
        version=str(tree.get("version") or settings.get("version") or "1"),
        titles=titles,
        minutes=minutes,
        default_language=default,
        languages=languages or {default: default},
        items=tuple(builder.items),
        groups=tuple(builder.groups),
        draft_languages=frozenset(draft),
        source_bytes=data,
        source_format=fmt,
        warnings=tuple(notes),
    )


#: A settings column with the form title in one language: ``title_pl``, ``title_pt-BR``.
_TITLE_COLUMN = re.compile(r"title_([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)")


def _minutes(value: Any, label: str) -> int | None:
    """The settings sheet's ``estimated_minutes`` (a whole number), if given."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        minutes = int(float(text))
    except ValueError:
        minutes = 0
    if minutes < 1:
        raise InstrumentError(
            Message.PYXFORM,
            source=label,
            detail=f"settings sheet, column estimated_minutes: '{text}' is not a number of minutes",
        )
    return minutes


def _untranslated(
    items: Sequence[Item], languages: Mapping[str, str], default: str, titles: Mapping[str, str]
) -> list[str]:
    """A warning for each text missing in a language the form declares."""
    notes = []
    for code, name in languages.items():
        if code == default:
            continue
        if code not in titles:
            notes.append(
                f"settings sheet: no title_{code} column ({name}); the title shows in {default}"
            )
        for item in items:
            if item.labels and code not in item.labels:
                notes.append(
                    f"survey row {item.row}: '{item.name}' has no label in {name} ({code})"
                )
            notes.extend(
                f"survey row {item.row}: choice '{choice.name}' of '{item.name}' has no"
                f" label in {name} ({code})"
                for choice in item.choices
                if choice.labels and code not in choice.labels
            )
    return notes


def _languages(tree: Mapping[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}

    def visit(node: Mapping[str, Any]) -> None:
        for key in ("label", "hint"):
            value = node.get(key)
            if isinstance(value, dict):
                for lang in value:
                    if lang != DEFAULT_LANGUAGE_NAME:
                        found.setdefault(
                            language_code(lang), LANGUAGE_SUFFIX.sub("", lang).strip() or lang
                        )
        for child in node.get("children", ()):
            visit(child)

    visit(tree)
    return found
