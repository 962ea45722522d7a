"""The placevoice data model (SQLAlchemy 2.0, typed). Models hold data; services act on it.

Every table belongs, directly or through its parent, to one community. Nothing here
stores a respondent's name, IP address or device identifier.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "ROLES",
    "AccessCode",
    "AuditEntry",
    "Base",
    "Community",
    "InstrumentVersion",
    "Response",
    "SchoolClass",
    "Site",
    "User",
    "UserSite",
    "Wave",
    "WaveInstrument",
    "new_uuid",
    "utcnow",
]

#: Staff roles. Pupils and residents have no accounts: they come in through access codes.
ROLES = ("admin", "school_staff", "researcher", "coder")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


def new_uuid() -> str:
    """A random UUID as text (the id of a response made on the server)."""
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    """Declarative base with constraint names that migrations can refer to."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
    }


class Community(Base):
    """One Children's Community; owns everything else."""

    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Smallest count shown in any output (statistical disclosure control); never below 5.
    suppression_k: Mapped[int] = mapped_column(Integer, default=10)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    sites: Mapped[list[Site]] = relationship(back_populates="community")
    waves: Mapped[list[Wave]] = relationship(back_populates="community")


class Site(Base):
    """A school or a neighbourhood area."""

    __tablename__ = "sites"
    __table_args__ = (UniqueConstraint("community_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    #: The community's own short identifier (``site_id`` in the import CSV), e.g. "S04".
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    #: "school" or "area".
    kind: Mapped[str] = mapped_column(String(10))
    #: For areas: space-separated postcode prefixes that map a resident to this area.
    postcodes: Mapped[str] = mapped_column(Text, default="")
    #: Pupils on roll in the surveyed years (schools) or households (areas): response rates.
    population: Mapped[int | None] = mapped_column(Integer, default=None)

    community: Mapped[Community] = relationship(back_populates="sites")
    classes: Mapped[list[SchoolClass]] = relationship(
        back_populates="site", order_by="SchoolClass.year_group"
    )


class SchoolClass(Base):
    """A teaching group inside a school."""

    __tablename__ = "classes"
    __table_args__ = (UniqueConstraint("site_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    name: Mapped[str] = mapped_column(String(80))
    year_group: Mapped[int] = mapped_column(Integer)
    #: Pupils in the class, for the teacher's "n of m finished".
    size: Mapped[int | None] = mapped_column(Integer, default=None)
    #: argon2 hash of the teacher PIN that opens the live completion page.
    teacher_pin_hash: Mapped[str] = mapped_column(String(200), default="")

    site: Mapped[Site] = relationship(back_populates="classes")


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

    wave: Mapped[Wave] = relationship()
    site: Mapped[Site | None] = relationship()
    school_class: Mapped[SchoolClass | None] = relationship()
    instrument_version: Mapped[InstrumentVersion] = relationship()


class User(Base):
    """A staff account: core team, school staff, peer researcher or coder."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    #: argon2id hash.
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    sites: Mapped[list[UserSite]] = relationship(cascade="all, delete-orphan")

    @property
    def site_ids(self) -> frozenset[int]:
        """Sites this user is bound to (school staff, researchers)."""
        return frozenset(link.site_id for link in self.sites)


class UserSite(Base):
    """Binds a school_staff user to a school (or a researcher to an area)."""

    __tablename__ = "user_sites"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)


class AuditEntry(Base):
    """Who did what, when: logins, exports, downloads, reviews, deletions. Append-only."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(80), default="")
    #: Non-identifying details (counts, formats); never answers or personal data.
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


import surveys.privacy  # noqa: E402,F401
from surveys.data_models import *  # noqa: E402,F403
from surveys.field_models import *  # noqa: E402,F403
from surveys.pack_models import *  # noqa: E402,F403
from surveys.take_models import *  # noqa: E402,F403
