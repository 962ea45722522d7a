"""UK postcodes, and the area whose postcode prefixes match one."""

from __future__ import annotations

from collections.abc import Iterable

from surveys.models import Site

__all__ = ["area_for_postcode", "normalise_postcode"]


def normalise_postcode(text: str) -> tuple[str, str]:
    """The outward code and the compact form of a full or partial UK postcode.

    >>> normalise_postcode(" e8 1ab "), normalise_postcode("E81AB"), normalise_postcode("N16")
    (('E8', 'E81AB'), ('E8', 'E81AB'), ('N16', 'N16'))
    >>> normalise_postcode("E8 1")
    ('E8', 'E81')
    """
    upper = " ".join(text.upper().split())
    compact = upper.replace(" ", "")
    if " " in upper:
        outward = upper.split(" ", 1)[0]
    elif len(compact) >= 5:
        outward = compact[:-3]
    else:
        outward = compact
    return outward, compact


def _prefix_matches(prefix: str, outward: str, compact: str) -> bool:
    if prefix.isalpha():  # a postcode area such as "E": E1, E8, E17 but not EC1
        rest = outward[len(prefix) :]
        return outward.startswith(prefix) and rest[:1].isdigit()
    if len(prefix) <= len(outward):  # an outward code such as "E8" (not "E81", "E8A")
        return outward == prefix
    return compact.startswith(prefix)  # a sector or finer, such as "E81"


def area_for_postcode(postcode: str, areas: Iterable[Site]) -> Site | None:
    """The area whose postcode prefixes match ``postcode`` most specifically, or None.

    Prefixes (``Site.postcodes``, space-separated) are postcode areas ("E"), outward
    codes ("E8") or sectors written without the space ("E81"); the longest matching
    prefix wins, so "E8" and "E81" can be different areas.
    """
    outward, compact = normalise_postcode(postcode)
    if not compact:
        return None
    best: tuple[int, Site] | None = None
    for area in areas:
        for raw in area.postcodes.split():
            prefix = raw.upper().replace(" ", "")
            if prefix and _prefix_matches(prefix, outward, compact):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), area)
    return best[1] if best else None
