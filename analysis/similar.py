"""Similar schools: groups of schools by phase, size and free-school-meal band.

A school is compared with the other schools of its group, pooled, beside the whole
community. A group is used only when it holds at least three *other* schools, so no
single school's figures can be read off the comparison; and a group's figure for an
item is given only when every other school's figure for that item is itself shown
(none is suppressed), so the comparison discloses nothing that is hidden elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.errors import AnalysisError, Message
from analysis.spec import ALL_SITES

__all__ = ["MIN_OTHER_SCHOOLS", "similar_benchmarks", "similar_school_groups"]

#: A comparison group needs at least this many schools besides the one compared.
MIN_OTHER_SCHOOLS = 3

_PHASE_WORDS: Mapping[str, str] = {"all-through": "all-through", "special": "special"}


def _size_bands(frame: pd.DataFrame) -> pd.Series:
    """'smaller' / 'larger': below or at least the median size of the school's phase."""
    median = frame.groupby("phase")["size"].transform("median")
    return pd.Series(
        np.where(frame["size"] < median, "smaller", "larger"), index=frame.index, dtype=object
    )


def _label(phase: str, keys: Sequence[str]) -> str:
    noun = f"{_PHASE_WORDS.get(phase, phase)} schools"
    parts = []
    if "size_band" in keys:
        parts.append("of a similar size")
    if "fsm_band" in keys:
        parts.append("with a similar share of free school meals")
    return " ".join([f"Other {noun}", *parts])


def similar_school_groups(
    sites: pd.DataFrame, *, min_others: int = MIN_OTHER_SCHOOLS
) -> pd.DataFrame:
    """Each school's comparison group: the closest grouping with enough other schools.

    Parameters
    ----------
    sites : DataFrame
        One row per school: ``site``, ``phase`` ("" if unknown), ``size`` (pupils on
        roll, else responses) and optionally ``fsm_band`` ("" if unknown).
    min_others : int
        Other schools a group needs (default 3).

    Returns
    -------
    DataFrame
        ``site, group, label, members``: ``members`` is the tuple of the *other*
        schools' codes. Schools are tried by phase, size band (below or above their
        phase's median) and free-school-meal band; then phase and size band; then phase
        alone. A school with no phase, or whose phase has too few others, is left out.

    Examples
    --------
    >>> sites = pd.DataFrame({"site": list("abcdef"), "phase": ["primary"] * 5 + ["secondary"],
    ...                       "size": [100, 110, 120, 300, 310, 900]})
    >>> out = similar_school_groups(sites)
    >>> sorted(set(out["label"])), list(out["site"]), out["members"].iloc[0]
    (['Other primary schools'], ['a', 'b', 'c', 'd', 'e'], ('b', 'c', 'd', 'e'))
    """
    for column in ("site", "phase", "size"):
        if column not in sites.columns:
            raise AnalysisError(Message.MISSING_COLUMN, frame="sites", column=column)
    frame = sites.loc[:, [c for c in ("site", "phase", "size", "fsm_band") if c in sites]].copy()
    frame["site"] = frame["site"].astype(str)
    frame["phase"] = frame["phase"].fillna("").astype(str)
    frame["fsm_band"] = frame["fsm_band"].fillna("").astype(str) if "fsm_band" in frame else ""
    frame["size"] = pd.to_numeric(frame["size"], errors="coerce").fillna(0.0)
    frame = frame[frame["phase"] != ""].reset_index(drop=True)
    frame["size_band"] = _size_bands(frame) if len(frame) else pd.Series(dtype=object)
    ladders = (("phase", "size_band", "fsm_band"), ("phase", "size_band"), ("phase",))
    rows = []
    for record in frame.to_dict("records"):
        for keys in ladders:
            if any(record[key] == "" for key in keys):
                continue
            same = np.ones(len(frame), dtype=bool)
            for key in keys:
                same &= (frame[key] == record[key]).to_numpy()
            others = tuple(sorted(s for s in frame.loc[same, "site"] if s != record["site"]))
            if len(others) >= min_others:
                rows.append(
                    {
                        "site": record["site"],
                        "group": " / ".join(str(record[key]) for key in keys),
                        "label": _label(str(record["phase"]), keys),
                        "members": others,
                    }
                )
                break
    return pd.DataFrame(rows, columns=["site", "group", "label", "members"])


def similar_benchmarks(summary: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """Pooled percentage positive of each school's similar schools, per item.

    Parameters
    ----------
    summary : DataFrame
        The suppressed item summary (``site, item, n, n_positive, suppressed``).
    groups : DataFrame
        From :func:`similar_school_groups`.

    Returns
    -------
    DataFrame
        ``site, item, similar_n, similar_pct, similar_label``; ``similar_pct`` is
        NaN where any other school of the group has that item hidden (or no answers).

    Examples
    --------
    >>> summary = pd.DataFrame({"site": ["a", "b", "c", "d"], "item": "q",
    ...     "n": [20, 30, 10, 40], "n_positive": [10, 15, 5, 30], "suppressed": False})
    >>> groups = pd.DataFrame({"site": ["a"], "group": ["p"], "label": ["Other p schools"],
    ...                        "members": [("b", "c", "d")]})
    >>> similar_benchmarks(summary, groups)[["site", "similar_n", "similar_pct"]]
      site  similar_n  similar_pct
    0    a         80         62.5
    """
    columns = ["site", "item", "similar_n", "similar_pct", "similar_label"]
    if groups.empty or summary.empty:
        return pd.DataFrame(columns=columns)
    table = summary[summary["site"].astype(str) != ALL_SITES]
    n = table.pivot_table(index="site", columns="item", values="n", aggfunc="sum", sort=False)
    pos = table.pivot_table(
        index="site", columns="item", values="n_positive", aggfunc="sum", sort=False
    ).reindex(index=n.index, columns=n.columns)
    hidden = (
        table.assign(suppressed=table["suppressed"].astype(bool))
        .pivot_table(index="site", columns="item", values="suppressed", aggfunc="max", sort=False)
        .reindex(index=n.index, columns=n.columns)
        .fillna(True)
        .to_numpy(dtype=bool)
    )
    n_values = n.fillna(0).to_numpy(dtype=np.float64)
    pos_values = pos.fillna(0).to_numpy(dtype=np.float64)
    position = {str(site): i for i, site in enumerate(n.index.astype(str))}
    items = [str(item) for item in n.columns]
    parts = []
    for site, label, members in groups[["site", "label", "members"]].itertuples(index=False):
        rows = [position[m] for m in members if m in position]
        if len(rows) < len(members) or not rows:
            continue
        blocked = hidden[rows].any(axis=0)
        total = n_values[rows].sum(axis=0)
        positive = pos_values[rows].sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            pct = np.where(blocked | (total == 0), np.nan, 100.0 * positive / total)
        parts.append(
            pd.DataFrame(
                {
                    "site": site,
                    "item": items,
                    "similar_n": np.where(blocked, np.nan, total),
                    "similar_pct": pct,
                    "similar_label": label,
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)
    out["similar_n"] = out["similar_n"].astype("Int64")
    return out.loc[:, columns]
