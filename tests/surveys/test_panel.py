"""Identification codes in the database and linking waves: keys, storage, links, report."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from instruments import load_builtin
from surveys.errors import ServiceError
from surveys.models import AuditEntry, Community, Response
from surveys.models.panel import PanelCode, PanelLink, PanelRun
from surveys.services import get_or_create_community
from surveys.services.erasure import delete_responses
from surveys.services.panel.codes import (
    code_digests,
    community_key,
    hkdf_sha256,
    normalise_part,
)
from surveys.services.panel.linking import link_waves
from surveys.services.panel.results import match_rows, panel_result, site_names
from tests.panel_data import SECRET, build_panel

PUPIL = load_builtin("pupil_perception")


def test_hkdf_matches_the_rfc_5869_test_vector() -> None:
    okm = hkdf_sha256(
        bytes([0x0B] * 22),
        salt=bytes(range(13)),
        info=bytes(range(0xF0, 0xFA)),
        length=42,
    )
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


def test_digests_are_per_position_per_community_and_hide_the_characters() -> None:
    code = {"code_carer": "m", "code_day": 7, "code_siblings": 1, "code_street": "H"}
    key1, key2 = community_key(SECRET, 1), community_key(SECRET, 2)
    one, missing = code_digests(key1, PUPIL.code_items, code)
    assert missing == 0
    assert len(one) == 6 * 8  # letter, two digits, two digits, letter
    assert one != code_digests(key2, PUPIL.code_items, code)[0]
    # The same letter at two places gives two different digests.
    same = code_digests(key1, PUPIL.code_items, {**code, "code_street": "M"})[0]
    assert same[:8] != same[40:]
    # One character different: one 8-byte digest different, the rest equal.
    typo = code_digests(key1, PUPIL.code_items, {**code, "code_day": 17})[0]
    differing = [i for i in range(6) if one[i * 8 : i * 8 + 8] != typo[i * 8 : i * 8 + 8]]
    assert differing == [1]
    # Nothing stored is a plain hash of a character (a dictionary of 36 would undo it).
    plain = {
        hashlib.sha256(c.encode()).digest()[:8] for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    }
    assert not plain & {one[i * 8 : i * 8 + 8] for i in range(6)}


def test_parts_are_normalised_and_unanswered_parts_are_counted() -> None:
    carer, day = PUPIL.item("code_carer"), PUPIL.item("code_day")
    assert normalise_part(carer, " émma ") == "E"
    assert normalise_part(carer, "") is None
    assert normalise_part(day, "07") == normalise_part(day, 7) == "07"
    assert normalise_part(day, 123) is None
    digests, missing = code_digests(community_key(SECRET, 1), PUPIL.code_items, {"code_day": 3})
    assert missing == 3
    assert digests[:8] == bytes(8)


def test_a_missing_secret_key_stores_nothing() -> None:
    with pytest.raises(ValueError, match="PLACEVOICE_SECRET_KEY"):
        community_key("", 1)


def test_linking_finds_the_planted_pairs_by_rule_and_reports_per_school(
    session: Session, community: Community
) -> None:
    panel = build_panel(session, community)
    run = link_waves(session, wave=panel.current, previous=panel.previous, actor=None)
    session.commit()
    links = dict(
        session.execute(
            select(PanelLink.response_id, PanelLink.previous_response_id).where(
                PanelLink.wave_id == panel.current.id
            )
        ).all()
    )
    rules = dict(session.execute(select(PanelLink.response_id, PanelLink.rule)).all())
    assert all(panel.truth[a] == b for a, b in links.items())  # no false link
    assert set(panel.typos["none"]) == {r for r, rule in rules.items() if rule == "exact"}
    assert set(panel.typos["one"]) == {r for r, rule in rules.items() if rule == "fuzzy1"}
    assert not set(panel.typos["missing"]) & set(links)
    total = run.report["all"]
    assert total["exact"] == len(panel.typos["none"])
    assert total["fuzzy1"] == len(panel.typos["one"])
    assert total["incomplete"] == len(panel.typos["missing"])
    assert total["codes"] == total["responses"] == 40 + 30 + 6
    s1 = run.report["sites"][str(panel.schools["S1"].id)]
    assert s1["unmatched"] == 8 and s1["previous_codes"] == 40
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "panel_linked"))
    assert entry is not None and entry.detail["exact"] == total["exact"]


def test_linking_again_replaces_the_links(session: Session, community: Community) -> None:
    panel = build_panel(session, community)
    link_waves(session, wave=panel.current, previous=panel.previous)
    first = session.scalar(select(func.count()).select_from(PanelLink))
    link_waves(session, wave=panel.current, previous=panel.previous, max_distance=0)
    session.commit()
    again = session.scalar(select(func.count()).select_from(PanelLink))
    assert again == first - len(panel.typos["one"])
    assert session.scalar(select(func.count()).select_from(PanelRun)) == 1


def test_waves_of_other_communities_or_the_same_wave_are_refused(
    session: Session, community: Community
) -> None:
    panel = build_panel(session, community)
    with pytest.raises(ServiceError, match="cannot be linked to itself"):
        link_waves(session, wave=panel.current, previous=panel.current)
    other = get_or_create_community(session, slug="other", name="Other")
    session.flush()
    panel.previous.community_id = other.id
    with pytest.raises(ServiceError, match="different communities"):
        link_waves(session, wave=panel.current, previous=panel.previous)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(PanelLink)) == 0


def test_erasing_a_response_erases_its_code_and_links(
    session: Session, community: Community
) -> None:
    panel = build_panel(session, community)
    link_waves(session, wave=panel.current, previous=panel.previous)
    session.commit()
    current_id = panel.typos["none"][0]
    previous_id = panel.truth[current_id]
    delete_responses(session, [previous_id])
    session.commit()
    assert session.get(PanelCode, previous_id) is None
    assert session.get(Response, previous_id) is None
    assert (
        session.scalar(
            select(func.count()).select_from(PanelLink).where(PanelLink.response_id == current_id)
        )
        == 0
    )


def test_panel_result_shows_planted_change_and_suppresses_small_schools(
    session: Session, community: Community
) -> None:
    panel = build_panel(session, community)
    link_waves(session, wave=panel.current, previous=panel.previous)
    session.commit()
    result = panel_result(session, panel.current)
    assert result is not None and result.previous_wave == panel.previous.name
    changes = result.changes.set_index(["site", "item"])
    assert changes.loc[("ALL", "belong_school"), "flag"] == "improved"
    assert changes.loc[("S3", "belong_school"), "suppressed"]  # fewer than k pairs
    rows = {
        r["site"]: r for r in match_rows(result.report, site_names(session, community.id), k=10)
    }
    assert rows["S3"]["exact"] == "[c]"
    assert rows["S1"]["responses"] == 40
    totals = result.report["all"]
    assert rows["ALL"]["linked"] == totals["exact"] + totals["fuzzy1"] + totals["fuzzy2"]
    assert rows["ALL"]["fuzzy1"] == ("[c]" if 0 < totals["fuzzy1"] < 10 else totals["fuzzy1"])


def test_code_parts_never_reach_the_answers_through_store_response_or_import(
    session: Session, community: Community
) -> None:
    from surveys.errors import RowErrors
    from surveys.importing.store import import_responses
    from surveys.models import InstrumentVersion, Site
    from surveys.services import create_wave, store_response

    wave = create_wave(session, community=community, name="W", instrument_ids=("pupil_perception",))
    site = Site(community=community, code="S1", name="School", kind="school")
    session.add(site)
    session.flush()
    version = session.scalar(
        select(InstrumentVersion).where(InstrumentVersion.instrument_id == "pupil_perception")
    )
    stored = store_response(
        session,
        response_id="3f2504e0-4f89-41d3-9a0c-0305e82c3301",
        wave=wave,
        version=version,
        channel="web",
        answers={"code_carer": "M", "year_group": "year7"},
        site=site,
        status="submitted",
    )
    assert stored.response is not None and stored.response.answers == {"year_group": "year7"}
    with pytest.raises(RowErrors, match="part of the identification code") as err:
        import_responses(
            session,
            wave=wave,
            instrument_id="pupil_perception",
            data=b"site,year_group,code_carer\nS1,year7,M\n",
            source="r.csv",
        )
    assert "r.csv: row 1, column code_carer" in str(err.value)
