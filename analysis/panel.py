"""Change within the same pupils: paired tests on linked pupils' answers in two waves.

A cross-sectional trend (:mod:`analysis.trends`) compares this year's pupils with last
year's; a panel compares each linked pupil with themselves a year earlier. Per item and
site (and for all linked pupils, site ``ALL``):

- ``n_pairs``: linked pupils who answered the item in both waves (a "missing" choice such
  as "prefer not to say" counts as no answer);
- ``pct_before``, ``pct_after``: percentage positive among them in each wave, and
  ``change`` = after - before, in points;
- ``p_value``: McNemar's exact test on the discordant pairs (pupils who became positive,
  ``b``, against pupils who stopped being positive, ``c``): two-sided binomial test of
  ``b`` in ``b + c`` at one half; 1 when no pupil changed;
- for items with choice scores (ordinal answers): ``score_n`` pairs with a score in both
  waves, ``score_before``, ``score_after``, ``score_change`` (means, reverse-scored items
  turned round so higher is better), and ``score_p_value``: the Wilcoxon signed-rank test
  of the differences (zero differences dropped, average ranks for ties, normal
  approximation with the tie correction and no continuity correction);
- ``flag``: improved / declined when ``p < 0.05`` and ``|change| >= 5`` points.

Rows with ``0 < n_pairs < k`` (or ``0 < score_n < k``) are suppressed, with the same
secondary suppression across sites as every other table.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from analysis.spec import ALL_SITES, ItemSpec
from analysis.stats import classify_difference
from analysis.suppression import DEFAULT_K, apply_suppression, check_k

__all__ = ["PANEL_COLUMNS", "mcnemar_exact", "paired_changes", "wilcoxon_signed_rank"]

#: Columns of :func:`paired_changes`, in order.
PANEL_COLUMNS: tuple[str, ...] = (
    "wave",
    "previous_wave",
    "site",
    "item",
    "domain",
    "n_pairs",
    "pct_before",
    "pct_after",
    "change",
    "p_value",
    "score_n",
    "score_before",
    "score_after",
    "score_change",
    "score_p_value",
    "flag",
    "suppressed",
)

FloatArray = npt.NDArray[np.float64]


def mcnemar_exact(became_positive: int, stopped_positive: int) -> float:
    """Two-sided exact McNemar p-value from the two discordant counts.

    Examples
    --------
    >>> round(mcnemar_exact(2, 10), 4)
    0.0386
    >>> mcnemar_exact(0, 0)
    1.0
    """
    b, c = int(became_positive), int(stopped_positive)
    n = b + c
    if n == 0:
        return 1.0
    return float(min(1.0, 2.0 * stats.binom.cdf(min(b, c), n, 0.5)))


def wilcoxon_signed_rank(differences: npt.ArrayLike) -> float:
    """Two-sided Wilcoxon signed-rank p-value (normal approximation, tie-corrected).

    Zero differences are dropped; NaN when none is left.

    Examples
    --------
    >>> round(wilcoxon_signed_rank([1, 2, 1, -1, 3, 2, 1, 1, 0, 2]), 4)
    0.0183
    """
    d = np.asarray(differences, dtype=float)
    d = d[~np.isnan(d) & (d != 0)]
    n = d.size
    if n == 0:
        return float("nan")
    ranks = stats.rankdata(np.abs(d))
    w_plus = float(ranks[d > 0].sum())
    mean = n * (n + 1) / 4.0
    _, tie_counts = np.unique(ranks, return_counts=True)
    variance = n * (n + 1) * (2 * n + 1) / 24.0 - float((tie_counts**3 - tie_counts).sum()) / 48.0
    if variance <= 0:
        return float("nan")
    z = (w_plus - mean) / np.sqrt(variance)
    return float(2.0 * stats.norm.sf(abs(z)))


def _scores(item: ItemSpec, values: pd.Series) -> FloatArray:
    """Each answer's score (reverse-scored items turned round); NaN where none."""
    table = dict(item.scores)
    if item.reverse:
        low_high = item.score_range()
        if low_high is not None:
            table = {k: (low_high[0] + low_high[1]) - v for k, v in table.items()}
    for name in item.missing:
        table.pop(name, None)
    text = values.astype(object)
    return np.asarray(
        [table.get(v, np.nan) if isinstance(v, str) else np.nan for v in text], dtype=float
    )


