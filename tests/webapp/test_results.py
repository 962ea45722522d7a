"""Core team results pages: waves, sites, domains, exports, XLSForms (pack runs: test_results_pack_runs.py)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from instruments.loader import load_instrument
from surveys.models import AuditEntry, InstrumentVersion, Site, Wave
from tests.exports.community import Built, build_community

#: These tests build a community and analyse a wave (a second or more each).
pytestmark = pytest.mark.slow


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return {**app_config, "PACKS_DIR": str(tmp_path / "packs"), "PACK_JOBS": 1}


@pytest.fixture
def built(session: Session, community: Any) -> Built:
    return build_community(session, slug=community.slug)


@pytest.fixture
def wave_id(session: Session, built: Built) -> int:
    return session.scalar(select(Wave.id).where(Wave.name == built.wave))


def test_wave_page_lists_schools_areas_and_notes(client, login, make_user, wave_id) -> None:
    login(make_user("admin"))
    page = client.get(f"/results/{wave_id}/").get_data(as_text=True)
    for name in ("Riverside Primary School", "Northgate High School", "Canal Side"):
        assert name in page
    assert "Tiny Meadow School: 12 responses: fewer than 20" in page
    assert f"/results/{wave_id}/export/sav/pupil_perception" in page


def test_site_area_community_and_domain_pages(client, login, make_user, wave_id) -> None:
    login(make_user("admin"))
    school = client.get(f"/results/{wave_id}/site/S01").get_data(as_text=True)
    assert "▲ Higher" in school and "[c]" in school
    area = client.get(f"/results/{wave_id}/site/A1").get_data(as_text=True)
    assert "Design effect" in area
    assert client.get(f"/results/{wave_id}/site/community").status_code == 200
    domain = client.get(f"/results/{wave_id}/domain/safety").get_data(as_text=True)
    assert "Hillcrest Academy" in domain and "How safe do you feel at school?" in domain
    assert client.get(f"/results/{wave_id}/domain/nonsense").status_code == 404
    assert client.get(f"/results/{wave_id}/site/S05").status_code == 200  # a note only
    assert client.get(f"/results/{wave_id}/site/ZZZ").status_code == 404


def test_results_are_for_the_core_team_only(client, login, session, make_user, wave_id) -> None:
    site = session.scalar(select(Site).where(Site.code == "S01"))
    login(make_user("school_staff", sites=(site,)))
    assert client.get("/results/").status_code == 403
    assert client.get(f"/results/{wave_id}/site/S01").status_code == 403
    assert client.get(f"/results/{wave_id}/export/csv").status_code == 403


def test_export_download_is_a_zip_with_codebook(client, login, session, make_user, wave_id) -> None:
    login(make_user("admin"))
    response = client.get(f"/results/{wave_id}/export/xlsx/resident_baseline")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == [
        "spring-2027-resident_baseline-codebook.csv",
        "spring-2027-resident_baseline.xlsx",
    ]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "export"))
    assert entry.detail == {
        "format": "xlsx",
        "instrument": "resident_baseline",
        "files": 2,
        "labels": False,
        "via": "web",
    }
    response = client.get(f"/results/{wave_id}/export/csv/pupil_perception?labels=1")
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert "spring-2027-pupil_perception-labels.csv" in archive.namelist()
    data = archive.read("spring-2027-pupil_perception-labels.csv").decode()
    assert "Prefer not to say" in data
    assert client.get(f"/results/{wave_id}/export/sav?labels=1").status_code == 404
    page = client.get(f"/results/{wave_id}/").get_data(as_text=True)
    assert f"/results/{wave_id}/export/xlsx/pupil_perception?labels=1" in page
    assert client.get(f"/results/{wave_id}/export/pdf").status_code == 404
    assert client.get(f"/results/{wave_id}/export/csv/nope").status_code == 404


def test_xlsform_downloads(client, login, session, make_user, built) -> None:
    login(make_user("admin"))
    version = session.scalar(
        select(InstrumentVersion).where(InstrumentVersion.instrument_id == "resident_baseline")
    )
    index = client.get("/results/").get_data(as_text=True)
    assert f"/results/instruments/{version.id}/xlsform.xlsx" in index
    source = client.get(f"/results/instruments/{version.id}/xlsform")
    assert source.data == version.source
    converted = client.get(f"/results/instruments/{version.id}/xlsform.xlsx")
    book = load_workbook(io.BytesIO(converted.data), read_only=True)
    assert {"survey", "choices", "settings"} <= set(book.sheetnames)
    again = load_instrument(converted.data, file_type=".xlsx", name="converted")
    assert again.id == "resident_baseline"
    assert [i.name for i in again.items] == [
        i.name for i in load_instrument(version.source, file_type=".md", name="stored").items
    ]


def test_two_communities_with_a_wave_of_the_same_name_never_mix(
    client, login, session, make_user, wave_id, built, tmp_path
) -> None:
    """One database, two communities, both with a "Spring 2027": each sees its own."""
    from exports.dataset import ExportError, find_wave
    from exports.packs import build_contexts
    from surveys.models import Community
    from surveys.services import create_user

    build_community(
        session,
        slug="tower",
        schools=(("T01", "Tower Primary School", 45), ("T02", "Tower Hill Academy", 40)),
        areas=(),
        previous_wave=False,
        seed=3,
    )
    tower = session.scalar(select(Community).where(Community.slug == "tower"))
    tower_wave = session.scalar(
        select(Wave).where(Wave.community_id == tower.id, Wave.name == built.wave)
    )
    assert tower_wave is not None and tower_wave.id != wave_id
    with pytest.raises(ExportError, match="2 waves are called 'Spring 2027'"):
        find_wave(session, built.wave)  # by name, as the command line does: refused
    contexts, _ = build_contexts(session, tower_wave)
    assert {c["site"] for c in contexts} == {"T01", "T02"}  # Tower's schools only

    admin = create_user(
        session,
        community=tower,
        email="tower@example.org",
        password="a long pass phrase",
        role="admin",
    )
    session.commit()
    login(admin, password="a long pass phrase")
    page = client.get(f"/results/{tower_wave.id}/").get_data(as_text=True)
    assert "Tower Primary School" in page and "Riverside Primary School" not in page
    assert client.get(f"/results/{wave_id}/").status_code == 404  # the other community's
    reply = client.get(f"/results/{tower_wave.id}/export/csv/pupil_perception")
    archive = zipfile.ZipFile(io.BytesIO(reply.data))
    rows = archive.read("spring-2027-pupil_perception.csv").decode().strip().splitlines()
    assert len(rows) - 1 == 45 + 40  # Tower's pupils only
