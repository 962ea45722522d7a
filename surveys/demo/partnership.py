"""The demo's partnership network: 25 partner organisations answering in both waves.

The ties come from a seeded generator with planted change between the waves: the new
youth hub (ORG21) and the schools start working together, the food bank (ORG16) loses
its ties to two schools, the police team (ORG24) stops answering, the community
association (ORG25) answers for the first time, and one 2027 answer names a group that is
not on the list yet (kept for review).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from surveys.models import Community, InstrumentVersion, Organisation, Response, Wave

__all__ = ["ORGANISATIONS", "UNLISTED", "add_partnership"]

#: (code, name, kind) of the demo's partner organisations.
ORGANISATIONS = (
    ("ORG01", "Brook Lane Primary", "school"),
    ("ORG02", "Orchard Grove Primary", "school"),
    ("ORG03", "Canal Street Primary", "school"),
    ("ORG04", "Harbour Road Primary", "school"),
    ("ORG05", "Hollins Academy", "school"),
    ("ORG06", "Riverside High School", "school"),
    ("ORG07", "Northgate Nursery", "early_years"),
    ("ORG08", "Little Steps Children's Centre", "early_years"),
    ("ORG09", "Family Hub", "service"),
    ("ORG10", "Early Help Team", "service"),
    ("ORG11", "Youth Service", "service"),
    ("ORG12", "Housing Association", "service"),
    ("ORG13", "Library and Learning", "service"),
    ("ORG14", "Health Visiting Team", "health"),
    ("ORG15", "School Nursing", "health"),
    ("ORG16", "Food Bank", "voluntary"),
    ("ORG17", "Parents' Forum", "residents"),
    ("ORG18", "Mosque Education Centre", "voluntary"),
    ("ORG19", "Community Sports Trust", "voluntary"),
    ("ORG20", "Citizens Advice", "voluntary"),
    ("ORG21", "Youth Hub", "voluntary"),
    ("ORG22", "GP Practice", "health"),
    ("ORG23", "Mental Health Support Team", "health"),
    ("ORG24", "Neighbourhood Police Team", "service"),
    ("ORG25", "Estate Community Association", "residents"),
)
#: A group named in 2027 that is not on the organisation list (shown as needing review).
UNLISTED = "Canal Boat Club"

_REMOVED = {("ORG16", "ORG01"), ("ORG16", "ORG03"), ("ORG01", "ORG16"), ("ORG03", "ORG16")}
_ADDED = {("ORG21", c) for c in ("ORG05", "ORG06", "ORG11", "ORG23")} | {
    ("ORG06", "ORG21"),
    ("ORG05", "ORG21"),
    ("ORG23", "ORG21"),
}
_SILENT = ({"ORG24", "ORG25"}, {"ORG24"})  # who does not answer in each wave
_CHOICES = {
    "frequency": ("yearly", "termly", "monthly", "weekly"),
    "trust": ("not_at_all", "a_little", "mostly", "completely"),
    "value": ("nothing", "a_little", "some", "a_lot"),
}
_NAMESPACE = uuid.UUID("5b1f3c8e-2d4a-4f7e-9a61-0c3e8d2b7a10")


def _base_ties(rng: np.random.Generator) -> set[tuple[str, str]]:
    """Ties of the first wave: dense within kinds, hubs joining them."""
    codes = [c for c, _, _ in ORGANISATIONS if c != "ORG21"]
    kinds = {c: k for c, _, k in ORGANISATIONS}
    hubs = {"ORG09", "ORG10", "ORG14"}
    ties = set()
    for a in codes:
        for b in codes:
            if a == b:
                continue
            p = 0.08
            if kinds[a] == kinds[b]:
                p = 0.45
            if a in hubs or b in hubs:
                p = 0.5
            if rng.random() < p:
                ties.add((a, b))
    return ties | {(a, b) for a, b in _REMOVED}


def add_partnership(
    session: Session,
    *,
    community: Community,
    waves: list[Wave],
    version: InstrumentVersion,
    seed: int,
    starts: list[dt.datetime],
) -> int:
    """Add the organisations and each wave's partnership responses; returns how many."""
    session.add_all(
        Organisation(community_id=community.id, code=code, name=name, kind=kind)
        for code, name, kind in ORGANISATIONS
    )
    rng = np.random.default_rng([seed, 77])
    first = _base_ties(rng)
    second = {t for t in first if t not in _REMOVED and rng.random() > 0.06} | _ADDED
    names = {code: name for code, name, _ in ORGANISATIONS}
    added = 0
    for index, (wave, ties) in enumerate(zip(waves, (first, second), strict=True)):
        for number, (code, _, _) in enumerate(ORGANISATIONS):
            if code in _SILENT[index]:
                continue
            # New ties first, so the ten slots never crowd them out.
            new = sorted(b for a, b in ties if a == code and (a, b) in _ADDED)
            old = sorted(b for a, b in ties if a == code and (a, b) not in _ADDED)
            partners = [*new, *old][:10]
            if index == 1 and code == "ORG17":
                partners = [*partners[:9], UNLISTED]
            answers: dict[str, Any] = {
                "organisation": code if number % 3 else names[code],
                "partner_count": len(partners) + int(rng.integers(0, 3)),
            }
            for slot, partner in enumerate(partners, start=1):
                # Some respondents write names rather than codes; both are matched.
                answers[f"partner_{slot}"] = partner if slot % 4 else names.get(partner, partner)
                for rating, labels in _CHOICES.items():
                    level = int(
                        np.clip(rng.normal(2.4 if rating == "frequency" else 2.8, 0.8), 0, 3)
                    )
                    answers[f"{rating}_{slot}"] = labels[level]
            session.add(
                Response(
                    id=str(uuid.uuid5(_NAMESPACE, f"{seed}/{wave.name}/{code}")),
                    wave_id=wave.id,
                    instrument_version_id=version.id,
                    channel="web",
                    status="submitted",
                    answers=answers,
                    started_at=starts[index] + dt.timedelta(hours=number),
                    submitted_at=starts[index] + dt.timedelta(hours=number, minutes=12),
                )
            )
            added += 1
    session.flush()
    return added
