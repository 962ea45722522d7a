"""The interface catalogues: compiled files match their sources by meaning (not bytes), and
every string a respondent can see is translated in every language."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

from webapp.take import i18n


def _catalogue(tmp_path: Path, lang: str, messages: list[tuple[object, object, bool]]) -> Path:
    catalog = Catalog(locale=lang)
    for message_id, string, fuzzy in messages:
        catalog.add(message_id, string, flags=("fuzzy",) if fuzzy else ())  # type: ignore[arg-type]
    po_file = tmp_path / lang / "LC_MESSAGES" / "messages.po"
    po_file.parent.mkdir(parents=True)
    with po_file.open("wb") as handle:
        write_po(handle, catalog)
    return po_file


def test_compiled_catalogues_match_their_sources() -> None:
    assert set(i18n.languages()) >= {"pl", "tr", "ur"}
    assert i18n.stale_catalogues() == [], "run python -m webapp.take.i18n"


def test_an_edited_source_makes_its_compiled_catalogue_stale(tmp_path: Path) -> None:
    po_file = _catalogue(tmp_path, "pl", [("Next", "Dalej", False)])
    assert i18n.compile_catalogues(tmp_path) == [po_file.with_suffix(".mo")]
    assert i18n.stale_catalogues(tmp_path) == []
    po_file.write_text(po_file.read_text().replace("Dalej", "Dalej!"))
    assert i18n.stale_catalogues(tmp_path) == [po_file.with_suffix(".mo")]
    i18n.compile_catalogues(tmp_path)
    assert i18n.stale_catalogues(tmp_path) == []


def test_a_catalogue_compiled_differently_but_saying_the_same_is_not_stale(tmp_path: Path) -> None:
    """Compilers differ in bytes and in how they write an untranslated plural (some write
    the English as its translation): neither changes what the catalogue says."""
    plural = ("%(num)d entry", "%(num)d entries")
    po_file = _catalogue(
        tmp_path,
        "pl",
        [("Next", "Dalej", False), (plural, ("", "", ""), False), ("Back", "Wstecz", True)],
    )
    other = Catalog(locale="pl", project="another compiler", version="9")
    other.add("Next", "Dalej")
    other.add(plural, (plural[0], plural[1], plural[1]))
    buffer = io.BytesIO()
    write_mo(buffer, other)
    po_file.with_suffix(".mo").write_bytes(buffer.getvalue())
    assert buffer.getvalue() != i18n.compiled_bytes(po_file)
    assert i18n.stale_catalogues(tmp_path) == []


def test_untranslated_names_missing_empty_and_fuzzy_messages(tmp_path: Path) -> None:
    _catalogue(
        tmp_path, "tr", [("Next", "İleri", False), ("Back", "", False), ("Skip", "Atla", True)]
    )
    shown = {"Next": ["a.html:1"], "Back": ["a.html:2"], "Skip": ["b.py:3"], "Send": ["c.html:4"]}
    problems = i18n.untranslated("tr", shown, tmp_path)
    assert set(problems) == {"Back", "Skip", "Send"}
    assert problems["Back"].startswith("empty (used at a.html:2")
    assert problems["Skip"].startswith("fuzzy (used at b.py:3")
    assert problems["Send"].startswith("missing (used at c.html:4")


def test_shown_messages_come_from_the_respondent_pages() -> None:
    shown = i18n.shown_messages()
    assert "Next" in shown or any("take/" in place for places in shown.values() for place in places)
    assert all(
        place.startswith(("webapp/take/", "webapp/templates/"))
        for places in shown.values()
        for place in places
    )
    assert not any("templates/audit/" in place for places in shown.values() for place in places)


def test_the_translation_tools_run_from_a_copy(tmp_path: Path) -> None:
    copy = tmp_path / "translations"
    shutil.copytree(i18n.TRANSLATIONS, copy)
    for mo_file in copy.glob("*/LC_MESSAGES/messages.mo"):
        mo_file.unlink()
    assert len(i18n.compile_catalogues(copy)) == len(i18n.languages())
    assert i18n.stale_catalogues(copy) == []


def test_an_unknown_interface_language_in_the_address_means_english(client: object) -> None:
    for lang in ("0", "xx_YY", "<script>", "pl_PL_x", ""):
        response = client.get(f"/?lang={lang}")  # type: ignore[attr-defined]
        assert response.status_code == 200, lang
        assert '<html lang="en"' in response.get_data(as_text=True)
    assert '<html lang="pl"' in client.get("/start?lang=pl").get_data(as_text=True)  # type: ignore[attr-defined]
