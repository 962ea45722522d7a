"""Neighbourhood (area) summaries: weighted estimates with design effects."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis._grid import (
    all_label,
    assemble,
    count_grid,
    item_flags,
    proportion_rows,
    site_index,
    summarised_items,
)
from analysis.errors import AnalysisError, Message
from analysis.spec import ALL_SITES, AREA_COLUMNS, ItemSpec
from analysis.stats import (
    benjamini_hochberg,
    classify_difference,
    two_proportion_ztest,
    wilson_interval,
)
from analysis.suppression import DEFAULT_K, apply_suppression

__all__ = ["area_summary", "area_table"]

FloatArray = npt.NDArray[np.float64]


def _weights(responses: pd.DataFrame, weight_col: str) -> FloatArray:
    if weight_col not in responses.columns:
        raise AnalysisError(Message.MISSING_COLUMN, frame="responses", column=weight_col)
    w = pd.to_numeric(responses[weight_col], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    if not np.all(np.isfinite(w) & (w >= 0)):
        raise AnalysisError(
            Message.BAD_WEIGHTS, column=weight_col, why="every weight must be a number, 0 or more"
        )
    return w


def _weighted(
    n: FloatArray, w: FloatArray, wp: FloatArray, w2: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Weighted percentage, Kish design effect and effective n of each cell."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (n > 0) & (w > 0)
        pct = np.where(ok, 100 * wp / w, np.nan)
        n_eff = np.where(ok, w * w / w2, np.nan)
        deff = np.where(ok, n * w2 / (w * w), np.nan)
    return pct, deff, n_eff


def area_table(
    responses: pd.DataFrame,
    items: Sequence[ItemSpec],
    *,
    wave: str,
    weight_col: str = "weight",
) -> pd.DataFrame:
    """The area summary before suppression (use :func:`area_summary` for output)."""
    chosen = summarised_items(responses, items)
    sites = site_index(responses)
    weights = _weights(responses, weight_col)
    answered, positive = item_flags(responses, chosen)
    codes, size = sites.codes, sites.size
    respondents = np.bincount(codes, minlength=size).astype(np.float64)
    n = count_grid(codes, size, answered)
    pos = count_grid(codes, size, positive)
    w = count_grid(codes, size, answered, weights)
    wp = count_grid(codes, size, positive, weights)
    w2 = count_grid(codes, size, answered, weights * weights)
    tot = [a.sum(axis=0, keepdims=True) for a in (n, pos, w, wp, w2)]
    bench = [t - a for t, a in zip(tot, (n, pos, w, wp, w2), strict=True)]

    pct, deff, n_eff = _weighted(n, w, wp, w2)
    b_pct, _, b_eff = _weighted(bench[0], bench[2], bench[3], bench[4])
    diff = pct - b_pct
    _, p = two_proportion_ztest(pct / 100 * n_eff, n_eff, b_pct / 100 * b_eff, b_eff)
    all_pct, all_deff, all_eff = _weighted(*(tot[i] for i in (0, 2, 3, 4)))

    rows = proportion_rows(
        pd.DataFrame({"site": sites.ids, "site_name": sites.names}),
        chosen,
        respondents=respondents,
        n=n,
        positive=pos,
        benchmark_n=bench[0],
        benchmark_positive=bench[1],
    )
    whole = proportion_rows(
        pd.DataFrame({"site": [ALL_SITES], "site_name": [all_label("area")]}),
        chosen,
        respondents=np.array([float(len(responses))]),
        n=tot[0],
        positive=tot[1],
    )
    low, high = wilson_interval(pct / 100 * n_eff, n_eff)
    all_low, all_high = wilson_interval(all_pct / 100 * all_eff, all_eff)
    nan_all = np.full(all_pct.size, np.nan)
    rows["ci_low"], rows["ci_high"] = 100 * low.ravel(), 100 * high.ravel()
    rows["benchmark_pct"] = b_pct.ravel()
    rows["diff"] = diff.ravel()
    rows["p_value"] = p.ravel()
    rows["p_adjusted"] = benjamini_hochberg(p, axis=1).ravel()
    rows["flag"] = pd.array(classify_difference(diff, p).ravel(), dtype="str")
    rows["weighted_pct"] = pct.ravel()
    rows["design_effect"] = deff.ravel()
    rows["n_effective"] = n_eff.ravel()
    whole["ci_low"], whole["ci_high"] = 100 * all_low.ravel(), 100 * all_high.ravel()
    whole["benchmark_pct"] = whole["diff"] = whole["p_value"] = whole["p_adjusted"] = nan_all
    whole["weighted_pct"] = all_pct.ravel()
    whole["design_effect"] = all_deff.ravel()
    whole["n_effective"] = all_eff.ravel()
    return assemble([rows, whole], wave=wave, level="area", columns=AREA_COLUMNS)


def area_summary(
    responses: pd.DataFrame,
    items: Sequence[ItemSpec],
    *,
    wave: str,
    weight_col: str = "weight",
    k: int = DEFAULT_K,
) -> pd.DataFrame:
    """Per area x item: weighted percentage positive, design effect and test, suppressed.

    Parameters
    ----------
    responses : DataFrame
        Resident responses; ``site`` is the area and ``weight_col`` holds the weights
        (from :func:`analysis.weighting.rake`).
    items : sequence of ItemSpec
        Item metadata, as for :func:`analysis.items.item_summary`.
    wave : str
        Wave name.
    weight_col : str
        Weight column (default ``weight``).
    k : int
        Suppression threshold, applied to the unweighted ``n``.

    Returns
    -------
    DataFrame
        Columns :data:`analysis.spec.AREA_COLUMNS`. ``n``, ``n_missing``,
        ``n_positive``, ``pct_positive`` and ``benchmark_n`` are unweighted counts and
        shares; ``weighted_pct`` is the weighted share; ``design_effect`` is Kish's
        ``n·Σw²/(Σw)²`` over the area's answers and ``n_effective = (Σw)²/Σw²``.
        ``ci_low``/``ci_high`` are the Wilson interval of ``weighted_pct`` on
        ``n_effective`` (so wider by the design effect); ``benchmark_pct`` is all other
        areas pooled, weighted; ``diff = weighted_pct - benchmark_pct``; ``p_value`` is
        the pooled two-proportion z-test on the weighted shares with effective sample
        sizes; ``flag`` and ``p_adjusted`` follow the item-summary rules.

    Examples
    --------
    >>> r = pd.DataFrame({"site": ["n1"] * 4 + ["n2"] * 4,
    ...                   "q": ["yes", "no", "no", "no", "yes", "yes", "no", "no"],
    ...                   "weight": [3.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]})
    >>> out = area_summary(r, [ItemSpec("q", positive={"yes"})], wave="w", k=5)
    >>> out[["site", "n", "pct_positive", "suppressed"]]
      site     n  pct_positive  suppressed
    0   n1  <NA>           NaN        True
    1   n2  <NA>           NaN        True
    2  ALL     8          37.5       False
    >>> table = area_table(r, [ItemSpec("q", positive={"yes"})], wave="w")
    >>> table[["site", "pct_positive", "weighted_pct", "design_effect", "n_effective"]]
      site  pct_positive  weighted_pct  design_effect  n_effective
    0   n1          25.0          50.0       1.333333         3.00
    1   n2          50.0          50.0       1.000000         4.00
    2  ALL          37.5          50.0       1.280000         6.25
    """
    return apply_suppression(area_table(responses, items, wave=wave, weight_col=weight_col), k=k)
