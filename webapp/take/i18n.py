"""Interface translations: compile the Flask-Babel catalogues in webapp/translations.

The ``.po`` files are the source; the compiled ``.mo`` files are committed beside them so
the app runs without a build step. After editing a ``.po`` file run
``python -m webapp.take.i18n`` (or ``pybabel compile -d webapp/translations``); a test
fails while a ``.mo`` file is out of date.
"""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

__all__ = ["TRANSLATIONS", "compile_catalogues", "compiled_bytes"]

TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"


def compiled_bytes(po_file: Path) -> bytes:
    """The ``.mo`` bytes a ``.po`` file compiles to."""
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=po_file.parents[1].name)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def compile_catalogues(directory: Path = TRANSLATIONS) -> list[Path]:
    """Compile every ``<lang>/LC_MESSAGES/messages.po``; returns the ``.mo`` files written."""
    written = []
    for po_file in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo_file = po_file.with_suffix(".mo")
        data = compiled_bytes(po_file)
        if not mo_file.exists() or mo_file.read_bytes() != data:
            mo_file.write_bytes(data)
            written.append(mo_file)
    return written


if __name__ == "__main__":
    for path in compile_catalogues():
        print(f"compiled {path}")
