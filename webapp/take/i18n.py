"""Interface translations: compile and check the Flask-Babel catalogues in webapp/translations.

The ``.po`` files are the source; the compiled ``.mo`` files are committed beside them so
the app runs without a build step. After editing a ``.po`` file run
``python -m webapp.take.i18n`` (or ``pybabel compile -d webapp/translations``).

The checks compare what a catalogue *says*, never its bytes, so a different Babel version
compiling the same ``.po`` file is not a difference:

- ``stale_catalogues`` names every ``.mo`` file whose messages differ from its ``.po``;
- ``untranslated`` names every message a respondent can see (the sources in
  ``RESPONDENT_SOURCES``) that a language leaves empty, marks fuzzy or lacks.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

__all__ = [
    "RESPONDENT_SOURCES",
    "TRANSLATIONS",
    "compile_catalogues",
    "compiled_bytes",
    "languages",
    "messages_of",
    "shown_messages",
    "stale_catalogues",
    "untranslated",
]

TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"
ROOT = TRANSLATIONS.parents[1]

#: The sources of every string a pupil, resident or teacher can see in their language: the
#: survey pages and what they are framed by (layout, errors, the privacy notice). Staff
#: pages in English only (admin, results, audit...) are not listed.
RESPONDENT_SOURCES: tuple[str, ...] = (
    "webapp/take/**.py",
    "webapp/templates/take/**.html",
    "webapp/templates/_privacy_notice_child.html",
    "webapp/templates/_error_summary.html",
    "webapp/templates/error.html",
)

Message = str | tuple[str, ...]


def _key(message_id: object) -> Message:
    return message_id if isinstance(message_id, str) else tuple(message_id)  # type: ignore[arg-type]


def languages(directory: Path = TRANSLATIONS) -> list[str]:
    """The languages with a catalogue, e.g. ``["pl", "tr", "ur"]``."""
    return sorted(p.parents[1].name for p in directory.glob("*/LC_MESSAGES/messages.po"))


def _read_po(po_file: Path) -> Catalog:
    with po_file.open("rb") as handle:
        return read_po(handle, locale=po_file.parents[1].name)


def messages_of(catalog: Catalog) -> dict[Message, object]:
    """What a catalogue translates: message id -> translation, for the translated, non-fuzzy
    messages gettext uses, whatever file format or compiler it came from. A "translation"
    that only repeats the English (some compilers write untranslated plurals that way) is
    the English fallback either way, and is left out."""
    translated: dict[Message, object] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        ids = {message.id} if isinstance(message.id, str) else set(message.id)
        string = message.string or ()
        strings = [string] if isinstance(string, str) else list(string)
        if any(strings) and not set(strings) <= ids:
            translated[_key(message.id)] = tuple(strings) if len(strings) > 1 else strings[0]
    return translated


def compiled_bytes(po_file: Path) -> bytes:
    """The ``.mo`` bytes a ``.po`` file compiles to (with the installed Babel)."""
    buffer = io.BytesIO()
    write_mo(buffer, _read_po(po_file), use_fuzzy=False)
    return buffer.getvalue()


def stale_catalogues(directory: Path = TRANSLATIONS) -> list[Path]:
    """The ``.mo`` files that are missing or translate differently from their ``.po``."""
    stale = []
    for po_file in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo_file = po_file.with_suffix(".mo")
        if not mo_file.exists():
            stale.append(mo_file)
            continue
        with mo_file.open("rb") as handle:
            compiled = messages_of(read_mo(handle))
        if compiled != messages_of(_read_po(po_file)):
            stale.append(mo_file)
    return stale


def compile_catalogues(directory: Path = TRANSLATIONS) -> list[Path]:
    """Compile every ``<lang>/LC_MESSAGES/messages.po`` whose ``.mo`` is stale; returns the
    ``.mo`` files written."""
    written = []
    for mo_file in stale_catalogues(directory):
        mo_file.write_bytes(compiled_bytes(mo_file.with_suffix(".po")))
        written.append(mo_file)
    return written


def shown_messages(sources: Iterable[str] = RESPONDENT_SOURCES) -> dict[str, list[str]]:
    """Every message id marked for translation in ``sources`` (globs below the project
    root) -> the files and lines it is used at."""
    method_map = [
        (pattern, "jinja2" if pattern.endswith(".html") else "python") for pattern in sources
    ]
    shown: dict[str, list[str]] = {}
    for filename, line, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map=method_map,
        keywords={"_": None, "_l": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None},
    ):
        message_id = message if isinstance(message, str) else message[0]
        shown.setdefault(message_id, []).append(f"{filename}:{line}")
    return shown


def untranslated(
    language: str, shown: Mapping[str, list[str]] | None = None, directory: Path = TRANSLATIONS
) -> dict[str, str]:
    """The messages a respondent can see that ``language`` does not translate: message id ->
    why (``missing``, ``empty`` or ``fuzzy``) and where it is used."""
    shown = shown_messages() if shown is None else shown
    catalog = _read_po(directory / language / "LC_MESSAGES" / "messages.po")
    entries = {(m.id if isinstance(m.id, str) else m.id[0]): m for m in catalog if m.id}
    problems = {}
    for message_id, places in sorted(shown.items()):
        entry = entries.get(message_id)
        if entry is None:
            why = "missing"
        elif entry.fuzzy:
            why = "fuzzy"
        elif not (any(entry.string) if isinstance(entry.string, tuple) else entry.string):
            why = "empty"
        else:
            continue
        problems[message_id] = f"{why} (used at {', '.join(places[:3])})"
    return problems


if __name__ == "__main__":
    for path in compile_catalogues():
        print(f"compiled {path}")
