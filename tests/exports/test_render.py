"""The pack renderer: the trimmed user-agent stylesheet changes speed, never the PDF."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import weasyprint
from pypdf import PdfReader
from sqlalchemy.orm import Session
from weasyprint import HTML

from exports.packs import build_contexts
from exports.render import PDF_OPTIONS, lean_ua_css, pack_html, renderer
from tests.exports.community import Built

UA_PATH = Path(weasyprint.__file__).parent / "css" / "html5_ua.css"

#: A page using everything the trimmed rules could touch: numbered and bulleted lists
#: (markers), a table, headings, an inline SVG.
SAMPLE = """<!doctype html><html lang="en-GB"><head><title>Sample</title></head><body>
<h2>Heading</h2><p>Some text with <strong>bold</strong> words.</p>
<ol><li>first</li><li>second</li></ol><ul><li>a bullet</li></ul>
<table><thead><tr><th scope="col">Question</th><th scope="col">Share</th></tr></thead>
<tbody><tr><th scope="row">How happy are you?</th><td>62%</td></tr></tbody></table>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" width="10" height="10">
<circle cx="5" cy="5" r="3"/></svg></body></html>"""


def test_the_installed_weasyprint_sheet_is_trimmed_as_expected() -> None:
    ua = UA_PATH.read_text(encoding="utf-8")
    lean = lean_ua_css(ua)
    assert "::footnote-call" in ua and "::footnote-call" not in lean
    assert "::note-callback" not in lean
    assert "li::marker, summary::marker {" in lean
    assert "\n::marker" not in lean
    # Nothing else changed: the trimmed sheet is the original minus those lines.
    removed = [line for line in ua.splitlines() if line not in lean.splitlines()]
    assert len(removed) == 6, removed


def test_a_changed_weasyprint_sheet_is_refused_loudly() -> None:
    with pytest.raises(RuntimeError, match=r"html5_ua\.css has changed"):
        lean_ua_css("p { margin: 1em 0 }\n::marker { white-space: pre }\n")


def _text_and_structure(pdf: bytes) -> tuple[list[str], int]:
    reader = PdfReader(io.BytesIO(pdf))
    return [page.extract_text() for page in reader.pages], len(reader.pages)


def _both(html: str) -> tuple[bytes, bytes]:
    lean = renderer().pdf_bytes(html)
    full = HTML(string=html).write_pdf(
        stylesheets=[renderer().stylesheet], font_config=renderer().font_config, **PDF_OPTIONS
    )
    return lean, full


def test_the_pdf_has_the_same_content_as_with_the_full_sheet() -> None:
    lean, full = _both(SAMPLE)
    assert _text_and_structure(lean) == _text_and_structure(full)
    text = _text_and_structure(lean)[0][0]
    assert "first" in text and "1. " in text and "2. " in text  # list markers still drawn
    assert "• " in text
    root = PdfReader(io.BytesIO(lean)).trailer["/Root"]
    assert "/StructTreeRoot" in root and str(root["/Lang"]) == "en-GB"


@pytest.mark.slow
def test_a_real_pack_is_the_same_with_the_trimmed_sheet(session: Session, built: Built) -> None:
    contexts, _ = build_contexts(session, built.wave, sites=["S02", "A1"])
    for context in contexts:
        lean, full = _both(pack_html(context))
        assert _text_and_structure(lean) == _text_and_structure(full), context["site"]
        assert abs(len(lean) - len(full)) < 0.01 * len(full)
