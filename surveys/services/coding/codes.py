"""Tagging an answer, or a highlighted part of it, with themes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from surveys.models.field import CodedUnit, Coding
from surveys.services.coding.codebook import check_themes
from surveys.services.coding.units import CodingError, get_unit

__all__ = ["add_span_coding", "codes_by_coder", "remove_coding", "save_unit_codes"]


def save_unit_codes(
    session: Session,
    *,
    coder_id: int,
    community_id: int,
    response_id: str,
    item: str,
    theme_ids: Iterable[int],
) -> None:
    """Set the coder's whole-answer themes for one answer and mark it coded by them."""
    get_unit(session, community_id, response_id, item)
    wanted = check_themes(session, community_id, theme_ids)
    session.execute(
        delete(Coding).where(
            Coding.coder_id == coder_id,
            Coding.response_id == response_id,
            Coding.item == item,
            Coding.start.is_(None),
            Coding.reconciled.is_(False),
        )
    )
    for theme_id in wanted:
        session.add(
            Coding(coder_id=coder_id, response_id=response_id, item=item, theme_id=theme_id)
        )
    if session.get(CodedUnit, (coder_id, response_id, item)) is None:
        session.add(CodedUnit(coder_id=coder_id, response_id=response_id, item=item))
    session.flush()


def add_span_coding(
    session: Session,
    *,
    coder_id: int,
    community_id: int,
    response_id: str,
    item: str,
    theme_id: int,
    excerpt: str = "",
    start: int | None = None,
    end: int | None = None,
) -> Coding:
    """Tag a highlighted part of an answer (given as offsets, or as the exact excerpt)."""
    unit = get_unit(session, community_id, response_id, item)
    check_themes(session, community_id, [theme_id])
    if start is None or end is None:
        excerpt = excerpt.strip()
        position = unit.text.find(excerpt) if excerpt else -1
        if position < 0:
            raise CodingError("the highlighted part is not in the answer; copy it exactly")
        start, end = position, position + len(excerpt)
    if not 0 <= start < end <= len(unit.text):
        raise CodingError("the highlighted part is outside the answer")
    coding = Coding(
        coder_id=coder_id,
        response_id=response_id,
        item=item,
        theme_id=theme_id,
        start=start,
        end=end,
    )
    session.add(coding)
    if session.get(CodedUnit, (coder_id, response_id, item)) is None:
        session.add(CodedUnit(coder_id=coder_id, response_id=response_id, item=item))
    session.flush()
    return coding


def remove_coding(session: Session, *, coder_id: int, coding_id: int) -> None:
    """Remove one of the coder's own codes."""
    coding = session.get(Coding, coding_id)
    if coding is None or coding.coder_id != coder_id:
        raise CodingError("there is no such code of yours")
    session.delete(coding)
    session.flush()


def codes_by_coder(session: Session, response_id: str, item: str) -> dict[int, list[Coding]]:
    """Each coder's codes (not the reconciled ones) on one answer."""
    result: dict[int, list[Coding]] = defaultdict(list)
    for coding in session.scalars(
        select(Coding)
        .where(Coding.response_id == response_id, Coding.item == item, Coding.reconciled.is_(False))
        .order_by(Coding.id)
    ):
        result[coding.coder_id].append(coding)
    return result
