"""A database-backed rate limiter that every app worker shares.

Failed attempts (wrong access codes, resume words, teacher PINs) are recorded as
:class:`~surveys.models.rate_limits.RateEvent` rows under a keyed hash of the client's address,
so the limit holds across gunicorn workers and machines that share the database. The
address is hashed with a secret the caller passes (the app's key), never stored in clear,
and never stored with a response.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from surveys.models import utcnow
from surveys.models.rate_limits import RateEvent

__all__ = ["DEFAULT_LIMITS", "Limit", "RateLimited", "check", "client_key", "record"]


@dataclass(frozen=True)
class Limit:
    """At most ``count`` events in ``seconds``."""

    count: int
    seconds: int


#: Wrong-code limits: 10 a minute and 100 an hour per client address.
DEFAULT_LIMITS: tuple[Limit, ...] = (Limit(10, 60), Limit(100, 3600))


class RateLimited(ValueError):
    """Too many failed attempts; ``retry_after`` is in whole seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(f"too many attempts; try again in {self.retry_after} seconds")


def client_key(address: str, secret: str | bytes) -> str:
    """A keyed hash of a client address (the address itself is never stored)."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, f"rate:{address}".encode(), hashlib.sha256).hexdigest()


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def check(
    session: Session,
    *,
    bucket: str,
    key: str,
    limits: Sequence[Limit] = DEFAULT_LIMITS,
    now: dt.datetime | None = None,
) -> None:
    """Raise :class:`RateLimited` when ``key`` has used up any limit in ``bucket``."""
    now = now or utcnow()
    for limit in limits:
        since = now - dt.timedelta(seconds=limit.seconds)
        count, oldest = session.execute(
            select(func.count(RateEvent.id), func.min(RateEvent.at)).where(
                RateEvent.bucket == bucket, RateEvent.key_hash == key, RateEvent.at > since
            )
        ).one()
        if count >= limit.count and oldest is not None:
            wait = (_aware(oldest) + dt.timedelta(seconds=limit.seconds) - now).total_seconds()
            raise RateLimited(int(wait) + 1)


def record(
    session: Session,
    *,
    bucket: str,
    key: str,
    limits: Sequence[Limit] = DEFAULT_LIMITS,
    now: dt.datetime | None = None,
) -> None:
    """Count one failed attempt, and forget events older than the longest window."""
    now = now or utcnow()
    longest = max((limit.seconds for limit in limits), default=3600)
    session.execute(
        delete(RateEvent).where(
            RateEvent.bucket == bucket, RateEvent.at < now - dt.timedelta(seconds=longest)
        )
    )
    session.add(RateEvent(bucket=bucket, key_hash=key, at=now))
    session.flush()
