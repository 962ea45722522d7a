"""Reading cell values as people type or export them: choices by name or label, dates.

Choices are matched by name, then by label in any of the instrument's languages (case,
spacing, curly quotes and dashes ignored), so a KoboToolbox export "as labels", a
SurveyMonkey export and a sheet typed up from paper all work. Dates are ISO 8601, UK
``DD/MM/YYYY [HH:MM[:SS]]`` (or US month-first where the column shows it), SurveyMonkey's
``MM/DD/YYYY hh:mm:ss AM``, or Excel serial numbers.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from instruments import Instrument, Item

__all__ = [
    "ChoiceIndex",
    "NotAChoice",
    "date_order",
    "normalise",
    "parse_when",
]

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2212"), "-")
_QUOTES = {ord("\u2018"): "'", ord("\u2019"): "'", ord("\u201c"): '"', ord("\u201d"): '"'}


def normalise(text: str) -> str:
    """Text compared loosely: NFKC, case-folded, one space, plain dashes and quotes.

    >>> normalise("  Fairly\u00a0SATISFIED ") == normalise("fairly satisfied")
    True
    >>> normalise("0 \u2013 Very unhappy")
    '0 - very unhappy'
    """
    text = unicodedata.normalize("NFKC", text).translate(_DASHES).translate(_QUOTES)
    return " ".join(text.casefold().split())


class NotAChoice(ValueError):
    """A cell (or the part of it quoted) that names no choice of the item."""

    def __init__(self, value: str, choices: Sequence[str]) -> None:
        super().__init__(f"'{value}' is not one of the choices ({', '.join(choices)})")
        self.value = value


@dataclass(frozen=True)
class ChoiceIndex:
    """Choice name or label (any language) -> choice name, for one select item."""

    item: Item
    lookup: Mapping[str, str]
    #: Cells already read (a column holds few distinct values): text -> names or problem.
    seen: dict[str, str | list[str] | NotAChoice] = field(default_factory=dict, compare=False)

    @classmethod
    def build(cls, item: Item, codes: Mapping[str, str] | None = None) -> ChoiceIndex:
        """The index of ``item``; ``codes`` (from a mapping file) map more values to names."""
        lookup: dict[str, str] = {}
        for choice in item.choices:
            for label in choice.labels.values():
                lookup.setdefault(normalise(label), choice.name)
        for choice in item.choices:  # a name wins over another choice's label
            lookup[normalise(choice.name)] = choice.name
        for code, name in (codes or {}).items():
            lookup[normalise(str(code))] = name
        return cls(item, lookup)

    def one(self, text: str) -> str | None:
        """The choice the whole of ``text`` names, or None."""
        key = normalise(text).strip(" ,;")
        found = self.lookup.get(key)
        if found is None and re.fullmatch(r"-?\d+\.0+", key):  # 3.0 from a spreadsheet
            found = self.lookup.get(key.split(".")[0])
        return found

    def read(self, text: str) -> str | list[str]:
        """Like :meth:`read_new`, remembering each distinct cell's result."""
        found = self.seen.get(text)
        if found is None:
            try:
                found = self.read_new(text)
            except NotAChoice as err:
                found = err
            if len(self.seen) < 10_000:
                self.seen[text] = found
        if isinstance(found, NotAChoice):
            raise found
        return list(found) if isinstance(found, list) else found

    def read_new(self, text: str) -> str | list[str]:
        """The choice name (select_one) or names (select_multiple) a cell holds.

        Several choices may be separated by spaces, commas, semicolons or new lines, and
        given by name or label (labels may hold spaces and commas: the longest label that
        fits wins). Raises :class:`NotAChoice` quoting the whole cell (select_one) or the
        words that name no choice (select_multiple).
        """
        names = self.item.choice_names
        whole = self.one(text)
        if self.item.type == "select_one":
            if whole is None:
                raise NotAChoice(text.strip(), names)
            return whole
        if whole is not None:
            return [whole]
        chosen: list[str] = []
        for part in re.split(r"[;\n]", text):
            if not part.strip(" ,"):
                continue
            one = self.one(part)
            chosen.extend([one] if one is not None else self._words(part))
        return chosen

    def _words(self, text: str) -> list[str]:
        """Names or labels one after another, the longest run of words first."""
        words = text.replace(",", ", ").split()
        chosen: list[str] = []
        start = 0
        while start < len(words):
            for end in range(len(words), start, -1):
                found = self.one(" ".join(words[start:end]))
                if found is not None:
                    chosen.append(found)
                    start = end
                    break
            else:
                stop = start + 1
                while stop < len(words) and not any(
                    self.one(" ".join(words[stop:end])) for end in range(stop + 1, len(words) + 1)
                ):
                    stop += 1
                raise NotAChoice(" ".join(words[start:stop]).strip(" ,"), self.item.choice_names)
        return chosen


