"""The partnership map page, its downloads, the organisations page and the CLI commands."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import AuditEntry, Community, Organisation, Wave
from surveys.services import create_wave
from surveys.services.network import import_organisations, parse_organisations_csv
from tests.surveys.test_network_data import respond

pytestmark = pytest.mark.usefixtures("fast_passwords")

ORGS = (
    b"code,name,kind\nORG01,Riverside Primary,school\nORG02,Family Hub,service\n"
    b"ORG03,Food Bank,voluntary\nORG04,GP Surgery,health\n"
)


@pytest.fixture
def waves(session: Session, community: Community, make_wave: Callable[..., Wave]) -> Wave:
    """Two partnership waves: ORG01->ORG03 is lost, ORG01->ORG04 new, ORG01->ORG02 kept."""
    rows = parse_organisations_csv(ORGS, source="orgs.csv")
    import_organisations(session, community=community, rows=rows)
    before = make_wave("Spring 2026", instruments=("partnership",), status="closed")
    respond(session, before, {"organisation": "ORG01", "partner_1": "ORG02", "partner_2": "ORG03"})
    respond(session, before, {"organisation": "ORG02", "partner_1": "ORG01"}, 1)
    after = make_wave("Spring 2027", instruments=("partnership",), previous="Spring 2026")
    respond(
        session,
        after,
        {
            "organisation": "ORG01",
            "partner_1": "ORG02",
            "trust_1": "completely",
            "partner_2": "ORG04",
            "partner_3": "Youth Club",
        },
    )
    respond(session, after, {"organisation": "ORG02", "partner_1": "ORG01"}, 1)
    return after


def test_the_page_shows_both_maps_the_change_and_names_to_review(
    client, login, make_user, waves: Wave
) -> None:
    login(make_user("admin"))
    page = client.get(f"/results/{waves.id}/network").get_data(as_text=True)
    assert page.count("<svg") == 2
    assert '<title id="map-current-title">Partnership map, Spring 2027</title>' in page
    assert "1 new ties, 1 lost and 2 kept" in page
    assert "“Youth Club” (partner 3" in page and "Names that need review" in page
    assert "Riverside Primary" in page and "GP Surgery" in page
    wave_page = client.get(f"/results/{waves.id}/").get_data(as_text=True)
    assert f"/results/{waves.id}/network" in wave_page


def test_downloads_parse_back_and_are_audit_logged(
    client, login, make_user, session: Session, waves: Wave
) -> None:
    login(make_user("admin"))
    graphml = client.get(f"/results/{waves.id}/network/graphml")
    assert graphml.status_code == 200
    assert "spring-2027-network.graphml" in graphml.headers["Content-Disposition"]
    graph = nx.read_graphml(io.BytesIO(graphml.data))
    assert set(graph.edges) == {("ORG01", "ORG02"), ("ORG01", "ORG04"), ("ORG02", "ORG01")}
    edges = client.get(f"/results/{waves.id}/network/edges").get_data(as_text=True)
    assert edges.splitlines()[0] == "source,target,source_name,target_name,frequency,trust,value"
    assert "ORG01,ORG02,Riverside Primary,Family Hub,,4,\n" in edges
    assert client.get(f"/results/{waves.id}/network/pdf").status_code == 404
    logged = session.scalars(select(AuditEntry).where(AuditEntry.action == "network_export")).all()
    assert sorted(e.detail["format"] for e in logged) == ["edges", "graphml"]


def test_only_the_core_team_of_the_community_sees_the_network(
    client, login, make_user, make_site, session: Session, waves: Wave
) -> None:
    assert client.get(f"/results/{waves.id}/network").status_code == 302  # sign in first
    other = Community(slug="elsewhere", name="Elsewhere")
    session.add(other)
    session.flush()
    theirs = create_wave(session, community=other, name="Theirs", instrument_ids=("partnership",))
    session.commit()
    staff = make_user("school_staff", sites=(make_site("S01"),))
    login(staff)
    assert client.get(f"/results/{waves.id}/network").status_code == 403
    assert client.get(f"/results/{waves.id}/network/graphml").status_code == 403
    client.post("/logout")
    login(make_user("admin"))
    assert client.get(f"/results/{theirs.id}/network").status_code == 404
    assert client.get(f"/results/{theirs.id}/network/edges").status_code == 404
    assert client.get("/results/99999/network").status_code == 404


def test_cli_imports_organisations_and_exports_the_network(
    run_cli, session: Session, waves: Wave, tmp_path: Path
) -> None:
    file = tmp_path / "more.csv"
    file.write_text("code,name,kind\nORG05,Youth Club,voluntary\nORG06,,school\n")
    result = run_cli("organisations", "import", str(file))
    assert result.exit_code == 1
    assert "error: more.csv: row 3, column name: is empty" in result.output
    file.write_text("code,name,kind\nORG05,Youth Club,voluntary\n")
    dry = run_cli("organisations", "import", str(file), "--dry-run")
    assert "1 would be added" in dry.output
    session.expire_all()
    assert session.scalar(select(Organisation).where(Organisation.code == "ORG05")) is None
    assert "1 were added" in run_cli("organisations", "import", str(file)).output
    listed = run_cli("organisations", "list").output.splitlines()
    assert listed[0] == "code,name,kind" and "ORG05,Youth Club,voluntary" in listed
    out = tmp_path / "net.graphml"
    result = run_cli(
        "network", "export", "--wave", "Spring 2027", "--format", "graphml", "--output", str(out)
    )
    assert result.exit_code == 0, result.output
    graph = nx.read_graphml(out)
    assert ("ORG01", "ORG05") in graph.edges  # mapped once the organisation was added
    csv_out = tmp_path / "net.csv"
    result = run_cli("network", "export", "--wave", "Spring 2027", "--output", str(csv_out))
    assert "4 ties among 5 organisations (2 responded)" in result.output
    assert csv_out.read_text().count("\n") == 5
    bad = run_cli("network", "export", "--wave", "Nope")
    assert bad.exit_code == 1 and "error:" in bad.output


def test_the_partnership_pack_is_a_tagged_pdf_with_the_tables(
    client, login, make_user, session: Session, waves: Wave, run_cli, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    login(make_user("admin"))
    response = client.get(f"/results/{waves.id}/network/pack.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert "/StructTreeRoot" in reader.trailer["/Root"]
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Riverside Primary" in text and "GP Surgery" in text
    assert "1 new ties, 1 lost, 2 kept" in text
    assert "Youth Club" in text  # the name that needs review
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "network_pack_download"))
    assert entry is not None and entry.object_id == str(waves.id)
    out = tmp_path / "pack.pdf"
    result = run_cli("network", "pack", "--wave", "Spring 2027", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert len(PdfReader(out).pages) >= 3


def test_the_admin_page_lists_and_uploads_organisations(
    client, login, make_user, session: Session, community: Community
) -> None:
    login(make_user("admin"))
    assert "No partner organisations yet." in client.get("/admin/organisations").get_data(
        as_text=True
    )
    bad = b"code,name,kind\nORG01,Riverside Primary,school\nORG02,,castle\n"
    page = client.post(
        "/admin/organisations",
        data={"csv-file": (io.BytesIO(bad), "orgs.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "orgs.csv: row 3, column name: is empty" in page
    assert "row 3, column kind: &#39;castle&#39; is not one of" in page
    session.rollback()
    assert session.scalars(select(Organisation)).all() == []  # nothing from the bad file
    reply = client.post(
        "/admin/organisations",
        data={"csv-file": (io.BytesIO(ORGS), "orgs.csv")},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 302
    page = client.get("/admin/organisations").get_data(as_text=True)
    assert "GP Surgery" in page and "4 organisations added and 0 updated." in page
    session.rollback()
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "organisations_import"))
    assert entry is not None and entry.detail == {"added": 4, "updated": 0}


def test_an_organisation_answers_the_partnership_survey_and_appears_on_the_map(
    client, session: Session, community: Community, make_site, make_wave, make_code
) -> None:
    from tests.webapp.test_take import TOKEN, post_page, start

    import_organisations(
        session, community=community, rows=parse_organisations_csv(ORGS, source="orgs.csv")
    )
    wave = make_wave("Spring 2027", instruments=("partnership",))
    code = make_code(wave, make_site("A1", kind="area"), kind="token", instrument="partnership")
    rid = start(client, code.code)
    intro = client.get(f"/s/{rid}/intro").get_data(as_text=True)
    assert "answering for your organisation" in intro and "postcode" not in intro
    first = client.get(f"/s/{rid}/q/organisation").get_data(as_text=True)
    found = TOKEN.search(first)
    assert found is not None and "Which organisation are you answering for?" in first
    token = found.group(1)
    assert (
        post_page(client, rid, "organisation", {"organisation": "ORG01"}, token).status_code == 302
    )
    assert post_page(client, rid, "partner_count", {"partner_count": "3"}, token).status_code == 302
    page = client.get(f"/s/{rid}/q/tie_1").get_data(as_text=True)
    assert "Organisation 1 you work with" in page
    reply = post_page(client, rid, "tie_1", {"partner_1": "Food Bank"}, token)
    assert reply.status_code == 302
    page = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "How much do you trust this organisation" in page


@pytest.mark.parametrize("lang", ["0", "x-y", "en", ""])
def test_a_nonsense_lang_query_is_ignored_not_a_500(client, login, make_user, lang: str) -> None:
    login(make_user("admin"))
    assert client.get(f"/results/?lang={lang}").status_code == 200
    assert client.get(f"/results/99999/network?lang={lang}").status_code == 404