def _one(item: ItemSpec, before: pd.Series, after: pd.Series) -> dict[str, float]:
    b_text = before.astype(object).to_numpy()
    a_text = after.astype(object).to_numpy()
    answered = np.array(
        [
            isinstance(x, str)
            and isinstance(y, str)
            and x not in item.missing
            and y not in item.missing
            for x, y in zip(b_text, a_text, strict=True)
        ],
        dtype=bool,
    )
    pos_b = np.array([x in item.positive for x in b_text], dtype=bool)[answered]
    pos_a = np.array([y in item.positive for y in a_text], dtype=bool)[answered]
    n = int(answered.sum())
    row: dict[str, float] = {"n_pairs": n}
    if n:
        row["pct_before"] = 100.0 * pos_b.mean()
        row["pct_after"] = 100.0 * pos_a.mean()
        row["change"] = row["pct_after"] - row["pct_before"]
        row["p_value"] = mcnemar_exact(int((~pos_b & pos_a).sum()), int((pos_b & ~pos_a).sum()))
    if item.scores:
        sb, sa = _scores(item, before), _scores(item, after)
        both = ~np.isnan(sb) & ~np.isnan(sa)
        row["score_n"] = int(both.sum())
        if both.any():
            row["score_before"] = float(sb[both].mean())
            row["score_after"] = float(sa[both].mean())
            row["score_change"] = row["score_after"] - row["score_before"]
            row["score_p_value"] = wilcoxon_signed_rank(sa[both] - sb[both])
    return row


def paired_changes(
    before: pd.DataFrame,
    after: pd.DataFrame,
    items: Sequence[ItemSpec],
    *,
    wave: str,
    previous_wave: str,
    k: int = DEFAULT_K,
) -> pd.DataFrame:
    """Change within linked pupils, per site x item and for all of them.

    Parameters
    ----------
    before, after : DataFrame
        The linked pupils' answers in the previous and in this wave, one row per pupil,
        the two frames in the same order; ``after`` has a ``site`` column (the pupil's
        school). Item columns hold choice names.
    items : sequence of ItemSpec
        Items to report; only ``summarised`` select_one items are used.
    wave, previous_wave : str
        Names written in the ``wave`` and ``previous_wave`` columns.
    k : int
        Suppression threshold.

    Returns
    -------
    DataFrame
        Columns :data:`PANEL_COLUMNS`, site ``ALL`` first, then sites in order of
        appearance, items in the order given.

    Examples
    --------
    >>> item = ItemSpec("safe", domain="safety", positive={"yes"})
    >>> before = pd.DataFrame({"safe": ["no"] * 12 + ["yes"] * 8})
    >>> after = pd.DataFrame({"site": "S1", "safe": ["yes"] * 10 + ["no"] * 2 + ["yes"] * 8})
    >>> out = paired_changes(before, after, [item], wave="2027", previous_wave="2026")
    >>> out[["site", "n_pairs", "pct_before", "pct_after", "flag"]].to_dict("records")[0]
    {'site': 'ALL', 'n_pairs': 20, 'pct_before': 40.0, 'pct_after': 90.0, 'flag': 'improved'}
    """
    k = check_k(k)
    if len(before) != len(after):
        raise ValueError(
            f"before has {len(before)} pupils and after {len(after)}: give one row per pair"
        )
    before = before.reset_index(drop=True)
    after = after.reset_index(drop=True)
    used = [
        i
        for i in items
        if i.summarised and i.kind == "select_one" and i.name in before and i.name in after
    ]
    sites = after["site"].astype(str) if "site" in after.columns else pd.Series([], dtype=str)
    groups: list[tuple[str, npt.NDArray[np.intp]]] = [(ALL_SITES, np.arange(len(after)))]
    if len(sites):
        for site, rows in sites.groupby(sites, sort=False).indices.items():
            groups.append((str(site), np.asarray(rows)))
    records: list[dict[str, object]] = []
    for site, rows in groups:
        for item in used:
            row = _one(item, before[item.name].iloc[rows], after[item.name].iloc[rows])
            records.append(
                {
                    "wave": wave,
                    "previous_wave": previous_wave,
                    "site": site,
                    "item": item.name,
                    "domain": item.domain,
                    **row,
                }
            )
    table = pd.DataFrame.from_records(records, columns=list(PANEL_COLUMNS[:-2]))
    for column in ("n_pairs", "score_n"):
        table[column] = table[column].astype("Int64")
    table["flag"] = classify_difference(
        table["change"].to_numpy(dtype=float, na_value=np.nan),
        table["p_value"].to_numpy(dtype=float, na_value=np.nan),
        labels=("improved", "declined", "similar"),
    )
    table["suppressed"] = False
    return apply_suppression(table, k=k, count_cols=["n_pairs", "score_n"])[list(PANEL_COLUMNS)]
