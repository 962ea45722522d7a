"""School staff pages: their own school's results and pack, never another school's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import AuditEntry, Site, User
from tests.exports.community import Built, build_community

#: These tests build a community and analyse a wave (a second or more each).
pytestmark = pytest.mark.slow


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return {**app_config, "PACKS_DIR": str(tmp_path / "packs")}


@pytest.fixture
def built(session: Session, community: Any) -> Built:
    return build_community(session, slug=community.slug)


def _staff(session: Session, make_user: Any, code: str) -> User:
    site = session.scalar(select(Site).where(Site.code == code))
    return make_user("school_staff", sites=(site,))


def test_home_lists_only_own_school(client, login, session, make_user, built) -> None:
    login(_staff(session, make_user, "S02"))
    page = client.get("/school/").get_data(as_text=True)
    assert "Hillcrest Academy" in page
    assert "Riverside Primary School" not in page
    assert "/school/S02/pack.pdf" in page


def test_results_show_the_packs_figures(client, login, session, make_user, built) -> None:
    login(_staff(session, make_user, "S01"))
    response = client.get("/school/S01/results")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Riverside Primary School" in page and "Feeling safe" in page
    assert "▲ Higher" in page  # S01 was built much safer than the other schools
    assert "[c]" in page  # small year groups are hidden, as in the pack
    assert "<svg" in page and "style=" not in page


@pytest.mark.parametrize(
    "path",
    [
        "/school/S01/results",
        "/school/S01/pack.pdf",
        "/school/S01/results?wave=Spring+2027",
        "/school/A1/results",  # an area is not a school
        "/school/NOPE/pack.pdf",
        "/school/S02/results?wave=No+such+wave",
    ],
)
def test_another_schools_anything_is_404(client, login, session, make_user, built, path) -> None:
    login(_staff(session, make_user, "S02"))
    assert client.get(path).status_code == 404


def test_pack_download_is_audit_logged(client, login, session, make_user, built) -> None:
    user = _staff(session, make_user, "S02")
    login(user)
    response = client.get("/school/S02/pack.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert "spring-2027-S02.pdf" in response.headers["Content-Disposition"]
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "pack_download")).all()
    assert [(e.user_id, e.object_id, e.detail["wave"]) for e in entries] == [
        (user.id, "S02", "Spring 2027")
    ]


def test_a_small_school_gets_a_short_pack_and_its_link_works(
    client, login, session, make_user, built
) -> None:
    login(_staff(session, make_user, "S05"))
    home = client.get("/school/").get_data(as_text=True)
    assert "/school/S05/pack.pdf" in home
    page = client.get("/school/S05/results").get_data(as_text=True)
    assert "fewer than the 20 a full pack needs" in page and "Domain score" in page
    assert "By year group" not in page  # breakdowns are held back
    response = client.get("/school/S05/pack.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_signed_out_and_other_roles(client, login, make_user, built) -> None:
    assert client.get("/school/S01/results").status_code == 302
    login(make_user("coder"))
    assert client.get("/school/").status_code == 403
