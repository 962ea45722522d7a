"""Linking the same pupils across two waves by their self-generated codes.

Codes arrive as keyed digests, one 64-bit number per character position (the characters
themselves are never known here), so two codes can be compared position by position: their
*distance* is the number of positions that differ. A pupil in the later wave can only be
linked to a pupil of the earlier wave at the same school, one year group below (everyone
moves up a year between waves).

Rules, applied in order, each only to pupils no earlier rule linked or set aside:

1. ``exact``: the same code;
2. ``fuzzy1``: codes differing in one position;
3. ``fuzzy2``: codes differing in two positions.

Links are one to one. Within a rule, a pair is linked only when each of the two has no
other candidate under that rule; every pupil involved in a pair that is not linked is
*ambiguous*: left unlinked, counted, and not tried again by a looser rule. A code with a
part left unanswered is *incomplete* and never linked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["OUTCOMES", "RULES", "CodeTable", "Linked", "link_codes"]

#: Linking rules in the order they are tried, with the distance each allows.
RULES: tuple[tuple[str, int], ...] = (("exact", 0), ("fuzzy1", 1), ("fuzzy2", 2))
#: What can become of a later-wave pupil, in report order.
OUTCOMES = ("exact", "fuzzy1", "fuzzy2", "ambiguous", "unmatched", "incomplete", "no_year")

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class CodeTable:
    """One wave's codes: a row per pupil.

    ``digests`` is an (n, positions) array of unsigned 64-bit numbers; ``missing`` counts
    each code's unanswered parts; ``year`` is -1 when the year group is not known.
    """

    ids: npt.NDArray[np.object_]
    site: IntArray
    year: IntArray
    digests: npt.NDArray[np.uint64]
    missing: IntArray

    @classmethod
    def build(
        cls,
        ids: Sequence[str],
        site: Sequence[int],
        year: Sequence[int],
        digests: Sequence[bytes],
        missing: Sequence[int],
    ) -> CodeTable:
        """A table from stored rows (``digests`` as concatenated 8-byte digests)."""
        widths = {len(d) for d in digests}
        if len(widths) > 1:
            raise ValueError(
                f"codes of different lengths ({sorted(widths)} bytes): the code questions"
                " changed between instrument versions; link waves asked the same code"
            )
        width = widths.pop() // 8 if widths else 0
        raw = np.frombuffer(b"".join(digests), dtype=np.uint64).reshape(len(digests), width)
        return cls(
            ids=np.asarray(list(ids), dtype=object),
            site=np.asarray(site, dtype=np.int64),
            year=np.asarray(year, dtype=np.int64),
            digests=raw,
            missing=np.asarray(missing, dtype=np.int64),
        )

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Linked:
    """The outcome: the links made, and what became of each later-wave pupil."""

    #: One row per link: ``response_id, previous_response_id, site, rule, distance``.
    links: pd.DataFrame
    #: One row per later-wave pupil: ``response_id, site, outcome`` (one of OUTCOMES).
    outcomes: pd.DataFrame


def _block(site: IntArray, year: IntArray) -> IntArray:
    return site * 1000 + year


def _distances(
    new_index: IntArray,
    new_block: IntArray,
    new_digests: npt.NDArray[np.uint64],
    old_index: IntArray,
    old_block: IntArray,
    old_digests: npt.NDArray[np.uint64],
    limit: int,
) -> tuple[IntArray, IntArray, IntArray]:
    """Every (new, old, distance) pair in the same block with distance <= ``limit``."""
    new_order = np.argsort(new_block, kind="stable")
    old_order = np.argsort(old_block, kind="stable")
    nb, ob = new_block[new_order], old_block[old_order]
    blocks = np.intersect1d(nb, ob)
    n_lo, n_hi = np.searchsorted(nb, blocks, "left"), np.searchsorted(nb, blocks, "right")
    o_lo, o_hi = np.searchsorted(ob, blocks, "left"), np.searchsorted(ob, blocks, "right")
    found_new: list[IntArray] = []
    found_old: list[IntArray] = []
    found_dist: list[IntArray] = []
    for a, b, c, d in zip(n_lo, n_hi, o_lo, o_hi, strict=True):
        rows_new = new_order[a:b]
        rows_old = old_order[c:d]
        # Chunked so one very large block never needs a huge comparison array.
        for start in range(0, len(rows_new), 256):
            part = rows_new[start : start + 256]
            dist = (new_digests[part][:, None, :] != old_digests[rows_old][None, :, :]).sum(axis=2)
            i, j = np.nonzero(dist <= limit)
            found_new.append(new_index[part[i]])
            found_old.append(old_index[rows_old[j]])
            found_dist.append(dist[i, j].astype(np.int64))
    if not found_new:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(found_new), np.concatenate(found_old), np.concatenate(found_dist)


def link_codes(previous: CodeTable, current: CodeTable, *, max_distance: int = 2) -> Linked:
    """Link ``current`` pupils to ``previous`` ones (see the module docstring for the rules).

    Parameters
    ----------
    previous, current : CodeTable
        The earlier and the later wave's codes (same number of positions).
    max_distance : int
        The loosest rule tried: 0 (exact only), 1 or 2 (default).

    Returns
    -------
    Linked

    Examples
    --------
    >>> prev = CodeTable.build(["a", "b"], [1, 1], [5, 5],
    ...                        [bytes(8) + b"\\1" * 8, b"\\2" * 16], [0, 0])
    >>> cur = CodeTable.build(["x", "y", "z"], [1, 1, 1], [6, 6, 6],
    ...                       [bytes(8) + b"\\1" * 8, b"\\2" * 8 + b"\\3" * 8, b"\\4" * 16],
    ...                       [0, 0, 0])
    >>> result = link_codes(prev, cur)
    >>> result.links[["response_id", "previous_response_id", "rule"]].to_dict("records")
    [{'response_id': 'x', 'previous_response_id': 'a', 'rule': 'exact'}, \
{'response_id': 'y', 'previous_response_id': 'b', 'rule': 'fuzzy1'}]
    >>> list(result.outcomes["outcome"])
    ['exact', 'fuzzy1', 'unmatched']
    """
    if previous.digests.shape[1] != current.digests.shape[1] and len(previous) and len(current):
        raise ValueError(
            f"the two waves' codes have {previous.digests.shape[1]} and"
            f" {current.digests.shape[1]} positions: link waves that asked the same code"
        )
    n_new = len(current)
    outcome = np.full(n_new, "unmatched", dtype=object)
    outcome[current.year < 0] = "no_year"
    outcome[current.missing > 0] = "incomplete"
    new_ok = (current.missing == 0) & (current.year >= 0)
    old_ok = (previous.missing == 0) & (previous.year >= 0)
    new_index = np.flatnonzero(new_ok).astype(np.int64)
    old_index = np.flatnonzero(old_ok).astype(np.int64)
    pairs_new, pairs_old, pairs_dist = _distances(
        new_index,
        _block(current.site[new_index], current.year[new_index] - 1),
        current.digests[new_index],
        old_index,
        _block(previous.site[old_index], previous.year[old_index]),
        previous.digests[old_index],
        max_distance,
    )
    new_out = np.zeros(n_new, dtype=bool)
    old_out = np.zeros(len(previous), dtype=bool)
    link_new: list[IntArray] = []
    link_old: list[IntArray] = []
    link_rule: list[npt.NDArray[np.object_]] = []
    link_dist: list[IntArray] = []
    for rule, limit in RULES:
        if limit > max_distance:
            break
        keep = (pairs_dist <= limit) & ~new_out[pairs_new] & ~old_out[pairs_old]
        pn, po, pd_ = pairs_new[keep], pairs_old[keep], pairs_dist[keep]
        if not len(pn):
            continue
        count_new = np.bincount(pn, minlength=n_new)
        count_old = np.bincount(po, minlength=len(previous))
        single = (count_new[pn] == 1) & (count_old[po] == 1)
        link_new.append(pn[single])
        link_old.append(po[single])
        link_rule.append(np.full(int(single.sum()), rule, dtype=object))
        link_dist.append(pd_[single])
        outcome[pn[single]] = rule
        unsure_new = pn[~single]
        outcome[unsure_new] = "ambiguous"
        new_out[pn] = True
        old_out[po] = True
    if link_new:
        ln, lo = np.concatenate(link_new), np.concatenate(link_old)
        rules, dists = np.concatenate(link_rule), np.concatenate(link_dist)
    else:
        ln = lo = dists = np.zeros(0, dtype=np.int64)
        rules = np.zeros(0, dtype=object)
    order = np.argsort(ln, kind="stable")
    links = pd.DataFrame(
        {
            "response_id": current.ids[ln[order]],
            "previous_response_id": previous.ids[lo[order]],
            "site": current.site[ln[order]],
            "rule": rules[order],
            "distance": dists[order],
        }
    )
    outcomes = pd.DataFrame({"response_id": current.ids, "site": current.site, "outcome": outcome})
    return Linked(links=links, outcomes=outcomes)
