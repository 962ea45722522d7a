"""Tables for taking surveys: the rate limiter's events.

A rate event records one failed attempt (a wrong class code, resume word or teacher PIN)
under a keyed hash of the client's address. It is never joined to a response, and events
older than the longest window are deleted as new ones arrive.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from surveys.models.base import Base, utcnow

__all__ = ["RateEvent"]


class RateEvent(Base):
    """One counted attempt in a rate-limit bucket."""

    __tablename__ = "rate_events"
    __table_args__ = (Index("ix_rate_events_bucket_key_at", "bucket", "key_hash", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What is limited, e.g. "code" (wrong access codes) or "pin" (wrong teacher PINs).
    bucket: Mapped[str] = mapped_column(String(20))
    #: Keyed hash (HMAC-SHA-256) of the client address; the address itself is never stored.
    key_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
