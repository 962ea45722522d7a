"""Item summaries: per site x item, the share answering positively against the benchmark."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis._grid import (
    all_label,
    assemble,
    check_level,
    count_grid,
    item_flags,
    proportion_rows,
    site_index,
    summarised_items,
)
from analysis.spec import ALL_SITES, SUMMARY_COLUMNS, ItemSpec
from analysis.suppression import DEFAULT_K, apply_suppression

__all__ = ["item_summary", "summary_table"]


def summary_table(
    responses: pd.DataFrame,
    items: Sequence[ItemSpec],
    *,
    wave: str,
    level: str = "school",
) -> pd.DataFrame:
    """The item summary before suppression (use :func:`item_summary` for output).

    Parameters and columns are those of :func:`item_summary`.
    """
    level = check_level(level)
    chosen = summarised_items(responses, items)
    sites = site_index(responses)
    answered, positive = item_flags(responses, chosen)
    respondents = np.bincount(sites.codes, minlength=sites.size).astype(np.float64)
    n = count_grid(sites.codes, sites.size, answered)
    pos = count_grid(sites.codes, sites.size, positive)
    total_n = n.sum(axis=0, keepdims=True)
    total_pos = pos.sum(axis=0, keepdims=True)
    site_cells = pd.DataFrame({"site": sites.ids, "site_name": sites.names})
    per_site = proportion_rows(
        site_cells,
        chosen,
        respondents=respondents,
        n=n,
        positive=pos,
        benchmark_n=total_n - n,
        benchmark_positive=total_pos - pos,
    )
    whole = proportion_rows(
        pd.DataFrame({"site": [ALL_SITES], "site_name": [all_label(level)]}),
        chosen,
        respondents=np.array([float(len(responses))]),
        n=total_n,
        positive=total_pos,
    )
    return assemble([per_site, whole], wave=wave, level=level, columns=SUMMARY_COLUMNS)


def item_summary(
    responses: pd.DataFrame,
    items: Sequence[ItemSpec],
    *,
    wave: str,
    level: str = "school",
    k: int = DEFAULT_K,
    reasons: bool = False,
) -> pd.DataFrame:
    """Per site x item: answers, percentage positive, CI, benchmark and test, suppressed.

    Parameters
    ----------
    responses : DataFrame
        One row per response with ``site`` (and ``site_name``) and a column per item.
    items : sequence of ItemSpec
        Item metadata; items with ``report=False``, of a kind that is not analysed
        (text, date...) or without a ``positive`` set are skipped.
    wave : str
        Wave name written in the ``wave`` column.
    level : {"school", "area"}
        Written in the ``level`` column (this summary is unweighted; see
        :func:`analysis.areas.area_summary` for weighted neighbourhood rows).
    k : int
        Suppression threshold (at least 5).
    reasons : bool
        Add ``suppression_reason`` (why each hidden row is hidden; see
        :func:`analysis.suppression.apply_suppression`).

    Returns
    -------
    DataFrame
        Columns :data:`analysis.spec.SUMMARY_COLUMNS`: one row per site x item (sites
        sorted by id, items in the order given), then one whole-wave row per item
        with ``site = "ALL"`` and no benchmark. Percentages are 0-100, unrounded.

    Notes
    -----
    ``n`` counts respondents who answered (skips, not-relevant and missing choices
    such as "prefer not to say" go to ``n_missing``). The benchmark for a site is all
    other sites pooled (respondents, not site means); ``p_value`` is the two-sided
    pooled two-proportion z-test; ``flag`` is higher/lower when ``p < 0.05`` and
    ``|diff| >= 5`` points, else similar; ``p_adjusted`` is Benjamini-Hochberg over
    the site's items. Rows are then passed through
    :func:`analysis.suppression.apply_suppression`.

    Examples
    --------
    >>> responses = pd.DataFrame({
    ...     "site": ["a"] * 30 + ["b"] * 30,
    ...     "site_name": ["Ash"] * 30 + ["Birch"] * 30,
    ...     "happy": ["yes"] * 24 + ["no"] * 6 + ["yes"] * 12 + ["no"] * 15 + [None] * 3,
    ... })
    >>> out = item_summary(responses, [ItemSpec("happy", positive={"yes"})], wave="2027")
    >>> out[["site", "n", "n_missing", "pct_positive", "benchmark_pct", "flag"]]
      site   n  n_missing  pct_positive  benchmark_pct    flag
    0    a  30          0     80.000000      44.444444  higher
    1    b  27          3     44.444444      80.000000   lower
    2  ALL  57          3     63.157895            NaN     NaN
    """
    return apply_suppression(
        summary_table(responses, items, wave=wave, level=level), k=k, reasons=reasons
    )
