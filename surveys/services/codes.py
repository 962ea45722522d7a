"""Access codes: class codes for the board, area links and one-time letter tokens."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import AccessCode, InstrumentVersion, SchoolClass, Site, Wave

__all__ = ["CLASS_CODE_LENGTH", "CODE_ALPHABET", "TOKEN_LENGTH", "issue_code", "normalise_code"]

#: No look-alikes: no 0/O, 1/I/L, 5/S, 2/Z, 8/B, U/V.
CODE_ALPHABET = "ACDEFGHJKMNPQRTWXY34679"
#: 23^8 ≈ 7.8e10 codes: a guesser limited to a few hundred tries an hour would need
#: millions of years to find one of a community's few hundred live codes.
CLASS_CODE_LENGTH = 8
#: Letter tokens are typed from paper less often and are single-use; longer still.
TOKEN_LENGTH = 10


def normalise_code(text: str) -> str:
    """What a person typed, as stored: upper case, no spaces or dashes."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def _new_code(session: Session, length: int) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))
        if session.scalar(select(AccessCode.id).where(AccessCode.code == code)) is None:
            return code


def issue_code(
    session: Session,
    *,
    wave: Wave,
    version: InstrumentVersion,
    kind: str,
    site: Site | None = None,
    school_class: SchoolClass | None = None,
) -> AccessCode:
    """A new code: ``class`` (many uses), ``area`` (a resident link) or ``token`` (one use)."""
    if kind not in ("class", "area", "token"):
        raise ValueError(f"unknown code kind {kind!r}")
    length = TOKEN_LENGTH if kind == "token" else CLASS_CODE_LENGTH
    code = AccessCode(
        code=_new_code(session, length),
        kind=kind,
        wave_id=wave.id,
        site_id=site.id if site else None,
        class_id=school_class.id if school_class else None,
        instrument_version_id=version.id,
        max_uses=1 if kind == "token" else None,
    )
    session.add(code)
    session.flush()
    return code


def format_code(code: str) -> str:
    """A code as printed for people: groups of four, e.g. ``ACDE-FGHJ``."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
