"""One call from a wave's responses to the table the ``summary`` CSV is written from."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis._grid import check_level
from analysis.areas import area_table
from analysis.items import summary_table
from analysis.spec import ItemSpec
from analysis.suppression import DEFAULT_K, apply_suppression, check_k
from analysis.weighting import rake

__all__ = ["summarise_wave"]


def summarise_wave(
    responses: pd.DataFrame,
    items: Sequence[ItemSpec],
    *,
    wave: str,
    level: str = "school",
    k: int = DEFAULT_K,
    margins: pd.DataFrame | None = None,
    weight_col: str = "weight",
    cap: float | None = 5.0,
) -> pd.DataFrame:
    """Summarise a wave: every site x item row, suppressed, ready for the CSV.

    Parameters
    ----------
    responses : DataFrame
        The wave's responses at one level (pupils for schools, residents for areas).
    items : sequence of ItemSpec
        Item metadata.
    wave : str
        Wave name.
    level : {"school", "area"}
        ``school``: :func:`analysis.items.item_summary` rows. ``area``:
        :func:`analysis.areas.area_summary` rows (with ``weighted_pct``,
        ``design_effect`` and ``n_effective``).
    k : int
        Suppression threshold (at least 5).
    margins : DataFrame, optional
        For areas: population margins; each area's residents are raked to them with
        :func:`analysis.weighting.rake` (``by="site"``). Without margins the
        ``weight_col`` column is used if present, else every weight is 1.
    weight_col : str
        Weight column for areas.
    cap : float or None
        Weight cap when raking.

    Returns
    -------
    DataFrame
        Columns :data:`analysis.spec.SUMMARY_COLUMNS` (schools) or
        :data:`analysis.spec.AREA_COLUMNS` (areas), passed through
        :func:`analysis.suppression.apply_suppression`.

    Examples
    --------
    >>> r = pd.DataFrame({"site": ["a"] * 25 + ["b"] * 6, "q": ["yes", "no"] * 15 + ["yes"]})
    >>> out = summarise_wave(r, [ItemSpec("q", positive={"yes"})], wave="2027")
    >>> out[["site", "n", "pct_positive", "suppressed"]]
      site     n  pct_positive  suppressed
    0    a  <NA>           NaN        True
    1    b  <NA>           NaN        True
    2  ALL    31     51.612903       False
    """
    level = check_level(level)
    k = check_k(k)
    if level == "school":
        table = summary_table(responses, items, wave=wave, level=level)
    else:
        frame = responses
        if margins is not None:
            weights = rake(responses, margins, by="site", cap=cap).weights
            frame = responses.assign(**{weight_col: weights.to_numpy()})
        elif weight_col not in responses.columns:
            frame = responses.assign(**{weight_col: np.ones(len(responses))})
        table = area_table(frame, items, wave=wave, weight_col=weight_col)
    return apply_suppression(table, k=k)
