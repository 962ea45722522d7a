"""Self-generated identification codes, kept only as keyed digests of each character.

A pupil answers a few questions whose answers they know and that do not change (the first
letter of their mum's name, the day they were born ...): the instrument marks them with an
``sgic`` column giving each its place in the code. The answers are never stored. Each
character position becomes an 8-byte HMAC-SHA256 digest under the community's own key:

- the key is derived with HKDF-SHA256 (RFC 5869) from the app's secret
  (``PLACEVOICE_SECRET_KEY``) and the community's id, so it is never in the database and
  two communities' digests of the same code differ;
- each position is keyed on its own (``HMAC(key, place || character)``), so two codes can
  still be compared position by position and a typo costs one position, not the whole code.

Text parts keep their first letter (upper case, accents removed); whole numbers are written
with two digits (so "7" and "07" agree, and a day of birth is two positions); a choice is
one position (its name). A part left unanswered is stored as eight zero bytes and counted
in ``missing_parts``; such a code is never linked.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from instruments import Instrument, Item
from surveys.models.panel import PanelCode

__all__ = [
    "DIGEST_BYTES",
    "NUMBER_WIDTH",
    "code_digests",
    "code_positions",
    "community_key",
    "hkdf_sha256",
    "normalise_part",
    "split_code_answers",
    "store_codes",
    "update_code",
]

#: Bytes kept of each position's HMAC-SHA256 (64 bits: no accidental collisions).
DIGEST_BYTES = 8
#: Digits a whole-number part is written with.
NUMBER_WIDTH = 2
_SALT = b"placevoice/panel-code/v1"
_MISSING = bytes(DIGEST_BYTES)


def hkdf_sha256(secret: bytes, *, salt: bytes, info: bytes, length: int = 32) -> bytes:
    """HKDF-SHA256 (RFC 5869): extract with ``salt``, expand with ``info``."""
    prk = hmac.new(salt, secret, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def community_key(secret: str, community_id: int) -> bytes:
    """The community's code key: HKDF of the app's secret and the community's id."""
    if not secret:
        raise ValueError("no secret key: codes cannot be stored without PLACEVOICE_SECRET_KEY")
    return hkdf_sha256(secret.encode("utf-8"), salt=_SALT, info=b"community/%d" % community_id)


def code_positions(item: Item) -> int:
    """How many character positions a code part takes."""
    return NUMBER_WIDTH if item.type == "integer" else 1


def normalise_part(item: Item, value: Any) -> str | None:
    """A code part as the characters that are compared; None when it was not answered.

    >>> from instruments import Item
    >>> normalise_part(Item(name="m", type="text", row=2), " émma")
    'E'
    >>> normalise_part(Item(name="d", type="integer", row=3), 7)
    '07'
    """
    if value is None or value == "":
        return None
    if item.type == "integer":
        try:
            number = int(value)
        except (TypeError, ValueError):
            return None
        if number < 0 or number >= 10**NUMBER_WIDTH:
            return None
        return f"{number:0{NUMBER_WIDTH}d}"
    if item.type == "select_one":
        return str(value)
    plain = unicodedata.normalize("NFKD", str(value))
    letters = [ch for ch in plain if ch.isalnum()]
    return letters[0].upper() if letters else None


def code_digests(
    key: bytes, items: Sequence[Item], answers: Mapping[str, Any]
) -> tuple[bytes, int]:
    """The code's digests (:data:`DIGEST_BYTES` per position) and its number of missing parts."""
    out: list[bytes] = []
    missing = 0
    place = 0
    for item in items:
        width = code_positions(item)
        text = normalise_part(item, answers.get(item.name))
        if text is None:
            missing += 1
            out.extend([_MISSING] * width)
            place += width
            continue
        symbols = [text] if item.type == "select_one" else list(text)
        for symbol in symbols:
            message = f"{place}\x00{symbol}".encode()
            out.append(hmac.new(key, message, hashlib.sha256).digest()[:DIGEST_BYTES])
            place += 1
    return b"".join(out), missing


def split_code_answers(
    instrument: Instrument, answers: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``answers`` without the code parts, and the code parts on their own."""
    names = {item.name for item in instrument.code_items}
    kept = {k: v for k, v in answers.items() if k not in names}
    code = {k: v for k, v in answers.items() if k in names}
    return kept, code


def store_codes(
    session: Session,
    *,
    key: bytes,
    instrument: Instrument,
    wave_id: int,
    codes: Iterable[tuple[str, Mapping[str, Any]]],
) -> int:
    """Store (or replace) the codes of responses: ``(response_id, code answers)`` pairs.

    The caller has checked that the responses belong to the community ``key`` was made
    for. Returns the number of codes stored.
    """
    items = instrument.code_items
    rows = []
    for response_id, answers in codes:
        digests, missing = code_digests(key, items, answers)
        rows.append(
            {
                "response_id": response_id,
                "wave_id": wave_id,
                "digests": digests,
                "missing_parts": missing,
            }
        )
    if not rows:
        return 0
    ids = [row["response_id"] for row in rows]
    for start in range(0, len(ids), 500):
        session.execute(
            delete(PanelCode).where(PanelCode.response_id.in_(ids[start : start + 500]))
        )
    session.execute(insert(PanelCode), rows)
    return len(rows)


def update_code(
    session: Session,
    *,
    key: bytes,
    instrument: Instrument,
    response_id: str,
    wave_id: int,
    answers: Mapping[str, Any],
    parts: Iterable[str],
) -> None:
    """Set the code parts named in ``parts`` (one page's) of a response's code.

    Parts on other pages keep what was stored for them; a part in ``parts`` with no answer
    in ``answers`` becomes missing.
    """
    items = instrument.code_items
    asked = set(parts)
    fresh, _ = code_digests(key, items, answers)
    row = session.get(PanelCode, response_id)
    old = row.digests if row is not None else _MISSING * sum(map(code_positions, items))
    merged: list[bytes] = []
    missing = 0
    offset = 0
    for item in items:
        size = code_positions(item) * DIGEST_BYTES
        chunk = (fresh if item.name in asked else old)[offset : offset + size]
        merged.append(chunk)
        if chunk == _MISSING * code_positions(item):
            missing += 1
        offset += size
    if row is None:
        row = PanelCode(response_id=response_id, wave_id=wave_id)
        session.add(row)
    row.digests = b"".join(merged)
    row.missing_parts = missing
