"""Row ids as they arrive from outside (URLs, JSON bodies, uploaded files).

Every table's integer id is a 64-bit signed integer on SQLite and PostgreSQL. A larger
number cannot name a row, and passing it to the database overflows (an error, not "no
such row"), so ids from outside are parsed here first.
"""

from __future__ import annotations

__all__ = ["MAX_ID", "parse_id"]

#: The largest id a database row can have (64-bit signed).
MAX_ID = 2**63 - 1


def parse_id(value: object) -> int | None:
    """``value`` as a row id (an int or digits, 1..MAX_ID), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 40:
        number = int(value.strip())
    else:
        return None
    return number if 0 < number <= MAX_ID else None
