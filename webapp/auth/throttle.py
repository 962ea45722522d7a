"""Sign-in throttling that an attacker cannot turn into a lockout of somebody else.

Design (docs in SECURITY.md, "Sign-in throttling"):

* **Per account and client** (bucket ``login_client``): at most 10 failed sign-ins in 15
  minutes for one account from one client address. Beyond that, that client (and only
  that client) is told to wait (429 with ``Retry-After``) for that account.
* **Per account** (bucket ``login_account``): at most 100 failed sign-ins an hour for one
  account from devices that have never signed in to it. The window slides, so once the
  cap is reached an attempt is admitted again as each old failure ages out: a slowdown to
  100 guesses an hour, never a permanent lock.
* **Recognised devices**: a successful sign-in leaves a signed "device cookie" (random,
  bound to the account, HttpOnly, SameSite=Strict, path /login). A device presenting it
  is exempt from the account-wide cap (it still has its own per-client budget), so an
  attacker who floods an account from many addresses does not lock its owner out of
  the devices they already use.

Throttled attempts are answered before the password is checked and are not counted as
failures. Accounts are keyed by a keyed hash of the normalised email, whether or not
the account exists, so throttling reveals nothing about which accounts exist. Client
addresses are stored only as keyed hashes (HMAC with the app's secret).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import Request, current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from surveys.services.ratelimit import Limit, RateLimited, check, record

__all__ = [
    "ACCOUNT_LIMITS",
    "CLIENT_LIMITS",
    "DEVICE_COOKIE",
    "Throttle",
    "device_cookie_value",
    "throttle_for",
]

#: Failed sign-ins per account from unrecognised devices: 100 an hour (sliding).
ACCOUNT_LIMITS: tuple[Limit, ...] = (Limit(100, 3600),)
#: Failed sign-ins per account from one client address: 10 in 15 minutes.
CLIENT_LIMITS: tuple[Limit, ...] = (Limit(10, 900),)
#: Name of the recognised-device cookie.
DEVICE_COOKIE = "placevoice_device"
#: How long a device stays recognised after a successful sign-in (seconds).
DEVICE_MAX_AGE = 180 * 24 * 3600


def _secret() -> bytes:
    return str(current_app.secret_key or "").encode()


def _keyed(text: str) -> str:
    return hmac.new(_secret(), text.encode(), hashlib.sha256).hexdigest()


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(str(current_app.secret_key or ""), salt="placevoice-login-device")


def device_cookie_value(user_id: int) -> str:
    """A fresh recognised-device token for ``user_id``."""
    return str(_serializer().dumps({"u": int(user_id), "n": secrets.token_urlsafe(12)}))


def _device_user(token: str | None) -> int | None:
    if not token or len(token) > 500:
        return None
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    return int(data["u"])


@dataclass(frozen=True)
class Throttle:
    """The throttle keys for one sign-in attempt."""

    account_key: str
    client_key: str
    device_user_id: int | None

    def recognised(self, user_id: int | None) -> bool:
        """Whether the request came from a device that has signed in as ``user_id``."""
        return user_id is not None and self.device_user_id == user_id

    def check(self, session: Session, user_id: int | None) -> None:
        """Raise :class:`RateLimited` when this attempt must wait (password not checked)."""
        check(session, bucket="login_client", key=self.client_key, limits=CLIENT_LIMITS)
        if not self.recognised(user_id):
            check(session, bucket="login_account", key=self.account_key, limits=ACCOUNT_LIMITS)

    def failed(self, session: Session, user_id: int | None) -> None:
        """Count one failed attempt."""
        record(session, bucket="login_client", key=self.client_key, limits=CLIENT_LIMITS)
        if not self.recognised(user_id):
            record(session, bucket="login_account", key=self.account_key, limits=ACCOUNT_LIMITS)


def throttle_for(request: Request, email: str) -> Throttle:
    """The throttle keys for a sign-in with ``email`` from this request's client."""
    account = email.strip().lower()
    address = request.remote_addr or "unknown"
    return Throttle(
        account_key=_keyed(f"login-account:{account}"),
        client_key=_keyed(f"login-client:{account}:{address}"),
        device_user_id=_device_user(request.cookies.get(DEVICE_COOKIE)),
    )


__all__ += ["RateLimited"]
