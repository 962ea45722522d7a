"""Participatory coding: codebook, tagging, double coding with kappa, reconciliation,
theme counts for analysis, quotes after PII screening, and the /coding pages."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from statsmodels.stats.inter_rater import cohens_kappa

from surveys.models import InstrumentVersion, Response, WaveInstrument
from surveys.models.field import Coding, QuoteApproval
from surveys.services import coding, store_response
from surveys.services import field as field_service

pytestmark = pytest.mark.usefixtures("fast_passwords")

TEXTS = [
    "The park by the flats is great",
    "The adventure playground and the park",
    "Parks, and the youth club on Fridays",
    "The park, but it is not safe at night",
    "Family hub and the park cafe",
    "Green spaces and the library",
    "The library is warm",
    "Nothing really",
    "Buses into town",
    "The school holiday club",
]
# Hand-worked reference for the theme "parks" (present = True):
#   coder A: answers 0-5; coder B: answers 0-3 and 6.
#   both yes 4, A only 2, B only 1, both no 3 -> p_o = 7/10 = 0.7
#   p_A = 0.6, p_B = 0.5 -> p_e = 0.6*0.5 + 0.4*0.5 = 0.5 -> kappa = (0.7-0.5)/0.5 = 0.4
PARKS_A = {0, 1, 2, 3, 4, 5}
PARKS_B = {0, 1, 2, 3, 6}


@pytest.fixture
def coded(session: Session, make_site, make_wave, make_user) -> dict[str, Any]:
    area = make_site("A1", kind="area", name="Millfields")
    make_site("S1", kind="school", name="Jubilee Primary School")
    wave = make_wave()
    version = session.scalar(
        select(InstrumentVersion)
        .join(WaveInstrument)
        .where(
            WaveInstrument.wave_id == wave.id, InstrumentVersion.instrument_id == "peer_interview"
        )
    )
    ids = []
    for text in TEXTS:
        stored = store_response(
            session,
            response_id=str(uuid.uuid4()),
            wave=wave,
            version=version,
            channel="field",
            answers={"consent": "yes", "respondent_under16": "no", "good_for_children": text},
            site=area,
            status="approved",
        )
        assert stored.response is not None, stored.validated.errors
        ids.append(stored.response.id)
    session.commit()
    admin = make_user("admin")
    coder_a = make_user("coder")
    coder_b = make_user("coder")
    cid = wave.community_id
    parks = coding.add_theme(
        session,
        actor_id=admin.id,
        community_id=cid,
        name="Parks and play",
        description="Outdoor space",
        example="the park",
    )
    library = coding.add_theme(session, actor_id=admin.id, community_id=cid, name="Library")
    session.commit()
    return {
        "wave": wave,
        "ids": ids,
        "admin": admin,
        "a": coder_a,
        "b": coder_b,
        "parks": parks,
        "library": library,
        "cid": cid,
        "area": area,
    }


def code_all(session: Session, c: dict[str, Any]) -> None:
    for coder, parks_set in ((c["a"], PARKS_A), (c["b"], PARKS_B)):
        for n, rid in enumerate(c["ids"]):
            themes = [c["parks"].id] if n in parks_set else []
            if "library" in TEXTS[n]:
                themes.append(c["library"].id)
            coding.save_unit_codes(
                session,
                coder_id=coder.id,
                community_id=c["cid"],
                response_id=rid,
                item="good_for_children",
                theme_ids=themes,
            )
    session.commit()


def test_kappa_matches_hand_worked_example_and_statsmodels(session, coded):
    code_all(session, coded)
    rows = {r.theme: r for r in coding.agreement(session, coded["cid"])}
    parks = rows["Parks and play"]
    assert parks.n_answers == 10 and parks.n_first == 6 and parks.n_second == 5
    assert parks.agreement == pytest.approx(0.7)
    assert parks.kappa == pytest.approx(0.4)
    table = [[4, 2], [1, 3]]  # rows coder A yes/no, columns coder B yes/no
    assert parks.kappa == pytest.approx(cohens_kappa(table).kappa)
    assert rows["Library"].kappa == pytest.approx(1.0)


def test_disagreements_are_reconciled_into_final_themes(session, coded):
    code_all(session, coded)
    pending = coding.disagreements(session, coded["cid"])
    assert sorted(pending) == sorted(
        (coded["ids"][n], "good_for_children") for n in (PARKS_A ^ PARKS_B)
    )
    four, six = coded["ids"][4], coded["ids"][6]
    coding.reconcile(
        session,
        actor_id=coded["admin"].id,
        community_id=coded["cid"],
        response_id=four,
        item="good_for_children",
        theme_ids=[coded["parks"].id],
    )
    with pytest.raises(coding.CodingError, match="confirm"):
        coding.reconcile(
            session,
            actor_id=coded["admin"].id,
            community_id=coded["cid"],
            response_id=six,
            item="good_for_children",
            theme_ids=[],
        )
    coding.reconcile(
        session,
        actor_id=coded["admin"].id,
        community_id=coded["cid"],
        response_id=six,
        item="good_for_children",
        theme_ids=[coded["library"].id],
        agreed_none=False,
    )
    session.commit()
    assert coding.final_themes(session, six, "good_for_children") == {coded["library"].id}
    assert len(coding.disagreements(session, coded["cid"])) == 1
    # the coders' own codes are kept, so agreement is still measured on them
    assert coding.agreement(session, coded["cid"])[1].kappa == pytest.approx(0.4)


def test_theme_codings_feed_analysis_and_follow_review(session, coded):
    code_all(session, coded)
    rows = coding.theme_codings(session, coded["wave"])
    parks = [r for r in rows if r["theme"] == "Parks and play"]
    assert len(parks) == 7  # union of both coders until reconciled
    assert {r["site"] for r in rows} == {"A1"}
    no_theme = [r for r in rows if r["theme"] == ""]
    assert {r["response_id"] for r in no_theme} == {coded["ids"][n] for n in (7, 8, 9)}
    # a rejected interview drops out of the counts
    response = session.get(Response, coded["ids"][0])
    response.status = "rejected"
    session.commit()
    rows = coding.theme_codings(session, coded["wave"])
    assert coded["ids"][0] not in {r["response_id"] for r in rows}
    import pandas as pd

    from analysis.themes import theme_counts

    counts = theme_counts(pd.DataFrame(rows), k=5, wave="Spring 2027")
    parks_row = counts[(counts["site"] == "A1") & (counts["theme"] == "Parks and play")]
    assert int(parks_row["n_respondents"].iloc[0]) == 6


def test_span_coding_stores_offsets(session, coded):
    rid = coded["ids"][3]
    made = coding.add_span_coding(
        session,
        coder_id=coded["a"].id,
        community_id=coded["cid"],
        response_id=rid,
        item="good_for_children",
        theme_id=coded["parks"].id,
        excerpt="not safe at night",
    )
    assert TEXTS[3][made.start : made.end] == "not safe at night"
    with pytest.raises(coding.CodingError, match="not in the answer"):
        coding.add_span_coding(
            session,
            coder_id=coded["a"].id,
            community_id=coded["cid"],
            response_id=rid,
            item="good_for_children",
            theme_id=coded["parks"].id,
            excerpt="invented words",
        )


def test_double_coding_queue_offers_sample_answers_to_a_second_coder(session, coded):
    settings = field_service.research_settings(session, coded["cid"])
    settings.double_code_percent = 100
    session.add(settings)
    session.commit()
    first = coding.next_unit(session, coder_id=coded["a"].id, community_id=coded["cid"])
    coding.save_unit_codes(
        session,
        coder_id=coded["a"].id,
        community_id=coded["cid"],
        response_id=first.response_id,
        item=first.item,
        theme_ids=[],
    )
    session.commit()
    again = coding.next_unit(session, coder_id=coded["a"].id, community_id=coded["cid"])
    assert again.response_id != first.response_id
    second = coding.next_unit(session, coder_id=coded["b"].id, community_id=coded["cid"])
    assert second.response_id == first.response_id  # the sample answer waits for a second coder


def test_quotes_need_pii_screening(session, coded):
    rid = coded["ids"][0]
    response = session.get(Response, rid)
    response.answers = {
        **response.answers,
        "good_for_children": "Jayden at Jubilee Primary School loves the park",
    }
    session.commit()
    kwargs = {
        "actor_id": coded["a"].id,
        "community_id": coded["cid"],
        "response_id": rid,
        "item": "good_for_children",
    }
    excerpt = "Jayden at Jubilee Primary School loves the park"
    flags = coding.screen_quote(session, coded["cid"], excerpt)
    assert [(s.kind, s.text) for s in flags] == [
        ("name", "Jayden"),
        ("school", "Jubilee Primary School"),
    ]
    with pytest.raises(coding.CodingError, match="personal information"):
        coding.approve_quote(session, excerpt=excerpt, redacted=excerpt, **kwargs)
    with pytest.raises(coding.CodingError, match="part of the answer"):
        coding.approve_quote(session, excerpt="made up", redacted="made up", **kwargs)
    quote = coding.approve_quote(
        session, excerpt=excerpt, redacted="[name] at [school] loves the park", **kwargs
    )
    session.commit()
    assert quote.text == "[name] at [school] loves the park" and quote.flags_found == 2
    assert "Jayden" not in str(session.scalars(select(QuoteApproval.text)).all())


def test_coding_pages(client, login, session, coded):
    login(coded["a"])
    home = client.get("/coding/")
    assert home.status_code == 200 and b"Parks and play" in home.data
    page = client.get("/coding/next", follow_redirects=True)
    assert page.status_code == 200
    rid = coded["ids"][0]
    saved = client.post(
        f"/coding/answer/{rid}/good_for_children",
        data={"themes": [str(coded["parks"].id)]},
    )
    assert saved.status_code == 302
    assert session.scalars(select(Coding.theme_id).where(Coding.response_id == rid)).all() == [
        coded["parks"].id
    ]
    added = client.post(
        "/coding/themes",
        data={"name": "Safety", "description": "Feeling safe", "example": "not safe at night"},
    )
    assert added.status_code == 302
    assert client.post("/coding/themes", data={"name": "safety"}).status_code == 200
    screened = client.post(
        f"/coding/quote/{rid}/good_for_children",
        data={"excerpt": "The park by the flats", "redacted": "", "action": "screen"},
    )
    assert screened.status_code == 200 and b"The park by the flats" in screened.data
    assert client.get("/coding/agreement").status_code == 200
    assert client.get("/coding/reconcile").status_code == 200
    assert client.get("/coding/answer/not-a-uuid/good_for_children").status_code == 404


def test_researchers_cannot_reach_coding(client, login, session, coded, make_user):
    login(make_user("researcher"))
    for url in ("/coding/", "/coding/next", "/coding/agreement", "/coding/themes"):
        assert client.get(url).status_code == 403, url
