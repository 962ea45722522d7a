"""A realistic fixture community for pack and export tests (and the pack benchmark).

Schools with classes in years 5-11, pupils answering the built-in pupil survey from a
model with school effects (one school much higher on safety, one lower on belonging),
realistic skips, two waves; areas with residents answering the residents' survey.
Everything comes from a seeded RNG so figures are reproducible.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from instruments.builtin import load_builtin
from surveys.models import Community, InstrumentVersion, Response, SchoolClass, Site, Wave
from surveys.services import (
    create_wave,
    ensure_builtin_instruments,
    get_or_create_community,
    set_wave_status,
)

WAVE = "Spring 2027"
PREVIOUS = "Spring 2026"


@dataclass
class Built:
    """What was made: wave names and the site codes with their response counts."""

    wave: str = WAVE
    previous: str = PREVIOUS
    schools: dict[str, int] = field(default_factory=dict)
    areas: dict[str, int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)


#: School effects on the log-odds of a positive answer, per domain.
EFFECTS = {"S01": {"safety": 1.6}, "S02": {"belonging": -1.4, "wellbeing": -0.8}}


def _answer(rng: np.random.Generator, item, effect: float) -> object:
    names = [c.name for c in item.choices if not c.missing]
    if item.type == "select_multiple":
        chosen = [n for n in names if n != "none" and rng.random() < 0.35]
        return chosen or ["none"] if "none" in names else chosen or [names[0]]
    positive = [n for n in names if n in item.positive]
    other = [n for n in names if n not in item.positive]
    p = 1 / (1 + np.exp(-(0.3 + effect)))
    pool = positive if (rng.random() < p and positive) or not other else other
    return str(pool[int(rng.integers(len(pool)))])


def _pupil_answers(rng, instrument, code: str, year: int) -> dict[str, object]:
    answers: dict[str, object] = {
        "year_group": f"year{year}",
        "gender": str(rng.choice(["girl", "boy", "girl", "boy", "another_way", "pnts"])),
    }
    for item in instrument.answerable_items:
        if item.name in answers or item.type == "text" or item.name == "told_someone":
            continue
        if item.name == "activities_often" and answers.get("activities") == ["none"]:
            continue
        if rng.random() < 0.04:  # skipped
            continue
        answers[item.name] = _answer(rng, item, EFFECTS.get(code, {}).get(item.domain, 0.0))
    return answers


def _resident_answers(rng, instrument, effect: float) -> dict[str, object]:
    answers: dict[str, object] = {
        "age_band": str(rng.choice(["16-24", "25-34", "35-44", "45-54", "55-64", "65+"])),
        "sex": str(rng.choice(["female", "male"])),
        "tenure": str(rng.choice(["owner", "social_rent", "private_rent"])),
    }
    for item in instrument.answerable_items:
        if item.name in answers or item.type in ("text", "integer"):
            continue
        if rng.random() < 0.05:
            continue
        answers[item.name] = _answer(rng, item, effect)
    return answers


def build_community(
    session: Session,
    *,
    schools: Sequence[tuple[str, str, int]] = (
        ("S01", "Riverside Primary School", 120),
        ("S02", "Hillcrest Academy", 90),
        ("S03", "St Anne's CofE Primary", 60),
        ("S04", "Northgate High School", 150),
        ("S05", "Tiny Meadow School", 12),
    ),
    areas: Sequence[tuple[str, str, int]] = (
        ("A1", "Canal Side", 70),
        ("A2", "Market Ward", 55),
        ("A3", "Old Quarry", 8),
    ),
    seed: int = 7,
    previous_wave: bool = True,
    slug: str = "riverside",
) -> Built:
    """Create the community, sites, classes, both waves and all responses; commit."""
    rng = np.random.default_rng(seed)
    community = get_or_create_community(session, slug=slug, name="Riverside Children's Community")
    ensure_builtin_instruments(session)
    session.flush()
    pupil = load_builtin("pupil_perception")
    resident = load_builtin("resident_baseline")
    version = {v.instrument_id: v.id for v in session.scalars(select(InstrumentVersion))}
    waves: list[Wave] = []
    if previous_wave:
        prev = create_wave(
            session,
            community=community,
            name=PREVIOUS,
            instrument_ids=("pupil_perception", "resident_baseline"),
        )
        set_wave_status(prev, "closed")
        waves.append(prev)
    current = create_wave(
        session,
        community=community,
        name=WAVE,
        instrument_ids=("pupil_perception", "resident_baseline", "peer_interview"),
        previous=PREVIOUS if previous_wave else None,
    )
    set_wave_status(current, "open")
    waves.append(current)
    built = Built()
    rows: list[dict[str, object]] = []
    now = dt.datetime(2027, 3, 1, 10, tzinfo=dt.UTC)
    for code, name, n in schools:
        site = Site(
            community=community, code=code, name=name, kind="school", population=int(n * 1.3) + 5
        )
        session.add(site)
        session.flush()
        classes = []
        for year in (5, 6, 7, 8, 9, 10, 11):
            cls = SchoolClass(site_id=site.id, name=f"{year}A", year_group=year, size=30)
            session.add(cls)
            classes.append(cls)
        session.flush()
        built.schools[code] = n
        built.names[code] = name
        for wave in waves:
            count = n if wave is current else max(0, n - 10)
            for _ in range(count):
                cls = classes[int(rng.integers(len(classes)))]
                rows.append(
                    {
                        "id": str(uuid.uuid4()),
                        "wave_id": wave.id,
                        "site_id": site.id,
                        "class_id": cls.id,
                        "instrument_version_id": version["pupil_perception"],
                        "channel": "class",
                        "status": "submitted",
                        "language": "en",
                        "answers": _pupil_answers(rng, pupil, code, cls.year_group),
                        "submitted_at": now,
                    }
                )
    for index, (code, name, n) in enumerate(areas):
        site = Site(community=community, code=code, name=name, kind="area", population=n * 12)
        session.add(site)
        session.flush()
        built.areas[code] = n
        built.names[code] = name
        rows.extend(
            {
                "id": str(uuid.uuid4()),
                "wave_id": current.id,
                "site_id": site.id,
                "class_id": None,
                "instrument_version_id": version["resident_baseline"],
                "channel": "web",
                "status": "submitted",
                "language": "en",
                "answers": _resident_answers(rng, resident, 0.5 * (index - 1)),
                "submitted_at": now,
            }
            for _ in range(n)
        )
    if rows:
        session.execute(insert(Response), rows)
    session.commit()
    assert isinstance(community, Community)
    return built
