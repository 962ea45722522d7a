"""Scale scores per respondent, and per-site scale summaries with a Welch t-test."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis._grid import all_label, check_level, site_index
from analysis.coding import item_scores
from analysis.errors import AnalysisError, Message
from analysis.spec import ALL_SITES, SCALE_COLUMNS, ItemSpec, ScaleSpec
from analysis.stats import benjamini_hochberg, classify_difference, t_interval, welch_ttest
from analysis.suppression import DEFAULT_K, apply_suppression

__all__ = ["MIN_STD_DIFF", "scale_scores", "scale_summary", "score_scale"]

#: Smallest standardised difference (in SDs of the whole wave's scores) that can be
#: flagged: Cohen's "small" effect. On SWEMWBS (SD about 4-5) that is about 1 point.
MIN_STD_DIFF = 0.2

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def _scale_items(items: Sequence[ItemSpec], scale: ScaleSpec) -> list[ItemSpec]:
    by_name = {item.name: item for item in items}
    chosen = []
    for name in scale.items:
        if name not in by_name:
            raise AnalysisError(Message.UNKNOWN_ITEM, scale=scale.name, item=name)
        chosen.append(by_name[name])
    return chosen


def score_scale(
    responses: pd.DataFrame, items: Sequence[ItemSpec], scale: ScaleSpec
) -> tuple[FloatArray, IntArray, FloatArray]:
    """Score one scale for every respondent.

    Returns
    -------
    score, n_answered, raw : ndarray
        ``score`` is NaN unless at least ``scale.min_answered`` of the items were
        answered. Without a table the score is the mean of the answered item scores
        (after reverse scoring). With a table, ``raw`` = sum of the answered scores x
        (number of items / number answered), rounded half up to a whole number, and
        the score is ``table[raw]`` (NaN if the table lacks it). ``raw`` is the
        prorated sum, before rounding.

    Examples
    --------
    >>> items = [ItemSpec(f"i{j}", scores={"1": 1, "2": 2, "3": 3}) for j in range(4)]
    >>> r = pd.DataFrame({"i0": ["3", "1"], "i1": ["3", None], "i2": ["2", None],
    ...                   "i3": [None, "2"]})
    >>> score, answered, raw = score_scale(r, items, ScaleSpec("s", ("i0", "i1", "i2", "i3")))
    >>> score.tolist(), answered.tolist()
    ([2.6666666666666665, nan], [3, 2])
    """
    chosen = _scale_items(items, scale)
    for item in chosen:
        if item.name not in responses.columns:
            raise AnalysisError(Message.MISSING_COLUMN, frame="responses", column=item.name)
    values = np.column_stack([item_scores(responses[item.name], item) for item in chosen])
    answered = ~np.isnan(values)
    n_answered = answered.sum(axis=1).astype(np.intp)
    total = np.where(answered, values, 0.0).sum(axis=1)
    enough = n_answered >= scale.min_items
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / n_answered
    raw = np.where(enough, mean * len(chosen), np.nan)
    if scale.table is None:
        score = np.where(enough, mean, np.nan)
    else:
        keys = np.array(sorted(scale.table), dtype=np.float64)
        metric = np.array([scale.table[key] for key in keys], dtype=np.float64)
        whole = np.floor(raw + 0.5)
        pos = np.clip(np.searchsorted(keys, whole), 0, len(keys) - 1)
        score = np.where(enough & (keys[pos] == whole), metric[pos], np.nan)
    return score, n_answered, raw


def scale_scores(
    responses: pd.DataFrame, items: Sequence[ItemSpec], scales: Sequence[ScaleSpec]
) -> pd.DataFrame:
    """Long table of scale scores: one row per respondent x scale.

    Returns
    -------
    DataFrame
        ``response_id`` (if the responses have it), ``site``, ``scale``, ``n_items``,
        ``n_answered``, ``raw``, ``score`` (NaN when too few items were answered).

    Examples
    --------
    >>> items = [ItemSpec(f"w{j}", scores={str(s): s for s in range(1, 6)}) for j in range(7)]
    >>> r = pd.DataFrame({f"w{j}": ["5", "3"] for j in range(7)} | {"site": ["a", "b"]})
    >>> from analysis.spec import swemwbs_scale
    >>> scale_scores(r, items, [swemwbs_scale([f"w{j}" for j in range(7)])])
      site    scale  n_items  n_answered   raw  score
    0    a  swemwbs        7           7  35.0  35.00
    1    b  swemwbs        7           7  21.0  19.25
    """
    parts = []
    for scale in scales:
        score, n_answered, raw = score_scale(responses, items, scale)
        part = pd.DataFrame(
            {
                "site": responses["site"].to_numpy() if "site" in responses.columns else pd.NA,
                "scale": scale.name,
                "n_items": len(scale.items),
                "n_answered": n_answered.astype(np.int64),
                "raw": raw,
                "score": score,
            }
        )
        if "response_id" in responses.columns:
            part.insert(0, "response_id", responses["response_id"].to_numpy())
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=["site", "scale", "n_items", "n_answered", "raw", "score"])
    return pd.concat(parts, ignore_index=True)


def scale_summary(
    responses: pd.DataFrame,
    items: Sequence[ItemSpec],
    scales: Sequence[ScaleSpec],
    *,
    wave: str,
    level: str = "school",
    k: int = DEFAULT_K,
    min_std_diff: float = MIN_STD_DIFF,
) -> pd.DataFrame:
    """Per site x scale: mean score, SD, CI and a Welch t-test against the benchmark.

    Parameters
    ----------
    responses, items, scales
        Responses, item metadata and the scales to summarise.
    wave, level, k
        As for :func:`analysis.items.item_summary`.
    min_std_diff : float
        Smallest ``|diff|`` in standard deviations of the whole wave's scores that
        can be flagged (default 0.2).

    Returns
    -------
    DataFrame
        Columns :data:`analysis.spec.SCALE_COLUMNS`. ``n`` is the respondents with a
        score, ``n_missing`` the rest of the site's respondents; ``ci_low``/``ci_high``
        a t interval for the mean; the benchmark is all other sites' respondents
        pooled; ``p_value`` Welch's t-test; ``std_diff = diff / SD(all scores)``;
        ``flag`` higher/lower when ``p < 0.05`` and ``|std_diff| >= min_std_diff``;
        ``p_adjusted`` Benjamini-Hochberg over the site's scales. Whole-wave rows
        (``site = "ALL"``) come last. Rows pass through suppression.

    Examples
    --------
    >>> items = [ItemSpec(f"i{j}", scores={"no": 0, "yes": 1}) for j in range(2)]
    >>> r = pd.DataFrame({"site": ["a"] * 12 + ["b"] * 12,
    ...                   "i0": ["yes"] * 12 + ["no", "yes"] * 6, "i1": ["yes", "no"] * 12})
    >>> out = scale_summary(r, items, [ScaleSpec("s", ("i0", "i1"))], wave="w")
    >>> out[["site", "n", "mean", "benchmark_mean", "flag"]]
      site   n   mean  benchmark_mean    flag
    0    a  12  0.750            0.50  higher
    1    b  12  0.500            0.75   lower
    2  ALL  24  0.625             NaN     NaN
    """
    level = check_level(level)
    sites = site_index(responses)
    n_sites = sites.size
    respondents = np.bincount(sites.codes, minlength=n_sites).astype(np.float64)
    shape = (n_sites, len(scales))
    n, mean, var = np.zeros(shape), np.full(shape, np.nan), np.full(shape, np.nan)
    all_n, all_mean, all_var = (np.full(len(scales), np.nan) for _ in range(3))
    bench_n, bench_mean, bench_var = np.zeros(shape), np.full(shape, np.nan), np.zeros(shape)
    all_missing = np.zeros(len(scales))
    for j, scale in enumerate(scales):
        score, _, _ = score_scale(responses, items, scale)
        valid = ~np.isnan(score)
        centre = float(score[valid].mean()) if valid.any() else 0.0
        x = np.where(valid, score - centre, 0.0)
        cnt = np.bincount(sites.codes, weights=valid, minlength=n_sites)
        s1 = np.bincount(sites.codes, weights=x, minlength=n_sites)
        s2 = np.bincount(sites.codes, weights=x * x, minlength=n_sites)
        with np.errstate(divide="ignore", invalid="ignore"):
            n[:, j] = cnt
            mean[:, j] = np.where(cnt > 0, centre + s1 / cnt, np.nan)
            var[:, j] = np.where(cnt > 1, (s2 - s1 * s1 / cnt) / (cnt - 1), np.nan)
            bn, b1, b2 = cnt.sum() - cnt, s1.sum() - s1, s2.sum() - s2
            bench_n[:, j] = bn
            bench_mean[:, j] = np.where(bn > 0, centre + b1 / bn, np.nan)
            bench_var[:, j] = np.where(bn > 1, (b2 - b1 * b1 / bn) / (bn - 1), np.nan)
            tn, t1, t2 = cnt.sum(), s1.sum(), s2.sum()
            all_n[j] = tn
            all_mean[j] = centre + t1 / tn if tn > 0 else np.nan
            all_var[j] = (t2 - t1 * t1 / tn) / (tn - 1) if tn > 1 else np.nan
        all_missing[j] = len(responses) - tn
    var = np.maximum(var, 0.0)
    bench_var = np.maximum(bench_var, 0.0)
    sd = np.sqrt(var)
    diff = mean - bench_mean
    _, _, p = welch_ttest(mean, var, n, bench_mean, bench_var, bench_n)
    with np.errstate(divide="ignore", invalid="ignore"):
        std_diff = diff / np.sqrt(np.maximum(all_var, 0.0))[None, :]
    low, high = t_interval(mean, sd, n)
    all_sd = np.sqrt(np.maximum(all_var, 0.0))
    all_low, all_high = t_interval(all_mean, all_sd, all_n)
    names = [scale.name for scale in scales]
    m = len(scales)
    nan_all = np.full(m, np.nan)
    table = pd.DataFrame(
        {
            "site": [*np.repeat(sites.ids, m).tolist(), *[ALL_SITES] * m],
            "site_name": [*np.repeat(sites.names, m).tolist(), *[all_label(level)] * m],
            "scale": names * n_sites + names,
            "n": np.concatenate([n.ravel(), all_n]),
            "n_missing": np.concatenate([(respondents[:, None] - n).ravel(), all_missing]),
            "mean": np.concatenate([mean.ravel(), all_mean]),
            "sd": np.concatenate([sd.ravel(), all_sd]),
            "ci_low": np.concatenate([low.ravel(), all_low]),
            "ci_high": np.concatenate([high.ravel(), all_high]),
            "benchmark_n": np.concatenate([bench_n.ravel(), nan_all]),
            "benchmark_mean": np.concatenate([bench_mean.ravel(), nan_all]),
            "diff": np.concatenate([diff.ravel(), nan_all]),
            "std_diff": np.concatenate([std_diff.ravel(), nan_all]),
            "p_value": np.concatenate([p.ravel(), nan_all]),
            "p_adjusted": np.concatenate([benjamini_hochberg(p, axis=1).ravel(), nan_all]),
            "flag": pd.array(
                [*classify_difference(std_diff, p, min_diff=min_std_diff).ravel(), *[None] * m],
                dtype="str",
            ),
        }
    )
    for column in ("n", "n_missing", "benchmark_n"):
        table[column] = table[column].round().astype("Int64")
    table.insert(0, "wave", wave)
    table.insert(3, "level", level)
    table["suppressed"] = False
    for column in ("wave", "site", "site_name", "level", "scale"):
        table[column] = table[column].astype("str")
    return apply_suppression(table.loc[:, list(SCALE_COLUMNS)], k=k)
