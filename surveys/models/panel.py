"""Tables for following the same pupils over the years: codes, links and linking reports.

Imported by :mod:`surveys.models`, so every table lives in one metadata.
A pupil's self-generated identification code is never stored as typed: each character
position is kept only as a keyed digest (see :mod:`surveys.services.panel.codes` and
docs/privacy.md), in a table of its own, apart from the answers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from surveys.models.base import Base, utcnow

__all__ = ["LINK_RULES", "PanelCode", "PanelLink", "PanelRun"]

#: How a link was made: the same code, or codes differing in one or two characters.
LINK_RULES = ("exact", "fuzzy1", "fuzzy2")


class PanelCode(Base):
    """A response's identification code, as keyed digests of its characters."""

    __tablename__ = "panel_codes"
    __table_args__ = (Index("ix_panel_codes_wave_id", "wave_id"),)

    response_id: Mapped[str] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"))
    #: One 8-byte keyed digest per character position, concatenated (zeros where missing).
    digests: Mapped[bytes] = mapped_column(LargeBinary)
    #: Code parts left unanswered; a code with any missing part is never linked.
    missing_parts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PanelLink(Base):
    """One pupil followed from the previous wave to this one."""

    __tablename__ = "panel_links"
    __table_args__ = (Index("ix_panel_links_wave_id", "wave_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The later wave (the one that was linked to its previous wave).
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"))
    previous_wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"))
    response_id: Mapped[str] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), unique=True
    )
    previous_response_id: Mapped[str] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), unique=True
    )
    #: Which rule made the link: one of :data:`LINK_RULES`.
    rule: Mapped[str] = mapped_column(String(10))
    #: Character positions that differ between the two codes (0, 1 or 2).
    distance: Mapped[int] = mapped_column(Integer)


class PanelRun(Base):
    """The last linking of a wave to its previous wave, with its match report."""

    __tablename__ = "panel_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"), unique=True)
    previous_wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"))
    requested_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    #: Counts per school (site id as text -> rule -> count) and for the whole wave
    #: (``"all"``): unsuppressed; pages and packs apply the community's k.
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
