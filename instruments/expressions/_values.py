"""XPath values as ODK Collect (JavaRosa) sees them, and the conversions between them.

An expression value is one of ``bool``, ``float`` (every XPath number), ``str`` or
:class:`datetime.date` (ODK's extra date type; a :class:`datetime.datetime` is a date with
a time).  Answers arrive as Python values and are turned into these by :func:`from_answer`.
"""

from __future__ import annotations

import datetime
import math
import numbers
from collections.abc import Mapping
from decimal import Decimal

__all__ = [
    "EPOCH_ORDINAL",
    "Value",
    "as_string",
    "epoch_days",
    "equals",
    "from_answer",
    "to_boolean",
    "to_number",
    "to_string",
]

Value = bool | float | str | datetime.date

#: ``date.toordinal()`` of 1970-01-01: dates become numbers as days since this day.
EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()

_NUMBER_CHARACTERS = frozenset("-.0123456789")


def from_answer(value: object, name: str) -> Value:
    """Turn an answer (or ``current``) into an expression value.

    ``None`` is the empty string, integers and decimals are numbers, a select_multiple
    tuple is its space-separated choice names, dates stay dates.  A NaN answer (how
    pandas marks a missing number) is no answer, like ``None``.
    """
    if isinstance(value, str | bool | datetime.date):
        return value
    if isinstance(value, float):
        return value if value == value else ""  # NaN is the only value unequal to itself
    if value is None:
        return ""
    if isinstance(value, int | Decimal | numbers.Real):  # Real: Fraction, numpy integers
        return float(value)
    if isinstance(value, tuple | list):
        return " ".join(str(choice) for choice in value)
    if isinstance(value, Mapping):
        return ""  # a choice row used as '.': its own text is empty
    kind = type(value).__name__
    raise TypeError(f"answer {name} has type {kind}, which expressions cannot use")


def to_boolean(value: Value) -> bool:
    """XPath ``boolean()``: non-empty strings, non-zero numbers and any date are true."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return abs(value) > 1e-12  # NaN compares false, so NaN is false
    if isinstance(value, str):
        return value != ""
    return True


def to_number(value: Value) -> float:
    """XPath ``number()`` as JavaRosa does it.

    Strings may hold only digits, '-', '.' (',' counts as '.') around optional blanks,
    so '', ' ', '1e3' and '+1' are NaN; ``True`` is 1; a date is its days since 1970-01-01.
    """
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        text = value.replace(",", ".").strip()
        if not text or not _NUMBER_CHARACTERS.issuperset(text):
            return math.nan
        try:
            return float(text)
        except ValueError:  # '1-2', '1.2.3', '-'
            return math.nan
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    return float(epoch_days(value))


def epoch_days(value: datetime.date) -> int:
    """Whole days from 1970-01-01 to the date (the date part of a date-time)."""
    return value.toordinal() - EPOCH_ORDINAL


def to_string(value: Value) -> str:
    """XPath ``string()``: whole numbers without '.0', dates as 'YYYY-MM-DD'."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _number_to_string(value)
    return value.isoformat()


def _number_to_string(number: float) -> str:
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if abs(number) < 1e-12:
        return "0"
    whole = math.trunc(number)
    if abs(number - whole) < 1e-12:
        return str(whole)
    text = repr(number)
    if "e" in text:  # XPath writes numbers without an exponent
        text = format(Decimal(text), "f")
    return text


def as_string(value: object) -> str:
    """The text ODK would store for an evaluated value, e.g. a ``calculation`` result.

    NaN, what arithmetic on unanswered items gives, is stored as no answer (``''``), as
    Collect does.

    >>> as_string(6.0), as_string(0.5), as_string(True), as_string(datetime.date(2026, 3, 1))
    ('6', '0.5', 'true', '2026-03-01')
    """
    return to_string(from_answer(value, "value"))


def equals(left: Value, right: Value) -> bool:
    """XPath ``=``: as booleans if either side is one, else as numbers if either is one,
    else as strings (so a date equals its 'YYYY-MM-DD' text)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return to_boolean(left) == to_boolean(right)
    if isinstance(left, float) or isinstance(right, float):
        a = to_number(left)
        b = to_number(right)
        return a == b or abs(a - b) < 1e-12
    return to_string(left) == to_string(right)
