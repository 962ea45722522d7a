"""Open answers (units) to code, and which one a coder gets next."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from instruments import Instrument
from surveys.models import Response, Wave
from surveys.models.field import CodedUnit
from surveys.services.field import research_settings
from surveys.services.setup import instrument_of

__all__ = [
    "CODABLE_STATUSES",
    "CodingError",
    "Unit",
    "coders_by_unit",
    "get_unit",
    "in_double_sample",
    "next_unit",
    "open_items",
    "open_units",
]


CODABLE_STATUSES = ("submitted", "approved")


class CodingError(ValueError):
    """A coding action that cannot be done; the message says why."""


@dataclass(frozen=True)
class Unit:
    """One open answer to code."""

    response_id: str
    item: str
    question: str
    text: str
    site_id: int | None


def open_items(instrument: Instrument) -> list[str]:
    """Names of the instrument's open questions (multiline text items)."""
    return [i.name for i in instrument.items if i.type == "text" and "multiline" in i.appearance]


def _community_responses(session: Session, community_id: int) -> list[Response]:
    return list(
        session.scalars(
            select(Response)
            .join(Wave, Wave.id == Response.wave_id)
            .where(Wave.community_id == community_id, Response.status.in_(CODABLE_STATUSES))
            .order_by(Response.submitted_at, Response.id)
        )
    )


def _unit(response: Response, item: str) -> Unit | None:
    instrument = instrument_of(response.instrument_version)
    text = response.answers.get(item)
    if item not in open_items(instrument) or not isinstance(text, str) or not text.strip():
        return None
    language = response.language or instrument.default_language
    question = instrument.item(item).label(language, instrument.default_language)
    return Unit(response.id, item, question, text, response.site_id)


def open_units(session: Session, community_id: int) -> list[Unit]:
    """Every open answer in the community that can be coded, oldest first."""
    units = []
    for response in _community_responses(session, community_id):
        for item in open_items(instrument_of(response.instrument_version)):
            unit = _unit(response, item)
            if unit is not None:
                units.append(unit)
    return units


def get_unit(session: Session, community_id: int, response_id: str, item: str) -> Unit:
    """One open answer; :class:`CodingError` if it is not codable in this community."""
    response = session.get(Response, response_id)
    if (
        response is None
        or response.wave.community_id != community_id
        or response.status not in CODABLE_STATUSES
    ):
        raise CodingError("there is no such open answer")
    unit = _unit(response, item)
    if unit is None:
        raise CodingError("there is no such open answer")
    return unit


def in_double_sample(response_id: str, item: str, percent: int) -> bool:
    """Whether a unit is in the double-coding sample (stable, about ``percent`` %)."""
    digest = hashlib.sha256(f"{response_id}:{item}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent


def coders_by_unit(
    session: Session, response_ids: Iterable[str]
) -> dict[tuple[str, str], list[int]]:
    rows = session.execute(
        select(CodedUnit.response_id, CodedUnit.item, CodedUnit.coder_id)
        .where(CodedUnit.response_id.in_(list(response_ids)))
        .order_by(CodedUnit.done_at, CodedUnit.coder_id)
    ).all()
    result: dict[tuple[str, str], list[int]] = defaultdict(list)
    for response_id, item, coder_id in rows:
        result[(response_id, item)].append(coder_id)
    return result


def next_unit(session: Session, *, coder_id: int, community_id: int) -> Unit | None:
    """The next answer for this coder: a sample answer awaiting its second coder, else
    an answer nobody has coded yet."""
    units = open_units(session, community_id)
    coders = coders_by_unit(session, {u.response_id for u in units})
    percent = research_settings(session, community_id).double_code_percent
    second = [
        u
        for u in units
        if coders.get((u.response_id, u.item)) is not None
        and len(coders[(u.response_id, u.item)]) == 1
        and coder_id not in coders[(u.response_id, u.item)]
        and in_double_sample(u.response_id, u.item, percent)
    ]
    if second:
        return second[0]
    fresh = [u for u in units if (u.response_id, u.item) not in coders]
    return fresh[0] if fresh else None