def choice_indexes(
    instrument: Instrument, codes: Mapping[str, Mapping[str, str]] | None = None
) -> dict[str, ChoiceIndex]:
    """A :class:`ChoiceIndex` for every select item of ``instrument``."""
    return {
        item.name: ChoiceIndex.build(item, (codes or {}).get(item.name))
        for item in instrument.answerable_items
        if item.type in ("select_one", "select_multiple")
    }


_SLASHED = re.compile(
    r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})"
    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*([AaPp][Mm])?)?"
)
#: Excel's day 0 (serial 1 is 1900-01-01; the 1900 leap-year bug makes 1899-12-30 right
#: for every serial after February 1900).
_EXCEL_EPOCH = dt.datetime(1899, 12, 30, tzinfo=dt.UTC)


def date_order(values: Iterable[str]) -> str | None:
    """'dmy' or 'mdy' when a column's slashed dates show which, else None.

    >>> date_order(["03/04/2025", "25/12/2024"]), date_order(["12/25/2024 10:00:00 AM"])
    ('dmy', 'mdy')
    >>> date_order(["03/04/2025"]) is None
    True
    """
    day_first = month_first = False
    for value in values:
        match = _SLASHED.fullmatch(value.strip())
        if match:
            first, second = int(match[1]), int(match[2])
            day_first |= first > 12
            month_first |= second > 12
    if day_first == month_first:
        return None
    return "dmy" if day_first else "mdy"


def parse_when(text: str, order: str | None) -> dt.datetime:
    """A date and time from a cell; ValueError with the reason if it is none.

    ``order`` ('dmy', 'mdy' or None) settles slashed dates whose day and month are both
    12 or less; without it such a date is refused as ambiguous.
    """
    value = text.strip()
    try:
        serial = float(value)
    except ValueError:
        serial = None
    if serial is not None:
        if 1 <= serial < 2958466:  # Excel's range: 1900-01-01 to 9999-12-31
            # To the second: a serial's float is a few microseconds off the time typed.
            return _EXCEL_EPOCH + dt.timedelta(seconds=round(serial * 86400))
        raise ValueError(f"'{value}' is not a date")
    match = _SLASHED.fullmatch(value)
    if match:
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        if order is None and first <= 12 and second <= 12 and first != second:
            raise ValueError(
                f"'{value}' could be {first}/{second} as day/month or as month/day:"
                " write it as YYYY-MM-DD"
            )
        day, month = (second, first) if order == "mdy" else (first, second)
        if order is None and first <= 12 < second:
            day, month = second, first
        hour, minute, second_ = int(match[4] or 0), int(match[5] or 0), int(match[6] or 0)
        if match[7]:
            if not 1 <= hour <= 12:
                raise ValueError(f"'{value}' has an hour outside 1-12 before AM/PM")
            hour = hour % 12 + (12 if match[7].lower() == "pm" else 0)
        try:
            return dt.datetime(year, month, day, hour, minute, second_, tzinfo=dt.UTC)
        except ValueError:
            raise ValueError(f"'{value}' is not a date") from None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        raise ValueError(
            f"'{value}' is not a date and time (use YYYY-MM-DD HH:MM or DD/MM/YYYY HH:MM)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
