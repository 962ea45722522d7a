"""The panel on the web and the command line: codes from the survey, linking, pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Community, Response
from surveys.models.panel import PanelCode, PanelLink
from surveys.services import get_or_create_community
from tests.panel_data import CURRENT, PREVIOUS, build_panel

pytestmark = pytest.mark.slow


def _start(client: Any, code: str) -> tuple[str, str]:
    reply = client.post("/start", data={"code": code})
    rid = reply.headers["Location"].split("/s/")[1].split("/")[0]
    page = client.get(f"/s/{rid}/intro").get_data(as_text=True)
    token = re.search(r'name="draft_token" value="([^"]+)"', page)
    assert token
    return rid, token.group(1)


def test_the_code_page_stores_digests_apart_from_the_answers(
    client: Any, session: Session, make_wave, make_site, make_class, make_code
) -> None:
    wave = make_wave()
    site = make_site("S1")
    code = make_code(wave, site, make_class(site))
    rid, token = _start(client, code.code)
    data = {"code_carer": "m", "code_day": "7", "code_siblings": "", "code_street": "H"}
    reply = client.post(f"/s/{rid}/q/your_code", data={**data, "draft_token": token})
    assert reply.status_code == 302
    session.rollback()
    stored = session.get(PanelCode, rid)
    assert stored is not None and stored.missing_parts == 1 and len(stored.digests) == 48
    response = session.get(Response, rid)
    assert response is not None and not set(response.answers) & set(data)
    # Going back shows nothing typed: code parts are never shown on any page.
    page = client.get(f"/s/{rid}/q/your_code").get_data(as_text=True)
    assert 'value="m"' not in page and 'value="7"' not in page
    # A bad part is refused with a message and not stored.
    reply = client.post(
        f"/s/{rid}/q/your_code", data={**data, "code_day": "45", "draft_token": token}
    )
    assert "from 1 to 31" in reply.get_data(as_text=True)


def test_core_team_links_a_wave_and_sees_report_and_paired_change(
    client: Any, session: Session, community: Community, login, make_user
) -> None:
    panel = build_panel(session, community)
    login(make_user("admin"))
    page = client.get(f"/results/{panel.current.id}/panel").get_data(as_text=True)
    assert "has not been linked" in page
    reply = client.post(
        f"/results/{panel.current.id}/panel/link", data={"previous": str(panel.previous.id)}
    )
    assert reply.status_code == 302
    page = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert f"Linked {len(panel.truth) - len(panel.typos['missing'])} of 76" in page
    assert f"Match report: {CURRENT} linked to {PREVIOUS}" in page
    assert "School S3" in page and "[c]" in page
    assert "▲ Improved" in page or "Improved" in page
    site = client.get(f"/results/{panel.current.id}/site/S1").get_data(as_text=True)
    assert "The same pupils a year on" in site
    assert "Change (whole school)" in site


def test_panel_pages_are_for_the_core_team_of_the_wave_only(
    client: Any, session: Session, community: Community, login, make_user
) -> None:
    panel = build_panel(session, community)
    login(make_user("school_staff", sites=(panel.schools["S1"],)))
    assert client.get(f"/results/{panel.current.id}/panel").status_code == 403
    assert (
        client.post(
            f"/results/{panel.current.id}/panel/link", data={"previous": panel.previous.id}
        ).status_code
        == 403
    )
    client.post("/logout")
    other = get_or_create_community(session, slug="elsewhere", name="Elsewhere")
    session.commit()
    outsider = make_user("admin")
    outsider.community_id = other.id
    session.commit()
    login(outsider)
    assert client.get(f"/results/{panel.current.id}/panel").status_code == 404
    reply = client.post(
        f"/results/{panel.current.id}/panel/link", data={"previous": str(panel.previous.id)}
    )
    assert reply.status_code == 404
    assert session.scalar(select(PanelLink.id).limit(1)) is None


def test_a_bad_previous_wave_is_a_400_or_a_message_not_a_500(
    client: Any, session: Session, community: Community, login, make_user
) -> None:
    panel = build_panel(session, community)
    login(make_user("admin"))
    url = f"/results/{panel.current.id}/panel/link"
    assert client.post(url, data={"previous": "x"}).status_code == 400
    assert client.post(url, data={"previous": "99999"}).status_code == 404
    reply = client.post(url, data={"previous": str(panel.current.id)}, follow_redirects=True)
    assert "cannot be linked to itself" in reply.get_data(as_text=True)


def test_cli_links_and_reports(run_cli, session: Session, community: Community) -> None:
    panel = build_panel(session, community)
    session.close()
    result = run_cli("panel", "report", "--wave", CURRENT)
    assert result.exit_code == 1 and "has not been linked" in result.output
    result = run_cli("panel", "link", "--wave", CURRENT, "--previous", PREVIOUS)
    assert result.exit_code == 0, result.output
    linked = len(panel.truth) - len(panel.typos["missing"])
    assert f"linked {linked} of 76 codes" in result.output
    assert f"exact {len(panel.typos['none'])}" in result.output
    assert len(panel.typos["missing"]) < 10  # below k: shown as [c], even in the total
    assert "incomplete code (links nothing) [c]" in result.output
    report = run_cli("panel", "report", "--wave", CURRENT)
    lines = [line.split("\t") for line in report.output.strip().splitlines()]
    assert lines[0][:4] == ["site", "name", "responses", "codes"]
    by_site = {row[0]: row for row in lines[1:]}
    assert by_site["S3"][lines[0].index("exact")] == "[c]"
    assert by_site["S1"][lines[0].index("responses")] == "40"
    bad = run_cli("panel", "link", "--wave", CURRENT, "--previous", "Nope")
    assert bad.exit_code == 1 and "no wave called 'Nope'" in bad.output
