"""The organisation list and the partnership network read from responses."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import networkx as nx
import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.errors import RowErrors, ServiceError
from surveys.models import Community, InstrumentVersion, Organisation, Response, Wave
from surveys.services.network import (
    edges_csv,
    graphml_bytes,
    import_organisations,
    parse_organisations_csv,
    wave_network,
)

ORGS = b"code,name,kind\nORG01,Riverside Primary,school\nORG02,Family Hub,service\nORG03,Food Bank,voluntary\n"


@pytest.fixture
def partnership_wave(make_wave: Callable[..., Wave]) -> Wave:
    return make_wave("Spring 2027", instruments=("partnership",))


def respond(session: Session, wave: Wave, answers: dict[str, Any], minute: int = 0) -> Response:
    version = session.scalar(
        select(InstrumentVersion).where(InstrumentVersion.instrument_id == "partnership")
    )
    assert version is not None
    response = Response(
        wave_id=wave.id,
        instrument_version_id=version.id,
        channel="web",
        status="submitted",
        answers=answers,
        submitted_at=dt.datetime(2027, 3, 1, 9, minute, tzinfo=dt.UTC),
    )
    session.add(response)
    session.commit()
    return response


def load(session: Session, community: Community, data: bytes = ORGS) -> None:
    import_organisations(
        session, community=community, rows=parse_organisations_csv(data, source="orgs.csv")
    )
    session.commit()


def test_bad_organisation_rows_are_named_by_row_and_column() -> None:
    data = b"code,name,kind\nORG01,,school\nORG01,Again,school\n,X,hospital\n"
    with pytest.raises(RowErrors) as caught:
        parse_organisations_csv(data, source="orgs.csv")
    assert caught.value.problems == [
        "orgs.csv: row 2, column name: is empty",
        "orgs.csv: row 3, column code: 'ORG01' is also on row 2",
        "orgs.csv: row 4, column code: is empty",
        "orgs.csv: row 4, column kind: 'hospital' is not one of school, early_years,"
        " service, health, voluntary, residents, other",
    ]
    with pytest.raises(ServiceError, match="missing column"):
        parse_organisations_csv(b"code,title\nA,B\n", source="orgs.csv")
    with pytest.raises(ServiceError, match="no data rows"):
        parse_organisations_csv(b"code,name,kind\n", source="orgs.csv")


def test_import_adds_new_codes_and_updates_known_ones(
    session: Session, community: Community
) -> None:
    load(session, community)
    rows = parse_organisations_csv(
        b"code,name,kind\norg02,Family Hub North,service\nORG04,GP surgery,health\n",
        source="more.csv",
    )
    assert import_organisations(session, community=community, rows=rows) == (1, 1)
    session.commit()
    names = dict(session.execute(select(Organisation.code, Organisation.name)).all())
    assert names == {
        "ORG01": "Riverside Primary",
        "ORG02": "Family Hub North",
        "ORG03": "Food Bank",
        "ORG04": "GP surgery",
    }


def test_ties_are_read_by_code_or_name_with_their_ratings(
    session: Session, community: Community, partnership_wave: Wave
) -> None:
    load(session, community)
    respond(
        session,
        partnership_wave,
        {
            "organisation": "org01",
            "partner_1": "Family  hub",
            "frequency_1": "weekly",
            "trust_1": "mostly",
            "value_1": "a_lot",
            "partner_2": "ORG03",
            "trust_2": "completely",
        },
    )
    found = wave_network(session, partnership_wave)
    assert found.review == [] and found.responses == 1
    ties = found.ties.set_index("target")
    assert ties.loc["ORG02", ["frequency", "trust", "value"]].tolist() == [4.0, 3.0, 4.0]
    assert ties.loc["ORG03", "trust"] == 4.0 and pd.isna(ties.loc["ORG03", "value"])
    assert found.organisations.set_index("code")["responded"].to_dict() == {
        "ORG01": True,
        "ORG02": False,
        "ORG03": False,
    }


def test_an_unknown_organisation_is_kept_for_review_then_mapped_when_added(
    session: Session, community: Community, partnership_wave: Wave
) -> None:
    load(session, community)
    response = respond(
        session,
        partnership_wave,
        {"organisation": "ORG01", "partner_1": "ORG02", "partner_2": "Youth Club"},
    )
    stranger = respond(
        session, partnership_wave, {"organisation": "Library", "partner_1": "ORG01"}, 1
    )
    found = wave_network(session, partnership_wave)
    assert [(r.response_id, r.question, r.text, r.reason) for r in found.review] == [
        (stranger.id, "organisation", "Library", "unknown organisation"),
        (response.id, "partner_2", "Youth Club", "unknown organisation"),
    ]
    assert list(zip(found.ties["source"], found.ties["target"], strict=True)) == [
        ("ORG01", "ORG02")
    ]
    assert session.scalar(select(func.count(Response.id))) == 2  # nothing dropped
    load(session, community, b"code,name,kind\nORG05,Youth Club,voluntary\nLIB,Library,other\n")
    again = wave_network(session, partnership_wave)
    assert again.review == []
    assert set(zip(again.ties["source"], again.ties["target"], strict=True)) == {
        ("ORG01", "ORG02"),
        ("ORG01", "ORG05"),
        ("LIB", "ORG01"),
    }


def test_an_organisation_answering_twice_counts_once(
    session: Session, community: Community, partnership_wave: Wave
) -> None:
    load(session, community)
    first = respond(session, partnership_wave, {"organisation": "ORG01", "partner_1": "ORG02"})
    respond(session, partnership_wave, {"organisation": "ORG01", "partner_1": "ORG03"}, 5)
    found = wave_network(session, partnership_wave)
    assert found.ties["target"].tolist() == ["ORG03"]
    assert [(r.response_id, r.reason) for r in found.review] == [(first.id, "answered again later")]


def test_another_communitys_organisations_are_not_matched(
    session: Session, community: Community, partnership_wave: Wave
) -> None:
    other = Community(slug="elsewhere", name="Elsewhere")
    session.add(other)
    session.flush()
    session.add(Organisation(community_id=other.id, code="ORG09", name="Far Away", kind="other"))
    load(session, community)
    respond(session, partnership_wave, {"organisation": "ORG01", "partner_1": "ORG09"})
    found = wave_network(session, partnership_wave)
    assert "ORG09" not in set(found.organisations["code"])
    assert [r.text for r in found.review] == ["ORG09"]


def test_exports_parse_back(session: Session, community: Community, partnership_wave: Wave) -> None:
    load(session, community)
    respond(
        session,
        partnership_wave,
        {"organisation": "ORG01", "partner_1": "ORG02", "trust_1": "a_little"},
    )
    respond(session, partnership_wave, {"organisation": "ORG02", "partner_1": "ORG01"}, 1)
    found = wave_network(session, partnership_wave)
    graph = nx.read_graphml(io.BytesIO(graphml_bytes(found)))
    assert set(graph.nodes) == {"ORG01", "ORG02", "ORG03"}
    assert set(graph.edges) == {("ORG01", "ORG02"), ("ORG02", "ORG01")}
    assert graph.edges["ORG01", "ORG02"]["trust"] == 2.0
    assert "trust" not in graph.edges["ORG02", "ORG01"]
    assert graph.nodes["ORG03"]["kind"] == "voluntary"
    assert graph.nodes["ORG03"]["responded"] is False
    edges = pd.read_csv(io.StringIO(edges_csv(found)))
    assert edges.columns.tolist() == [
        "source",
        "target",
        "source_name",
        "target_name",
        "frequency",
        "trust",
        "value",
    ]
    assert edges.iloc[0].to_dict()["source_name"] == "Riverside Primary"
    assert len(edges) == 2
