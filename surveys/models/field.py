"""Tables for peer research: assignments, consent, review and participatory coding.

Nothing here stores a respondent's name or contact details; a withdrawal receipt is kept
only as a hash, and a researcher's device id is a random value made per installation.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.models.base import Base, utcnow
from surveys.models.community import Site, User
from surveys.models.waves import Response, Wave

__all__ = [
    "CodedUnit",
    "Coding",
    "ConsentRecord",
    "FieldInterview",
    "QuoteApproval",
    "Reconciliation",
    "ResearchSettings",
    "ResearcherAssignment",
    "Theme",
]


class ResearcherAssignment(Base):
    """A peer researcher may interview in ``site`` for ``wave`` with one instrument."""

    __tablename__ = "researcher_assignments"
    __table_args__ = (UniqueConstraint("user_id", "wave_id", "site_id", "instrument_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id", ondelete="CASCADE"))
    #: An area (or, rarely, a school) the researcher works in.
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    #: Instrument id (not version): the wave decides which version is used.
    instrument_id: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
    wave: Mapped[Wave] = relationship()
    site: Mapped[Site] = relationship()


class ConsentRecord(Base):
    """The consent part of one field interview, kept even when consent was refused.

    Its id is the interview's client-made UUID; ``response_id`` is set only when the
    interview went ahead (consent, and a parent's or carer's for under-16s).
    """

    __tablename__ = "consent_records"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), default=None)
    instrument_version_id: Mapped[int] = mapped_column(ForeignKey("instrument_versions.id"))
    researcher_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    #: "field" or "odk".
    channel: Mapped[str] = mapped_column(String(10))
    consent: Mapped[bool] = mapped_column(Boolean)
    respondent_under16: Mapped[bool | None] = mapped_column(Boolean, default=None)
    parent_consent: Mapped[bool | None] = mapped_column(Boolean, default=None)
    response_id: Mapped[str | None] = mapped_column(String(36), default=None, index=True)
    #: Hash of the consent content, to tell an identical retry from a conflict.
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: Set when the respondent withdrew with their receipt code (the response is deleted).
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class FieldInterview(Base):
    """What the field channels add to a response: device, review flag, reviewer."""

    __tablename__ = "field_interviews"

    response_id: Mapped[str] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    #: Random id made once per installation of field mode (never a hardware id).
    device_id: Mapped[str] = mapped_column(String(64), default="")
    #: When the researcher's device says the interview was saved.
    client_saved_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_note: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    response: Mapped[Response] = relationship()


class ResearchSettings(Base):
    """Per-community choices for peer research and coding."""

    __tablename__ = "research_settings"

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    #: Count field interviews that are submitted but not yet reviewed in analysis.
    count_submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Percentage of open answers put forward for a second, independent coder.
    double_code_percent: Mapped[int] = mapped_column(Integer, default=20)


class Theme(Base):
    """One theme of the community's codebook; the codebook grows as coding goes."""

    __tablename__ = "themes"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    example: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CodedUnit(Base):
    """A coder has finished one open answer (even if it got no theme)."""

    __tablename__ = "coded_units"

    coder_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    response_id: Mapped[str] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    item: Mapped[str] = mapped_column(String(80), primary_key=True)
    done_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Coding(Base):
    """A theme applied to an open answer, or to a highlighted part of it."""

    __tablename__ = "codings"
    __table_args__ = (Index("ix_codings_unit", "response_id", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    coder_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    response_id: Mapped[str] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    item: Mapped[str] = mapped_column(String(80))
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id", ondelete="CASCADE"))
    #: Character offsets of the highlighted part (None: the whole answer).
    start: Mapped[int | None] = mapped_column(Integer, default=None)
    end: Mapped[int | None] = mapped_column(Integer, default=None)
    #: True for the agreed codes written when two coders' disagreement was reconciled.
    reconciled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    theme: Mapped[Theme] = relationship()


class QuoteApproval(Base):
    """A quote cleared for reports after PII screening; only the redacted text is kept."""

    __tablename__ = "quote_approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[str] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), index=True
    )
    item: Mapped[str] = mapped_column(String(80))
    theme_id: Mapped[int | None] = mapped_column(
        ForeignKey("themes.id", ondelete="SET NULL"), default=None
    )
    #: The quote as it may be published, after redaction.
    text: Mapped[str] = mapped_column(Text)
    #: How many possible identifiers screening flagged in the original part.
    flags_found: Mapped[int] = mapped_column(Integer, default=0)
    approved_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Reconciliation(Base):
    """Two coders' disagreement on an answer was settled; the agreed codes are the
    ``Coding`` rows with ``reconciled`` set (none: no theme applies)."""

    __tablename__ = "reconciliations"

    response_id: Mapped[str] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    item: Mapped[str] = mapped_column(String(80), primary_key=True)
    reconciled_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reconciled_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
