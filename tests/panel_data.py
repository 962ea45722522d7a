"""A small linked panel for tests: two waves of one community, codes stored, truth known."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from instruments import load_builtin
from surveys.models import Community, InstrumentVersion, Response, SchoolClass, Site, Wave
from surveys.services import create_wave, set_wave_status
from surveys.services.panel.codes import community_key, store_codes

SECRET = "test-" + "k" * 40
PREVIOUS = "Autumn 2026"
CURRENT = "Autumn 2027"
LETTERS = "ABCDEFGHJKLMNPRSTW"


@dataclass
class Panel:
    previous: Wave
    current: Wave
    schools: dict[str, Site]
    #: Current response id -> previous response id of the same pupil.
    truth: dict[str, str] = field(default_factory=dict)
    #: Current response ids by what was done to their code.
    typos: dict[str, list[str]] = field(default_factory=dict)


def _answers(rng: np.random.Generator, year: int, belong: str | None = None) -> dict[str, Any]:
    return {
        "year_group": f"year{year}",
        "belong_school": belong
        or str(rng.choice(["strongly_agree", "agree", "not_sure", "disagree"])),
        "safe_school": str(rng.choice(["very_safe", "quite_safe", "not_very_safe"])),
    }


def _code(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "code_carer": str(rng.choice(list(LETTERS))),
        "code_day": int(rng.integers(1, 29)),
        "code_siblings": int(rng.integers(0, 4)),
        "code_street": str(rng.choice(list(LETTERS))),
    }


def build_panel(
    session: Session,
    community: Community,
    *,
    schools: tuple[tuple[str, int], ...] = (("S1", 40), ("S2", 30), ("S3", 6)),
    seed: int = 3,
    secret: str = SECRET,
) -> Panel:
    """Year 7 pupils in the previous wave; year 8 in the current, most of them the same.

    Per school: 80% return; of those, one in eight retypes one character of the code and
    one in sixteen leaves a question unanswered; the rest retype nothing. Returning pupils
    answer ``belong_school`` one step more positively (planted change).
    """
    rng = np.random.default_rng(seed)
    instrument = load_builtin("pupil_perception")
    version = session.scalar(
        select(InstrumentVersion.id).where(InstrumentVersion.instrument_id == "pupil_perception")
    )
    previous = create_wave(
        session, community=community, name=PREVIOUS, instrument_ids=("pupil_perception",)
    )
    set_wave_status(previous, "closed")
    current = create_wave(
        session,
        community=community,
        name=CURRENT,
        instrument_ids=("pupil_perception",),
        previous=PREVIOUS,
    )
    set_wave_status(current, "open")
    session.flush()
    panel = Panel(previous, current, {}, typos={"none": [], "one": [], "missing": []})
    key = community_key(secret, community.id)
    rows: list[dict[str, Any]] = []
    codes: dict[int, list[tuple[str, dict[str, Any]]]] = {previous.id: [], current.id: []}
    now = dt.datetime(2027, 10, 1, tzinfo=dt.UTC)
    steps = ["strongly_agree", "agree", "not_sure", "disagree"]
    for code_name, n in schools:
        site = Site(community=community, code=code_name, name=f"School {code_name}", kind="school")
        session.add(site)
        session.flush()
        panel.schools[code_name] = site
        classes = {}
        for year in (7, 8):
            classes[year] = SchoolClass(site_id=site.id, name=f"{year}A", year_group=year)
            session.add(classes[year])
        session.flush()
        last_year = []
        for _ in range(n):
            rid = str(uuid.uuid4())
            code = _code(rng)
            answers = _answers(rng, 7)
            last_year.append((rid, code, answers))
            rows.append(_row(rid, previous, site, classes[7], version, answers, now))
            codes[previous.id].append((rid, code))
        returning = int(0.8 * n)
        for index in range(n):
            rid = str(uuid.uuid4())
            if index < returning:
                old_id, old_code, old_answers = last_year[index]
                code = dict(old_code)
                before = steps.index(old_answers["belong_school"])
                answers = _answers(rng, 8, belong=steps[max(before - 1, 0)])
                panel.truth[rid] = old_id
                if index % 16 == 5:
                    code["code_street"] = None
                    panel.typos["missing"].append(rid)
                elif index % 8 == 3:
                    code["code_carer"] = "Z"
                    panel.typos["one"].append(rid)
                else:
                    panel.typos["none"].append(rid)
            else:
                code = _code(rng)  # a new pupil: three characters from any earlier code
                code.update(code_carer="Y", code_street="Y", code_day=30)
                answers = _answers(rng, 8)
            rows.append(_row(rid, current, site, classes[8], version, answers, now))
            codes[current.id].append((rid, code))
    session.execute(insert(Response), rows)
    for wave_id, wave_codes in codes.items():
        store_codes(session, key=key, instrument=instrument, wave_id=wave_id, codes=wave_codes)
    session.commit()
    return panel


def _row(
    rid: str,
    wave: Wave,
    site: Site,
    cls: SchoolClass,
    version: int | None,
    answers: dict[str, Any],
    now: dt.datetime,
) -> dict[str, Any]:
    return {
        "id": rid,
        "wave_id": wave.id,
        "site_id": site.id,
        "class_id": cls.id,
        "instrument_version_id": version,
        "channel": "class",
        "status": "submitted",
        "language": "en",
        "answers": answers,
        "submitted_at": now,
    }
