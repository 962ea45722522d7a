"""The demo community: generic answer simulation, the built database, and `placevoice demo`."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from instruments import Instrument, load_instrument
from surveys.db import make_engine, make_sessionmaker
from surveys.demo import (
    AREAS,
    CURRENT_WAVE,
    DEMO_PASSWORD,
    DEMO_PIN,
    PREVIOUS_WAVE,
    SCHOOLS,
    USERS,
    build_demo,
    demo_margins,
)
from surveys.demo.answers import Simulator
from surveys.demo.texts import PII_SNIPPETS
from surveys.models import (
    AccessCode,
    Community,
    InstrumentVersion,
    Response,
    SchoolClass,
    Site,
    User,
    Wave,
)
from surveys.models.field import ConsentRecord, FieldInterview, ResearcherAssignment
from surveys.models.margins import PopulationMargin
from surveys.services import instrument_of, verify_password
from surveys.services.drafts import check_teacher_pin
from surveys.validation import validate_answers

FORM = b"""
| survey |
| | type | name | label | relevant | constraint | domain | positive | reverse |
| | select_one agree | happy | I am happy | | | mood | agree strongly_agree | |
| | select_one agree | sad | I feel sad | | | mood | disagree strongly_disagree | yes |
| | select_one often | bullied | Bullied? | | | safety | never | yes |
| | select_one yn | told | Told someone? | ${bullied} != '' and ${bullied} != 'never' | | safety | yes | |
| | select_multiple clubs | clubs | Clubs | | not(selected(., 'none') and count-selected(.) > 1) | fun | sport music | |
| | select_one colour | colour | Favourite colour | | | | | |
| | text | idea | Your idea | | | | | |
| choices |
| | list_name | name | label | score | missing |
| | agree | strongly_agree | Agree a lot | 5 | |
| | agree | agree | Agree | 4 | |
| | agree | not_sure | Not sure | 3 | |
| | agree | disagree | Disagree | 2 | |
| | agree | strongly_disagree | Disagree a lot | 1 | |
| | agree | pnts | Prefer not to say | | yes |
| | often | never | Never | 1 | |
| | often | sometimes | Sometimes | 2 | |
| | often | often | Often | 3 | |
| | yn | yes | Yes | 1 | |
| | yn | no | No | 0 | |
| | clubs | sport | Sport | | |
| | clubs | music | Music | | |
| | clubs | none | None of these | | |
| | colour | red | Red | | |
| | colour | blue | Blue | | |
| settings |
| | form_id | version |
| | sim_test | 1 |
"""


@pytest.fixture(scope="module")
def inst() -> Instrument:
    return load_instrument(FORM, file_type=".md")


def _share(rows: list[dict[str, Any]], item: str, positive: set[str]) -> float:
    answered = [r[item] for r in rows if item in r and r[item] != "pnts"]
    return sum(a in positive for a in answered) / len(answered)


def _simulate(inst: Instrument, level: float, n: int = 2000, seed: int = 1) -> list[dict[str, Any]]:
    latent = {d: np.full(n, level) for d in ("mood", "safety", "fun")}
    return Simulator(inst).answers(np.random.default_rng(seed), n, latent=latent)


def test_a_higher_latent_score_raises_the_positive_share_of_every_item(inst: Instrument) -> None:
    low, high = _simulate(inst, -0.8), _simulate(inst, 0.8)
    for item, positive in (
        ("happy", {"agree", "strongly_agree"}),
        ("sad", {"disagree", "strongly_disagree"}),  # reverse-scored: favourable = low
        ("bullied", {"never"}),  # favourable end has the lowest score
    ):
        assert _share(high, item, positive) - _share(low, item, positive) > 0.2, item


def test_select_multiple_moves_with_the_latent_score_and_keeps_none_alone(
    inst: Instrument,
) -> None:
    low, high = _simulate(inst, -1.0), _simulate(inst, 1.0)

    def ticked(rows: list[dict[str, Any]]) -> float:
        return sum(len(set(r.get("clubs", [])) & {"sport", "music"}) for r in rows) / len(rows)

    assert ticked(high) > ticked(low) + 0.2
    clubs = [r["clubs"] for r in high + low if "clubs" in r]
    assert any(c == ["none"] for c in clubs)
    assert all("none" not in c or c == ["none"] for c in clubs)


def test_generated_answers_pass_validation_and_respect_relevance(inst: Instrument) -> None:
    rows = _simulate(inst, 0.0, n=500)
    for row in rows:
        checked = validate_answers(inst, row, strict_unknown=True)
        assert checked.ok and checked.answers == row
        if row.get("bullied") in (None, "never"):
            assert "told" not in row
    assert any("told" in r for r in rows)
    assert {r.get("colour") for r in rows} >= {"red", "blue"}
    assert all("idea" not in r for r in rows)  # text without a source is left blank


def test_missingness_is_realistic(inst: Instrument) -> None:
    rows = _simulate(inst, 0.0, n=4000)
    skipped = sum("happy" not in r for r in rows) / len(rows)
    prefer_not = sum(r.get("happy") == "pnts" for r in rows) / len(rows)
    assert 0.02 <= skipped <= 0.10
    assert 0.002 <= prefer_not <= 0.05


def test_fixed_answers_and_text_sources_are_used(inst: Instrument) -> None:
    n = 4
    rows = Simulator(inst).answers(
        np.random.default_rng(3),
        n,
        latent={},
        fixed={"colour": ["red", "blue", None, "red"]},
        texts={"idea": lambda rng, k: ["more parks"] * k},
        skip_rate=0.0,
        breakoff_rate=0.0,
    )
    assert [r.get("colour") for r in rows] == ["red", "blue", None, "red"]
    assert all(r["idea"] == "more parks" for r in rows)


def test_the_same_seed_gives_the_same_answers(inst: Instrument) -> None:
    assert _simulate(inst, 0.2, n=50, seed=9) == _simulate(inst, 0.2, n=50, seed=9)
    assert _simulate(inst, 0.2, n=50, seed=9) != _simulate(inst, 0.2, n=50, seed=10)


def test_the_spec_is_within_the_design_ranges() -> None:
    assert 14 <= len(SCHOOLS) <= 18
    years = {c.year_group for s in SCHOOLS for c in s.classes}
    assert years == set(range(5, 12))
    for school in SCHOOLS:
        per_year = Counter(c.year_group for c in school.classes)
        assert set(per_year.values()) <= {2, 3}, school.name
        assert all(c.name[:-1] == str(c.year_group) for c in school.classes)
    assert 4 <= len(AREAS) <= 5
    assert 550 <= sum(a.residents for a in AREAS) <= 650
    assert 35 <= sum(a.interviews for a in AREAS) <= 45
    expected = sum(s.population * s.response_rate for s in SCHOOLS)
    assert 4200 <= expected <= 4600


def test_margins_cover_every_area_and_add_up() -> None:
    rows = demo_margins()
    totals: Counter[tuple[str, str]] = Counter()
    for row in rows:
        totals[(str(row["area"]), str(row["variable"]))] += float(row["proportion"])  # type: ignore[arg-type]
    assert {a for a, _ in totals} == {a.code for a in AREAS}
    assert {v for _, v in totals} == {"age_band", "sex"}
    assert all(abs(t - 1) < 1e-9 for t in totals.values())


# --- the built demo (one full build per module) -------------------------------------------


def _responses(session: Session, instrument: str, wave: str) -> list[Response]:
    return list(
        session.scalars(
            select(Response)
            .join(Wave, Response.wave_id == Wave.id)
            .join(InstrumentVersion, Response.instrument_version_id == InstrumentVersion.id)
            .where(
                Wave.name == wave,
                InstrumentVersion.instrument_id == instrument,
                Response.status.in_(("submitted", "approved")),
            )
        )
    )


@pytest.mark.slow
def test_the_demo_holds_the_designed_counts(demo: Session) -> None:
    sites = Counter(kind for (kind,) in demo.execute(select(Site.kind)))
    assert 14 <= sites["school"] <= 18 and 3 <= sites["area"] <= 6
    assert all(a.postcodes for a in demo.scalars(select(Site).where(Site.kind == "area")))
    years = set(demo.scalars(select(SchoolClass.year_group)))
    assert years == set(range(5, 12))
    waves = {w.name: w for w in demo.scalars(select(Wave))}
    assert waves[CURRENT_WAVE.name].status == "open"
    assert waves[PREVIOUS_WAVE.name].status == "closed"
    assert waves[CURRENT_WAVE.name].previous_id == waves[PREVIOUS_WAVE.name].id
    for wave in (CURRENT_WAVE.name, PREVIOUS_WAVE.name):
        assert 4000 <= len(_responses(demo, "pupil_perception", wave)) <= 4800
        assert 540 <= len(_responses(demo, "resident_baseline", wave)) <= 660
    interviews = _responses(demo, "peer_interview", CURRENT_WAVE.name)
    assert 35 <= len(interviews) <= 45
    assert {r.status for r in interviews} == {"submitted", "approved"}
    assert all(r.channel == "field" and r.researcher_id for r in interviews)
    drafts = demo.scalar(select(func.count()).where(Response.status == "draft"))
    assert drafts and drafts >= 5
    refusals = demo.scalar(
        select(func.count()).select_from(ConsentRecord).where(ConsentRecord.response_id.is_(None))
    )
    assert refusals and refusals >= 1
    assert demo.scalar(select(func.count()).select_from(FieldInterview)) == len(interviews)


@pytest.mark.slow
def test_every_stored_answer_passes_validation(demo: Session) -> None:
    instruments = {v.id: instrument_of(v) for v in demo.scalars(select(InstrumentVersion))}
    checked = 0
    for response in demo.scalars(select(Response)):
        inst = instruments[response.instrument_version_id]
        result = validate_answers(
            inst, response.answers, strict_unknown=True, check_required=response.status != "draft"
        )
        assert result.ok, (response.id, result.errors)
        assert result.answers == response.answers
        checked += 1
    assert checked > 9000


@pytest.mark.slow
def test_every_class_of_the_open_wave_has_a_code_and_the_demo_pin(demo: Session) -> None:
    wave = demo.scalar(select(Wave).where(Wave.name == CURRENT_WAVE.name))
    assert wave is not None
    classes = demo.scalars(select(SchoolClass)).all()
    coded = set(
        demo.scalars(
            select(AccessCode.class_id).where(
                AccessCode.wave_id == wave.id, AccessCode.kind == "class"
            )
        )
    )
    assert coded == {c.id for c in classes}
    assert check_teacher_pin(classes[0], DEMO_PIN)
    assert not check_teacher_pin(classes[0], "0000")
    kinds = Counter(demo.scalars(select(AccessCode.kind).where(AccessCode.wave_id == wave.id)))
    assert kinds["area"] == len(AREAS) and kinds["token"] >= len(AREAS)


@pytest.mark.slow
def test_demo_accounts_sign_in_with_the_demo_password(demo: Session) -> None:
    users = {u.email: u for u in demo.scalars(select(User))}
    assert set(users) == {u.email for u in USERS}
    roles = Counter(u.role for u in users.values())
    assert roles["admin"] == 1 and roles["school_staff"] == 2 and roles["coder"] == 1
    codes = {s.id: s.code for s in demo.scalars(select(Site))}
    for spec in USERS:
        user = users[spec.email]
        assert verify_password(user, DEMO_PASSWORD)
        assert {codes[i] for i in user.site_ids} == set(spec.sites)
    researcher = users["researcher@demo.placevoice.org"]
    assigned = demo.scalars(
        select(ResearcherAssignment.site_id).where(ResearcherAssignment.user_id == researcher.id)
    ).all()
    assert set(assigned) == set(researcher.site_ids)


def _pct_positive(rows: list[Response], inst: Instrument, domain: str) -> tuple[float, int]:
    """Raw percentage positive over all answered items of ``domain`` (missing excluded)."""
    hits = total = 0
    for item in inst.answerable_items:
        if item.domain != domain or not item.positive or item.type != "select_one":
            continue
        for row in rows:
            value = row.answers.get(item.name)
            if value is None or value in item.missing_choices:
                continue
            total += 1
            hits += value in item.positive
    return 100 * hits / total, total


@pytest.mark.slow
def test_the_designed_school_effects_show_in_raw_percentages(demo: Session) -> None:
    inst = instrument_of(
        demo.scalars(
            select(InstrumentVersion).where(InstrumentVersion.instrument_id == "pupil_perception")
        ).one()
    )
    codes = {s.id: s.code for s in demo.scalars(select(Site))}
    pct: dict[tuple[str, str, str], float] = {}
    for wave in (PREVIOUS_WAVE.name, CURRENT_WAVE.name):
        rows = _responses(demo, "pupil_perception", wave)
        for school in SCHOOLS:
            designed = {**school.effects, **school.trend}
            mine = [r for r in rows if codes[r.site_id or 0] == school.code]
            others = [r for r in rows if codes[r.site_id or 0] != school.code]
            for domain in designed:
                pct[(wave, school.code, domain)] = (
                    _pct_positive(mine, inst, domain)[0] - _pct_positive(others, inst, domain)[0]
                )
    checked = 0
    for school in SCHOOLS:
        for domain, effect in school.effects.items():
            for wave in (PREVIOUS_WAVE.name, CURRENT_WAVE.name):
                assert pct[(wave, school.code, domain)] * np.sign(effect) >= 5, (school, domain)
                checked += 1
        for domain, change in school.trend.items():
            now = pct[(CURRENT_WAVE.name, school.code, domain)]
            before = pct[(PREVIOUS_WAVE.name, school.code, domain)]
            assert (now - before) * np.sign(change) >= 5, (school.name, domain)
            assert abs(before) < abs(now - before), (school.name, domain)
            checked += 1
    assert checked >= 10


@pytest.mark.slow
def test_the_designed_area_effects_show_and_the_resident_sample_is_skewed(demo: Session) -> None:
    inst = instrument_of(
        demo.scalars(
            select(InstrumentVersion).where(InstrumentVersion.instrument_id == "resident_baseline")
        ).one()
    )
    codes = {s.id: s.code for s in demo.scalars(select(Site))}
    rows = _responses(demo, "resident_baseline", CURRENT_WAVE.name)
    for area in AREAS:
        mine = [r for r in rows if codes[r.site_id or 0] == area.code]
        others = [r for r in rows if codes[r.site_id or 0] != area.code]
        for domain, effect in area.effects.items():
            diff = _pct_positive(mine, inst, domain)[0] - _pct_positive(others, inst, domain)[0]
            assert diff * np.sign(effect) >= 5, (area.name, domain)
    sexes = Counter(r.answers.get("sex") for r in rows)
    assert sexes["female"] / (sexes["female"] + sexes["male"]) > 0.57  # margins: about 0.51
    postcodes = [r.answers["postcode"] for r in rows if "postcode" in r.answers]
    assert len(postcodes) > 0.8 * len(rows)
    assert demo.scalar(select(func.count()).select_from(PopulationMargin)) == len(demo_margins())


@pytest.mark.slow
def test_peer_interviews_have_varied_open_text_with_some_pii(demo: Session) -> None:
    rows = _responses(demo, "peer_interview", CURRENT_WAVE.name)
    texts = [v for r in rows for k, v in r.answers.items() if isinstance(v, str) and len(v) > 30]
    assert len(set(texts)) > 150
    joined = " ".join(texts)
    for word in ("park", "bus", "youth club", "GP", "library", "cost of living", "dark"):
        assert word.lower() in joined.lower(), word
    pii = [s.strip() for s in PII_SNIPPETS if s.strip() in joined]
    assert len(pii) >= 3
    flagged = demo.scalars(select(FieldInterview).where(FieldInterview.flagged.is_(True))).all()
    assert len(flagged) == len(pii)


def test_every_demo_pupil_answer_has_its_codes() -> None:
    from surveys.demo.coding import PUPIL_CODES, THEMES
    from surveys.demo.texts import _PUPIL, _PUPIL_PII

    assert set(PUPIL_CODES) == set(_PUPIL) | set(_PUPIL_PII)
    assert {theme for codes in PUPIL_CODES.values() for theme in codes} == set(THEMES)


def test_pupil_answers_are_coded_and_the_packs_show_them(demo: Session) -> None:
    from exports.packs import build_contexts
    from surveys.demo.coding import PUPIL_ITEM
    from surveys.models.field import CodedUnit, Coding

    answered = [
        r
        for r in _responses(demo, "pupil_perception", CURRENT_WAVE.name)
        if r.answers.get(PUPIL_ITEM)
    ]
    units = demo.scalar(select(func.count()).select_from(CodedUnit))
    assert units == len(answered) > 1000
    assert demo.scalar(select(func.count()).select_from(Coding)) > units * 0.8
    contexts, _ = build_contexts(demo, CURRENT_WAVE.name)
    shown = [c for c in contexts if c["kind"] == "school" and c["themes"]["rows"]]
    assert len(shown) >= 10  # most schools have themes above the threshold
    for context in shown:
        assert all(int(row["n"]) >= context["k"] for row in context["themes"]["rows"])


@pytest.mark.slow
def test_a_second_build_adds_nothing(demo_url: str) -> None:
    engine = make_engine(demo_url)
    with make_sessionmaker(engine)() as session, session.begin():
        before = session.scalar(select(func.count()).select_from(Response))
        result = build_demo(session, seed=99)
        after = session.scalar(select(func.count()).select_from(Response))
        communities = session.scalar(select(func.count()).select_from(Community))
    engine.dispose()
    assert not result.built and result.seed == 2027
    assert before == after and communities == 1


def test_the_demo_partnership_network_has_the_planted_change(demo: Session) -> None:
    from analysis.network import tie_changes
    from surveys.demo.partnership import UNLISTED
    from surveys.models import Wave
    from surveys.services.network import wave_network

    before, after = (
        wave_network(demo, demo.scalars(select(Wave).where(Wave.name == name)).one())
        for name in ("Spring 2026", "Spring 2027")
    )
    assert len(after.organisations) == 25
    assert (before.responses, after.responses) == (23, 24)
    changes = tie_changes(before=before.ties, after=after.ties).set_index(["source", "target"])
    change = changes["change"]
    assert change[("ORG21", "ORG06")] == "new" and change[("ORG06", "ORG21")] == "new"
    assert change[("ORG16", "ORG01")] == "lost" and change[("ORG01", "ORG16")] == "lost"
    assert (change == "kept").sum() > 50
    assert [r.text for r in after.review] == [UNLISTED] and before.review == []
