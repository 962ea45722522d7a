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
    assert entry.detail == {"format": "xlsx", "instrument": "resident_baseline", "files": 2}
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
