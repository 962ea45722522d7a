"""Trends: each site's item results against the same site's previous wave."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis.errors import AnalysisError, Message
from analysis.spec import TREND_COLUMNS
from analysis.stats import classify_difference, two_proportion_ztest
from analysis.suppression import DEFAULT_K, apply_suppression, check_k

__all__ = ["item_trends"]

FloatArray = npt.NDArray[np.float64]

_NEEDED = ("wave", "site", "item", "n", "pct_positive")


def _estimates(summary: pd.DataFrame, weighted: bool) -> tuple[FloatArray, FloatArray]:
    """Percentage and the sample size to test it with (effective n for areas)."""
    if weighted:
        pct = pd.to_numeric(summary["weighted_pct"], errors="coerce")
        size = pd.to_numeric(summary["n_effective"], errors="coerce")
    else:
        pct = pd.to_numeric(summary["pct_positive"], errors="coerce")
        size = pd.to_numeric(summary["n"], errors="coerce")
    return (
        pct.to_numpy(dtype=np.float64, na_value=np.nan),
        size.to_numpy(dtype=np.float64, na_value=np.nan),
    )


def item_trends(
    current: pd.DataFrame, previous: pd.DataFrame, *, k: int = DEFAULT_K
) -> pd.DataFrame:
    """Change in percentage positive since the previous wave, per site x item.

    Parameters
    ----------
    current, previous : DataFrame
        Item summaries of the two waves (:func:`analysis.items.item_summary`,
        :func:`analysis.areas.area_summary` or :func:`analysis.breakdowns.item_breakdowns`
        output; suppressed rows simply have no trend).
    k : int
        Suppression threshold; a previous-wave row with ``0 < n < k`` is not used.

    Returns
    -------
    DataFrame
        Columns :data:`analysis.spec.TREND_COLUMNS` (plus ``group_var`` and
        ``group_value`` after ``domain`` for breakdowns), one row per row of
        ``current``. ``change = pct_positive - previous_pct`` in points;
        ``p_value`` is the pooled two-proportion z-test between the waves (treated
        as independent samples); ``change_flag`` is improved/declined when
        ``p < 0.05`` and ``|change| >= 5`` points, else similar, and empty when either
        wave has no figure. For area summaries the weighted percentages and effective
        sample sizes are compared, and ``pct_positive``/``previous_pct`` are weighted.

    Examples
    --------
    >>> now = pd.DataFrame({"wave": "2027", "site": ["a", "b"], "item": "q",
    ...                     "n": [200, 150], "n_positive": [150, 75],
    ...                     "pct_positive": [75.0, 50.0]})
    >>> before = now.assign(wave="2026", n_positive=[120, 72], pct_positive=[60.0, 48.0])
    >>> item_trends(now, before)[["site", "previous_pct", "change", "change_flag"]]
      site  previous_pct  change change_flag
    0    a          60.0    15.0    improved
    1    b          48.0     2.0     similar
    """
    k = check_k(k)
    for frame, name in ((current, "current"), (previous, "previous")):
        for column in _NEEDED:
            if column not in frame.columns:
                raise AnalysisError(
                    Message.MISSING_COLUMN, frame=f"the {name} summary", column=column
                )
    keys = ["site", "item"]
    if {"group_var", "group_value"} <= set(current.columns) & set(previous.columns):
        keys += ["group_var", "group_value"]
    if previous.duplicated(keys).any() or current.duplicated(keys).any():
        raise AnalysisError(
            Message.BAD_TABLE, why="a summary has more than one row per " + " x ".join(keys)
        )
    weighted = all(
        {"weighted_pct", "n_effective"} <= set(frame.columns) for frame in (current, previous)
    )
    pct, size = _estimates(current, weighted)
    prev_pct_all, prev_size_all = _estimates(previous, weighted)
    prev_n_all = pd.to_numeric(previous["n"], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    small = (prev_n_all > 0) & (prev_n_all < k)
    prev = previous[keys].copy()
    prev["_n"] = np.where(small, np.nan, prev_n_all)
    prev["_pct"] = np.where(small, np.nan, prev_pct_all)
    prev["_size"] = np.where(small, np.nan, prev_size_all)
    prev_wave = previous["wave"].dropna().astype(str)
    joined = current[keys].merge(prev, on=keys, how="left", sort=False)
    prev_n = joined["_n"].to_numpy(dtype=np.float64, na_value=np.nan)
    prev_pct = joined["_pct"].to_numpy(dtype=np.float64, na_value=np.nan)
    prev_size = joined["_size"].to_numpy(dtype=np.float64, na_value=np.nan)
    change = pct - prev_pct
    _, p = two_proportion_ztest(pct / 100 * size, size, prev_pct / 100 * prev_size, prev_size)
    p = np.where(np.isnan(change), np.nan, p)
    out = pd.DataFrame(index=current.index)
    out["wave"] = current["wave"]
    out["previous_wave"] = prev_wave.iloc[0] if len(prev_wave) else pd.NA
    for column in ("site", "site_name", "level", "item", "domain", "group_var", "group_value"):
        if column in current.columns:
            out[column] = current[column]
        elif column in ("site_name", "level", "domain"):
            out[column] = pd.NA
    out["n"] = pd.to_numeric(current["n"], errors="coerce").astype("Int64")
    out["pct_positive"] = pct
    out["previous_n"] = pd.array(np.rint(np.nan_to_num(prev_n)).astype(np.int64), dtype="Int64")
    out.loc[np.isnan(prev_n), "previous_n"] = pd.NA
    out["previous_pct"] = prev_pct
    out["change"] = change
    out["p_value"] = p
    out["change_flag"] = pd.array(
        classify_difference(change, p, labels=("improved", "declined", "similar")), dtype="str"
    )
    out["suppressed"] = (
        current["suppressed"].fillna(False).astype(bool)
        if "suppressed" in current.columns
        else False
    )
    columns = [c for c in TREND_COLUMNS if c in out.columns]
    if "group_var" in out.columns:
        at = columns.index("domain") + 1
        columns[at:at] = ["group_var", "group_value"]
    for column in ("wave", "previous_wave", "site", "site_name", "level", "item", "domain"):
        out[column] = out[column].astype("str")
    return apply_suppression(out.loc[:, columns].reset_index(drop=True), k=k)
