"""Instruments, waves, access codes and responses: what is asked, when, and what came back.

Nothing here stores a respondent's name, IP address or device identifier.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.models.base import Base, new_uuid, utcnow

if TYPE_CHECKING:
    from surveys.models.community import Community, SchoolClass, Site

__all__ = ["AccessCode", "InstrumentVersion", "Response", "Wave", "WaveInstrument"]


class InstrumentVersion(Base):
    """One version of an instrument, with the XLSForm it was read from."""

    __tablename__ = "instrument_versions"
    __table_args__ = (UniqueConstraint("instrument_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[str] = mapped_column(String(80))
    version: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    #: The XLSForm file as uploaded, so a response can always be read with its own version.
    source: Mapped[bytes] = mapped_column(LargeBinary)
    source_format: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: The community that imported it, the only one that sees and uses it; None for the
    #: built-in instruments, which every community may use.
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), default=None)


class Wave(Base):
    """One round of data collection, e.g. "Spring 2027"."""

    __tablename__ = "waves"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    name: Mapped[str] = mapped_column(String(120))
    #: "draft" (being set up), "open" (taking responses) or "closed".
    status: Mapped[str] = mapped_column(String(10), default="draft")
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("waves.id"), default=None)
    #: Days after closing that responses are kept; None keeps them until deleted by hand.
    retention_days: Mapped[int | None] = mapped_column(Integer, default=None)
    opened_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    closed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    #: When the core team retired it: gone from pickers and code entry, data kept.
    retired_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    community: Mapped[Community] = relationship(back_populates="waves")
    previous: Mapped[Wave | None] = relationship(remote_side=[id])
    instruments: Mapped[list[WaveInstrument]] = relationship(
        back_populates="wave", cascade="all, delete-orphan"
    )


class WaveInstrument(Base):
    """An instrument version used in a wave."""

    __tablename__ = "wave_instruments"

    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id"), primary_key=True)
    instrument_version_id: Mapped[int] = mapped_column(
        ForeignKey("instrument_versions.id"), primary_key=True
    )

    wave: Mapped[Wave] = relationship(back_populates="instruments")
    instrument_version: Mapped[InstrumentVersion] = relationship()


class AccessCode(Base):
    """What lets an anonymous person in: a class code, an area link or a one-time token."""

    __tablename__ = "access_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The code itself (class codes are short; tokens are long). Unique across the database.
    code: Mapped[str] = mapped_column(String(64), unique=True)
    #: "class" (many uses, one class), "area" (a resident link), "token" (one use).
    kind: Mapped[str] = mapped_column(String(10))
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), default=None)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id"), default=None)
    instrument_version_id: Mapped[int] = mapped_column(ForeignKey("instrument_versions.id"))
    uses: Mapped[int] = mapped_column(Integer, default=0)
    #: None = unlimited; 1 for a letter's one-time token.
    max_uses: Mapped[int | None] = mapped_column(Integer, default=None)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    wave: Mapped[Wave] = relationship()
    site: Mapped[Site | None] = relationship()
    school_class: Mapped[SchoolClass | None] = relationship()
    instrument_version: Mapped[InstrumentVersion] = relationship()


class Response(Base):
    """One questionnaire, draft or submitted, identified by a client-made UUID."""

    __tablename__ = "responses"
    __table_args__ = (
        Index("ix_responses_wave_status", "wave_id", "status"),
        Index("ix_responses_site", "site_id"),
        Index("ix_responses_class", "class_id"),
        Index("uq_responses_source_id", "wave_id", "source", "source_id", unique=True),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), default=None)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id"), default=None)
    instrument_version_id: Mapped[int] = mapped_column(ForeignKey("instrument_versions.id"))
    #: class | web | field | odk | import
    channel: Mapped[str] = mapped_column(String(10))
    #: draft | submitted | approved | rejected
    status: Mapped[str] = mapped_column(String(10), default="draft")
    language: Mapped[str] = mapped_column(String(16), default="en")
    #: Item name -> answer (select_multiple as a list, dates as ISO text).
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Hash of the submitted content: the same id with other content is a conflict (409).
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    #: Short word a pupil types to resume on another device (unique among open drafts).
    resume_word: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    #: Hash of the receipt code a respondent can use to withdraw; never the code itself.
    receipt_hash: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    access_code_id: Mapped[int | None] = mapped_column(ForeignKey("access_codes.id"))
    #: The peer researcher (field/odk channels) who recorded the interview.
    researcher_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    review_note: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    #: Imported responses: where they came from ("kobo", "odk", "surveymonkey", "file" or a
    #: name given on import) and that source's own respondent id (unique per wave and source).
    source: Mapped[str | None] = mapped_column(String(60), default=None)
    source_id: Mapped[str | None] = mapped_column(String(200), default=None)

    wave: Mapped[Wave] = relationship()
    site: Mapped[Site | None] = relationship()
    school_class: Mapped[SchoolClass | None] = relationship()
    instrument_version: Mapped[InstrumentVersion] = relationship()
