"""Quotes for reports, cleared only after screening for personal information."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Site
from surveys.models.field import QuoteApproval
from surveys.pii import Span, screen
from surveys.services.audit import audit
from surveys.services.coding.codebook import check_themes
from surveys.services.coding.units import CodingError, get_unit

__all__ = ["approve_quote", "school_names", "screen_quote"]


def school_names(session: Session, community_id: int) -> list[str]:
    """The community's school names (screened for in quotes)."""
    return list(
        session.scalars(
            select(Site.name).where(Site.community_id == community_id, Site.kind == "school")
        )
    )


def screen_quote(session: Session, community_id: int, text: str) -> list[Span]:
    """Possible identifiers in ``text`` for the coder to redact."""
    return screen(text, school_names=school_names(session, community_id))


def approve_quote(
    session: Session,
    *,
    actor_id: int,
    community_id: int,
    response_id: str,
    item: str,
    excerpt: str,
    redacted: str,
    theme_id: int | None = None,
    checked_remaining: bool = False,
) -> QuoteApproval:
    """Clear a quote for reports. Only the redacted text is stored.

    ``excerpt`` must be part of the answer. When screening still flags something in
    ``redacted``, the coder must confirm they checked it (``checked_remaining``): a
    flagged word may be a place or an everyday word rather than a person.
    """
    unit = get_unit(session, community_id, response_id, item)
    excerpt = excerpt.strip()
    redacted = redacted.strip()
    if not excerpt or excerpt not in unit.text:
        raise CodingError("the quote must be part of the answer; copy it exactly")
    if not redacted:
        raise CodingError("write the quote as it may be published")
    if theme_id is not None:
        check_themes(session, community_id, [theme_id])
    found = screen_quote(session, community_id, excerpt)
    remaining = screen_quote(session, community_id, redacted)
    if remaining and not checked_remaining:
        listed = ", ".join(f"'{s.text}' ({s.kind})" for s in remaining)
        raise CodingError(
            f"the quote still contains possible personal information: {listed}; redact it,"
            " or confirm that you checked it is not personal"
        )
    quote = QuoteApproval(
        response_id=response_id,
        item=item,
        theme_id=theme_id,
        text=redacted,
        flags_found=len(found),
        approved_by=actor_id,
    )
    session.add(quote)
    audit(
        session,
        actor_id,
        "approve_quote",
        "response",
        response_id,
        flags=len(found),
        remaining=len(remaining),
    )
    session.flush()
    return quote
