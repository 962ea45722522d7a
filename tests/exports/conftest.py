"""Fixtures for pack and export tests: a realistic community and a tiny designed one."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from surveys.models import InstrumentVersion, Response, SchoolClass, Site
from surveys.services import (
    create_wave,
    ensure_builtin_instruments,
    get_or_create_community,
    set_wave_status,
)
from tests.exports.community import Built, build_community

#: The designed community: its suppressed cell's true value, which must never be printed.
HIDDEN_VALUE = "75%"


@pytest.fixture
def built(session: Session, db_url: str) -> Built:
    """The realistic fixture community (five schools, three areas, two waves)."""
    return build_community(session)


def _pupil(wave_id: int, site_id: int, class_id: int, version: int, **answers: Any) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "wave_id": wave_id,
        "site_id": site_id,
        "class_id": class_id,
        "instrument_version_id": version,
        "channel": "class",
        "status": "submitted",
        "language": "en",
        "answers": answers,
        "submitted_at": dt.datetime(2027, 3, 1, tzinfo=dt.UTC),
    }


@pytest.fixture
def designed(session: Session, db_url: str) -> dict[str, Any]:
    """Two schools, one question, figures chosen so a hidden cell has a unique value.

    Ash: 36 pupils in year 7 (18 feel very safe: 50%) and 4 in year 11 (3 of 4: 75%,
    hidden as fewer than 10); 21 of 40 overall (52.5%). Birch: 40 pupils in year 7, 20
    feel safe (50%). Nothing else in Ash's pack can read 75%.
    """
    community = get_or_create_community(session, slug="designed", name="Designed Community")
    ensure_builtin_instruments(session)
    wave = create_wave(
        session, community=community, name="Autumn 2027", instrument_ids=("pupil_perception",)
    )
    set_wave_status(wave, "open")
    version = session.scalar(
        select(InstrumentVersion.id).where(InstrumentVersion.instrument_id == "pupil_perception")
    )
    ash = Site(
        community=community, code="ASH", name="Ash Grove Primary", kind="school", population=50
    )
    birch = Site(community=community, code="BIRCH", name="Birch Lane School", kind="school")
    session.add_all([ash, birch])
    session.flush()
    classes = {}
    for site in (ash, birch):
        for year in (7, 11):
            cls = SchoolClass(site_id=site.id, name=f"{year}X", year_group=year)
            session.add(cls)
            session.flush()
            classes[(site.code, year)] = cls.id
    plan = [  # (site, year, gender, answers)
        *[(ash, 7, "girl", "very_safe" if i < 18 else "not_very_safe") for i in range(36)],
        *[(ash, 11, "girl", "very_safe" if i < 3 else "not_safe") for i in range(4)],
        *[(birch, 7, "boy", "quite_safe" if i < 20 else "not_very_safe") for i in range(40)],
    ]
    rows = [
        _pupil(
            wave.id,
            site.id,
            classes[(site.code, year)],
            version,
            year_group=f"year{year}",
            gender=gender,
            safe_school=answer,
        )
        for site, year, gender, answer in plan
    ]
    session.execute(insert(Response), rows)
    session.commit()
    return {"wave": "Autumn 2027", "site": "ASH", "name": "Ash Grove Primary"}
