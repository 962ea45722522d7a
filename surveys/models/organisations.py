"""Partner organisations: the schools, services and groups a partnership network joins."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from surveys.models.base import Base, utcnow

__all__ = ["ORGANISATION_KINDS", "Organisation"]

#: What kind of organisation a partner is (the map colours nodes by kind).
ORGANISATION_KINDS = (
    "school",
    "early_years",
    "service",
    "health",
    "voluntary",
    "residents",
    "other",
)


class Organisation(Base):
    """One partner organisation of a community, kept by the core team."""

    __tablename__ = "organisations"
    __table_args__ = (UniqueConstraint("community_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    #: Short identifier respondents type or pick, e.g. "ORG07"; unique in the community.
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    #: One of :data:`ORGANISATION_KINDS`.
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
