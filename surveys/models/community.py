"""Communities and their sites (schools, areas), classes and staff accounts.

Every table belongs, directly or through its parent, to one community.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.models.base import Base, utcnow

if TYPE_CHECKING:
    from surveys.models.waves import Wave

__all__ = ["ROLES", "Community", "SchoolClass", "Site", "User", "UserSite"]

#: Staff roles. Pupils and residents have no accounts: they come in through access codes.
ROLES = ("admin", "school_staff", "researcher", "coder")


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
    #: When the core team retired it: gone from pickers and code entry, data kept.
    retired_at: Mapped[dt.datetime | None] = mapped_column(default=None)

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
    #: When the core team retired it: gone from pickers and code entry, data kept.
    retired_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    site: Mapped[Site] = relationship(back_populates="classes")


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
