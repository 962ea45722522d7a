"""Receipt codes: the one stored form of a withdrawal receipt, shared by every channel.

:func:`receipt_hash` is THE stored form of a withdrawal receipt code. Whoever issues
receipt codes (field interviews, web surveys) stores ``receipt_hash(code)`` in
``Response.receipt_hash``; erasure looks the response up the same way. The code itself is
never stored.
"""

from __future__ import annotations

import hashlib

__all__ = ["normalise_receipt", "receipt_hash"]


def normalise_receipt(code: str) -> str:
    """A receipt code as compared: upper case, letters and digits only."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def receipt_hash(code: str) -> str:
    """The stored form of a receipt code (case, spaces and dashes ignored).

    >>> receipt_hash("abcd-efgh-jkmn") == receipt_hash("ABCD EFGH JKMN")
    True
    """
    return hashlib.sha256(f"placevoice-receipt:{normalise_receipt(code)}".encode()).hexdigest()
