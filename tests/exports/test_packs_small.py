"""Small schools in packs: the least informative cells are hidden, withheld breakdowns are
named, short packs, the community's k stated, similar schools and the merged report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from exports.packdata.cells import COMPLEMENT_MARKER, is_hidden
from exports.packs import build_contexts, generate_packs
from exports.render import pack_html
from surveys.models import InstrumentVersion, Response, SchoolClass, Site
from surveys.services import (
    create_wave,
    ensure_builtin_instruments,
    get_or_create_community,
    set_wave_status,
)
from tests.exports.conftest import _pupil

pytestmark = pytest.mark.slow

WAVE = "Summer 2027"

#: Per school: phase, and (year, gender, pupils) groups. P is a small primary whose
#: "another way" group (3) is too small: in its row Boys (11) is the smallest real
#: group, but "prefer not to say" (12) protects it as well and tells readers less.
#: V (24 pupils) has every gender group under 10, so its gender breakdown is withheld;
#: Q (19 pupils) is below the pack minimum and gets a short pack.
SCHOOLS: dict[str, tuple[str, list[tuple[int, str, int]]]] = {
    "P": ("primary", [(6, "girl", 14), (6, "boy", 11), (6, "another_way", 3), (6, "pnts", 12)]),
    "Q": ("primary", [(5, "girl", 5), (5, "boy", 5), (6, "another_way", 5), (6, "pnts", 4)]),
    "V": ("primary", [(5, "girl", 6), (5, "boy", 6), (6, "another_way", 6), (6, "pnts", 6)]),
    "R": ("primary", [(5, "girl", 40), (6, "boy", 40), (6, "another_way", 6), (5, "pnts", 10)]),
    "S": ("primary", [(5, "girl", 38), (6, "boy", 42), (5, "another_way", 7), (6, "pnts", 12)]),
    "T": ("primary", [(5, "girl", 30), (6, "boy", 33), (6, "another_way", 5), (5, "pnts", 9)]),
    "U": ("primary", [(5, "girl", 36), (6, "boy", 31), (5, "another_way", 4), (6, "pnts", 8)]),
}
ANSWERS = ("very_safe", "quite_safe", "not_very_safe")


@pytest.fixture
def small(session: Session, db_url: str) -> dict[str, Any]:
    return _build(session, SCHOOLS)


@pytest.fixture
def small_without_q(session: Session, db_url: str) -> dict[str, Any]:
    return _build(session, {code: spec for code, spec in SCHOOLS.items() if code not in ("Q", "V")})


def _build(session: Session, schools: dict[str, tuple[str, list[tuple[int, str, int]]]]) -> dict:
    community = get_or_create_community(session, slug="small", name="Small Community")
    ensure_builtin_instruments(session)
    wave = create_wave(
        session, community=community, name=WAVE, instrument_ids=("pupil_perception",)
    )
    set_wave_status(wave, "open")
    version = session.scalar(
        select(InstrumentVersion.id).where(InstrumentVersion.instrument_id == "pupil_perception")
    )
    rows = []
    for code, (phase, groups) in schools.items():
        site = Site(
            community=community, code=code, name=f"{code} Primary", kind="school", phase=phase
        )
        session.add(site)
        session.flush()
        cls = SchoolClass(site_id=site.id, name="5/6", year_group=6)
        session.add(cls)
        session.flush()
        i = 0
        for year, gender, count in groups:
            for _ in range(count):
                rows.append(
                    _pupil(
                        wave.id,
                        site.id,
                        cls.id,
                        version,
                        year_group=f"year{year}",
                        gender=gender,
                        safe_school=ANSWERS[i % 3],
                    )
                )
                i += 1
    session.execute(insert(Response), rows)
    session.commit()
    return {"community": community, "wave": wave}


def _gender_table(context: dict[str, Any]) -> dict[str, Any]:
    domain = next(d for d in context["domains"] if d["key"] == "safety")
    return next(t for t in domain["breakdowns"] if t["var"] == "gender")


def test_a_small_primary_keeps_its_boys_column(
    session: Session, small_without_q: dict[str, Any], db_url: str, tmp_path: Path
) -> None:
    contexts, _ = build_contexts(session, small_without_q["wave"], sites=["P"])
    table = _gender_table(contexts[0])
    assert table["columns"] == ["Girls", "Boys"]
    assert not table["withheld"]
    assert all(not is_hidden(cell) for row in table["rows"] for cell in row["cells"])
    assert set(table["hidden"]) == {"Another way", "Prefer not to say"}
    assert table["protecting"] == ["Prefer not to say"] and table["complements"]
    # The PDF shows the Boys column and says why the protecting cell is hidden.
    result = generate_packs(db_url=db_url, wave=WAVE, out_dir=tmp_path, jobs=1, sites=["P"])
    assert result.ok
    text = " ".join(
        " ".join(page.extract_text() or "" for page in PdfReader(result.written[0]).pages).split()
    )
    assert "Girls Boys" in text
    assert "Prefer not to say: hidden so that another hidden figure cannot be worked out" in text


def test_protecting_another_school_never_takes_a_small_schools_last_column(
    session: Session, small: dict[str, Any]
) -> None:
    # Q's gender cells are all hidden; protecting them from the column totals needs a
    # cell of each column elsewhere. P gives up at most one of Girls and Boys.
    contexts, _ = build_contexts(session, small["wave"])
    for context in contexts:
        if context["site"] in ("Q", "V"):  # a short pack; every group under k
            continue
        table = _gender_table(context)
        assert not table["withheld"], context["site"]
        assert {"Girls", "Boys"} & set(table["columns"]), context["site"]


def test_a_breakdown_hidden_whole_is_named_as_withheld(
    session: Session, small: dict[str, Any]
) -> None:
    contexts, _ = build_contexts(session, small["wave"], sites=["V"])
    table = _gender_table(contexts[0])
    assert table["withheld"] and table["rows"] == [] and table["columns"] == []
    html = " ".join(pack_html(contexts[0]).split())
    assert "By gender: withheld." in html
    assert "Girls, Boys, Another way, Prefer not to say" in html


def test_a_school_under_the_pack_minimum_gets_a_short_pack(
    session: Session, small: dict[str, Any]
) -> None:
    contexts, notes = build_contexts(session, small["wave"], sites=["Q"])
    (context,) = contexts
    assert context["short"] and [(n["site"], n["short"]) for n in notes] == [("Q", True)]
    assert all(d["breakdowns"] == [] for d in context["domains"])
    safe = next(r for d in context["domains"] for r in d["items"] if r["item"] == "safe_school")
    assert safe["pct"].endswith("%") and safe["community"].endswith("%")
    html = " ".join(pack_html(context).split())
    assert "What this short pack leaves out" in html
    assert "19 pupils at Q Primary answered, fewer than the 20 responses" in html


def test_the_communitys_k_and_pack_minimum_are_stated_and_applied(
    session: Session, small: dict[str, Any]
) -> None:
    small["community"].suppression_k = 12
    small["community"].pack_min_responses = 30
    session.commit()
    contexts, _ = build_contexts(session, small["wave"], sites=["P", "T"])
    by_site = {c["site"]: c for c in contexts}
    assert by_site["P"]["k"] == 12 and by_site["P"]["min_responses"] == 30
    assert not by_site["P"]["short"]  # 40 responses
    html = " ".join(pack_html(by_site["P"]).split())
    assert "fewer than 12 pupils" in html and "k = 12" in html
    assert "minimum of 30 responses" in html


def test_similar_schools_only_with_three_others_and_no_hidden_member(
    session: Session, small: dict[str, Any]
) -> None:
    contexts, _ = build_contexts(session, small["wave"])
    by_site = {c["site"]: c for c in contexts}
    # Seven primaries of mixed size: each has at least three others of its size band.
    assert by_site["R"]["similar_label"].startswith("Other primary schools")
    assert by_site["R"]["similar_count"] >= 3
    safe = {
        r["item"]: r for d in by_site["R"]["domains"] for r in d["items"] if not r["suppressed"]
    }["safe_school"]
    assert safe["similar"].endswith("%")
    html = pack_html(by_site["R"])
    assert "Similar schools" in html
    for context in contexts:
        assert "0.000" not in pack_html(context)  # p-values read <0.001


def test_a_run_for_one_site_merges_into_the_report(
    small: dict[str, Any], db_url: str, tmp_path: Path
) -> None:
    everything = generate_packs(db_url=db_url, wave=WAVE, out_dir=tmp_path, jobs=1)
    report = tmp_path / "summer-2027-packs-report.txt"
    before = report.read_text().splitlines()
    assert len(everything.written) == 7
    assert any(line.startswith("short pack\tQ\t") for line in before)
    one = generate_packs(db_url=db_url, wave=WAVE, out_dir=tmp_path, jobs=1, sites=["R"])
    assert [p.name for p in one.written] == ["summer-2027-R.pdf"]
    after = report.read_text().splitlines()
    assert sorted(after) == sorted(before)
    assert COMPLEMENT_MARKER == "[c]*"
