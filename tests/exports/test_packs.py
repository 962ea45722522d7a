"""Feedback packs: contents, suppression, PDF structure, batch behaviour."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from analysis.suppression import SUPPRESSED_MARKER
from exports import packs as packs_module
from exports.dataset import ExportError
from exports.packdata.cells import is_hidden
from exports.packs import build_contexts, generate_packs, pack_filename
from exports.render import pack_html
from tests.exports.community import Built
from tests.exports.conftest import HIDDEN_VALUE

#: Every test here builds a community and analyses a wave (1-10 s each).
pytestmark = pytest.mark.slow


def _walk(value: Any):
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def _pdf_text(path: Path) -> tuple[PdfReader, list[str]]:
    reader = PdfReader(path)
    return reader, [page.extract_text() or "" for page in reader.pages]


def test_suppressed_rows_carry_no_figures(session: Session, built: Built) -> None:
    contexts, _ = build_contexts(session, built.wave)
    hidden = 0
    for context in contexts:
        for row in _walk(context["domains"]):
            if row.get("suppressed") is True:
                hidden += 1
                assert row["chart"] is None
                for key in ("n", "pct", "ci", "benchmark", "diff"):
                    assert row[key] in (SUPPRESSED_MARKER, ""), (key, row)
    breakdown_cells = [
        cell
        for context in contexts
        for domain in context["domains"]
        for table in domain["breakdowns"]
        for row in table["rows"]
        for cell in row["cells"]
    ]
    assert SUPPRESSED_MARKER in breakdown_cells  # small year groups are hidden
    assert all(is_hidden(cell) or re.fullmatch(r"\d+%|", cell) for cell in breakdown_cells)
    assert hidden >= 0


def test_small_schools_get_a_short_pack_and_small_areas_a_note(
    session: Session, built: Built
) -> None:
    contexts, notes = build_contexts(session, built.wave)
    packed = {c["site"]: c for c in contexts}
    assert {"S01", "S02", "S03", "S04", "S05", "A1", "A2", "community"} == set(packed)
    assert packed["S05"]["short"] and not packed["S01"]["short"]
    assert packed["S05"]["domains"] and all(
        d["breakdowns"] == [] and d["scales"] == [] for d in packed["S05"]["domains"]
    )
    assert packed["S05"]["previous_wave"] is None and packed["S05"]["themes"]["rows"] == []
    assert {(n["site"], n["responses"], bool(n.get("short"))) for n in notes} == {
        ("S05", 12, True),
        ("A3", 8, False),
    }


def test_figures_match_an_independent_count(session: Session, built: Built) -> None:
    from exports.dataset import find_wave, load_instrument_data

    contexts, _ = build_contexts(session, built.wave, sites=["S01"])
    (context,) = contexts
    frame = load_instrument_data(session, find_wave(session, built.wave), "pupil_perception").frame
    mine = frame[frame["site"] == "S01"]["safe_school"].astype(object).dropna()
    pct = 100 * mine.isin(["very_safe", "quite_safe"]).mean()
    others = frame[frame["site"] != "S01"]["safe_school"].astype(object).dropna()
    bench = 100 * others.isin(["very_safe", "quite_safe"]).mean()
    safety = next(d for d in context["domains"] if d["key"] == "safety")
    row = next(r for r in safety["items"] if r["item"] == "safe_school")
    assert row["pct"] == f"{pct:.0f}%"
    assert row["benchmark"] == f"{bench:.0f}%"
    assert row["n"] == str(len(mine))
    # S01 was built much safer than the others: the headline says so.
    assert row["flag"] == "higher"
    assert any(r["item"] == "safe_school" for r in context["headlines"]["strong"])


def test_response_rate_uses_site_population(session: Session, built: Built) -> None:
    contexts, _ = build_contexts(session, built.wave, sites=["S02"])
    assert contexts[0]["response_rate"] == f"{100 * 90 / (int(90 * 1.3) + 5):.0f}%"


def test_unknown_site_is_a_clear_error(session: Session, built: Built) -> None:
    with pytest.raises(ExportError, match="ZZZ"):
        build_contexts(session, built.wave, sites=["ZZZ"])


def test_html_has_title_language_and_every_domain(session: Session, built: Built) -> None:
    contexts, _ = build_contexts(session, built.wave, sites=["S02"])
    html = pack_html(contexts[0])
    assert '<html lang="en-GB">' in html
    assert "<title>Hillcrest Academy: feedback pack, Spring 2027</title>" in html
    for title in ("Wellbeing", "Feeling safe", "Bullying", "What pupils said", "Method and notes"):
        assert title in html
    assert "style=" not in html.replace("stroke-dasharray", "")  # no inline styles needed


def test_pack_filename_is_deterministic() -> None:
    assert pack_filename("Spring 2027", "S04") == "spring-2027-S04.pdf"
    assert pack_filename("Spring 2027 (pupils)", "A/1") == "spring-2027-pupils-A-1.pdf"


def test_school_pack_pdf(tmp_path: Path, designed: dict[str, Any], db_url: str) -> None:
    result = generate_packs(
        db_url=db_url, wave=designed["wave"], out_dir=tmp_path, jobs=1, sites=[designed["site"]]
    )
    assert result.ok and [p.name for p in result.written] == ["autumn-2027-ASH.pdf"]
    reader, pages = _pdf_text(result.written[0])
    text = "\n".join(pages)
    # The school's name on every page (running header) and its figures.
    assert all(designed["name"] in page for page in pages)
    assert re.search(r"Page 1 of \d+", pages[0])
    assert "40" in pages[0]  # responses on the cover
    assert "80%" in pages[0]  # response rate 40 / 50
    assert "52%" in text and "50%" in text  # 21 of 40 here, 20 of 40 at Birch
    # The hidden cell (3 of 4 year 11 pupils) never appears; its marker does.
    assert SUPPRESSED_MARKER in text
    assert HIDDEN_VALUE not in text
    # Tagged PDF with title and language.
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert bool(root["/MarkInfo"]["/Marked"])
    assert str(root["/Lang"]) == "en-GB"
    assert reader.metadata.title == "Ash Grove Primary: feedback pack, Autumn 2027"
    assert reader.pages[0].mediabox.width == pytest.approx(595.3, abs=1)  # A4


def test_neighbourhood_report_and_batch(tmp_path: Path, built: Built, db_url: str) -> None:
    seen: list[tuple[int, int]] = []
    result = generate_packs(
        db_url=db_url,
        wave=built.wave,
        out_dir=tmp_path,
        jobs=2,
        sites=["A1", "community", "A3"],
        progress=lambda done, total: seen.append((done, total)),
    )
    assert result.ok
    assert sorted(p.name for p in result.written) == [
        "spring-2027-A1.pdf",
        "spring-2027-community.pdf",
    ]
    assert [n["site"] for n in result.notes] == ["A3"]
    assert seen[-1] == (2, 2)
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".*"))
    report = (tmp_path / "spring-2027-packs-report.txt").read_text()
    assert "no pack\tA3" in report
    _, pages = _pdf_text(tmp_path / "spring-2027-A1.pdf")
    text = "\n".join(pages)
    assert all("Canal Side" in page for page in pages)
    flat = " ".join(text.split())
    assert "Design effect" in flat and "Community" in flat
    assert "No quotes are shown" in flat  # nothing coded or cleared yet, and it says why
    _, pages = _pdf_text(tmp_path / "spring-2027-community.pdf")
    assert "Areas side by side" in "\n".join(pages)


def test_a_failing_site_is_reported_and_the_rest_carry_on(
    tmp_path: Path, built: Built, db_url: str, monkeypatch: pytest.MonkeyPatch, run_cli: Any
) -> None:
    def fake_render(context: dict[str, Any], path: str) -> dict[str, Any]:
        if context["site"] == "S02":
            raise RuntimeError("boom")
        Path(path).write_bytes(b"%PDF-fake")
        return {"site": context["site"], "path": path}

    monkeypatch.setattr(packs_module, "render_pack", fake_render)
    result = run_cli("packs", "--wave", built.wave, "--out", str(tmp_path), "--jobs", "1")
    assert result.exit_code == 1
    assert "pack for S02 failed: RuntimeError: boom" in result.output
    assert (tmp_path / "spring-2027-S01.pdf").exists()
    assert not (tmp_path / "spring-2027-S02.pdf").exists()
    assert "short pack: S05" in result.output


def test_cli_unknown_wave(run_cli: Any, built: Built, tmp_path: Path) -> None:
    out = tmp_path / "packs"
    result = run_cli("packs", "--wave", "Nope", "--out", str(out))
    assert result.exit_code == 1
    assert "no wave called 'Nope'" in result.output
    assert not out.exists()
