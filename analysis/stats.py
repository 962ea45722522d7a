"""Vectorised statistics behind the analysis rules.

Every function takes array-likes and returns NumPy arrays, so a whole wave's
site x item grid is estimated and tested in one call. Impossible cases (no
respondents, no benchmark) give NaN rather than raising.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

__all__ = [
    "ALPHA",
    "MIN_DIFF_POINTS",
    "Z_95",
    "benjamini_hochberg",
    "classify_difference",
    "effective_n",
    "kish_design_effect",
    "t_interval",
    "two_proportion_ztest",
    "welch_ttest",
    "wilson_interval",
]

FloatArray = npt.NDArray[np.float64]
ObjectArray = npt.NDArray[np.object_]

#: Two-sided 95% normal critical value, 1.959963984540054.
Z_95: float = float(special.ndtri(0.975))
#: Significance level for flags.
ALPHA = 0.05
#: Smallest difference, in percentage points, that can be flagged.
MIN_DIFF_POINTS = 5.0
#: Slack for comparing computed differences with thresholds (5 points computed as
#: 4.999999999999 still counts as 5).
_EPS = 1e-9


def _f(values: npt.ArrayLike) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def wilson_interval(
    count: npt.ArrayLike, nobs: npt.ArrayLike, *, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval for a proportion.

    Parameters
    ----------
    count, nobs : array_like
        Successes and trials. ``nobs`` may be fractional (an effective sample size);
        ``count`` is then ``proportion * nobs``.
    confidence : float
        Coverage, 0.95 by default.

    Returns
    -------
    low, high : ndarray
        Bounds as proportions (0-1); NaN where ``nobs <= 0``.

    Notes
    -----
    With ``p = count / nobs`` and ``z`` the normal quantile,
    ``centre = (p + z²/2n) / (1 + z²/n)`` and
    ``half = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n)``.

    Examples
    --------
    >>> low, high = wilson_interval(8, 20)
    >>> round(float(low), 4), round(float(high), 4)
    (0.2188, 0.6134)
    """
    x = _f(count)
    n = _f(nobs)
    z = float(special.ndtri(1 - (1 - confidence) / 2))
    z2 = z * z
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        denom = 1 + z2 / n
        centre = (p + z2 / (2 * n)) / denom
        half = z * np.sqrt(np.maximum(p * (1 - p), 0) / n + z2 / (4 * n * n)) / denom
    bad = ~(n > 0)
    low = np.where(bad, np.nan, np.clip(centre - half, 0.0, 1.0))
    high = np.where(bad, np.nan, np.clip(centre + half, 0.0, 1.0))
    return low, high


def two_proportion_ztest(
    count1: npt.ArrayLike,
    nobs1: npt.ArrayLike,
    count2: npt.ArrayLike,
    nobs2: npt.ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Two-proportion z-test with pooled variance, two-sided.

    This is the 2x2 chi-square test without continuity correction (``z² = χ²``).

    Returns
    -------
    z, p_value : ndarray
        NaN where either group is empty. When the pooled proportion is 0 or 1 both
        groups are identical and the test is degenerate: ``z = 0``, ``p = 1``.

    Examples
    --------
    >>> z, p = two_proportion_ztest(30, 50, 120, 300)
    >>> round(float(z), 4), round(float(p), 4)
    (2.6458, 0.0082)
    """
    x1, n1, x2, n2 = _f(count1), _f(nobs1), _f(count2), _f(nobs2)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (x1 + x2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = (x1 / n1 - x2 / n2) / se
    valid = (n1 > 0) & (n2 > 0)
    degenerate = valid & ~(se > 0)
    z = np.where(valid, np.where(degenerate, 0.0, z), np.nan)
    p = 2 * special.ndtr(-np.abs(z))
    return z, p


def benjamini_hochberg(p_values: npt.ArrayLike, *, axis: int = -1) -> FloatArray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate).

    Parameters
    ----------
    p_values : array_like
        Raw p-values; NaN entries are left out of the family and stay NaN.
    axis : int
        Each 1-D slice along ``axis`` is one family (e.g. one site's items).

    Notes
    -----
    Sorted ascending, ``p_adj(i) = min(1, min_{j >= i} p(j) · m / j)`` with ``m`` the
    number of non-missing p-values in the family.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, float("nan")]).round(3).tolist()
    [0.03, 0.04, 0.04, nan]
    """
    p = np.moveaxis(_f(p_values), axis, -1)
    if p.size == 0:
        return np.moveaxis(p.copy(), -1, axis)
    order = np.argsort(p, axis=-1, kind="stable")  # NaN sorts last
    ranked = np.take_along_axis(p, order, axis=-1)
    m = np.sum(~np.isnan(p), axis=-1, keepdims=True)
    rank = np.arange(1, p.shape[-1] + 1, dtype=np.float64)
    scaled = ranked * m / rank
    adjusted = np.fmin.accumulate(scaled[..., ::-1], axis=-1)[..., ::-1]
    adjusted = np.minimum(adjusted, 1.0)
    adjusted[np.isnan(ranked)] = np.nan
    out = np.empty_like(adjusted)
    np.put_along_axis(out, order, adjusted, axis=-1)
    return np.moveaxis(out, -1, axis)


def welch_ttest(
    mean1: npt.ArrayLike,
    var1: npt.ArrayLike,
    n1: npt.ArrayLike,
    mean2: npt.ArrayLike,
    var2: npt.ArrayLike,
    n2: npt.ArrayLike,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Welch's unequal-variance t-test from summary statistics, two-sided.

    Parameters
    ----------
    mean1, var1, n1, mean2, var2, n2 : array_like
        Means, sample variances (ddof=1) and sizes of the two groups.

    Returns
    -------
    t, df, p_value : ndarray
        NaN where a group has fewer than 2 values. When both variances are 0 the
        test is degenerate: ``p = 1`` if the means are equal, else ``p = 0``.

    Notes
    -----
    ``t = (m1 - m2) / sqrt(v1/n1 + v2/n2)``; Welch-Satterthwaite
    ``df = (v1/n1 + v2/n2)² / ((v1/n1)²/(n1-1) + (v2/n2)²/(n2-1))``.

    Examples
    --------
    >>> t, df, p = welch_ttest(5.0, 4.0, 30, 4.0, 9.0, 60)
    >>> round(float(t), 3), round(float(df), 1), round(float(p), 4)
    (1.879, 80.7, 0.0639)
    """
    m1, v1, k1, m2, v2, k2 = (_f(a) for a in (mean1, var1, n1, mean2, var2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        s1 = v1 / k1
        s2 = v2 / k2
        se = np.sqrt(s1 + s2)
        diff = m1 - m2
        t = diff / se
        df = (s1 + s2) ** 2 / (s1**2 / (k1 - 1) + s2**2 / (k2 - 1))
        p = 2 * special.stdtr(df, -np.abs(t))
    valid = (k1 >= 2) & (k2 >= 2)
    degenerate = valid & ~(se > 0)
    p = np.where(degenerate, np.where(diff == 0, 1.0, 0.0), p)
    t = np.where(valid & ~degenerate, t, np.nan)
    df = np.where(valid & ~degenerate, df, np.nan)
    p = np.where(valid, p, np.nan)
    return t, df, p


def t_interval(
    mean: npt.ArrayLike, sd: npt.ArrayLike, n: npt.ArrayLike, *, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Student-t confidence interval for a mean: ``mean ± t(n-1) · sd / sqrt(n)``.

    Examples
    --------
    >>> low, high = t_interval(20.0, 4.0, 25)
    >>> round(float(low), 3), round(float(high), 3)
    (18.349, 21.651)
    """
    m, s, k = _f(mean), _f(sd), _f(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        crit = special.stdtrit(k - 1, 1 - (1 - confidence) / 2)
        half = crit * s / np.sqrt(k)
    half = np.where(k >= 2, half, np.nan)
    return m - half, m + half


def kish_design_effect(weights: npt.ArrayLike) -> float:
    """Kish design effect of unequal weights, ``n·Σw² / (Σw)² = 1 + CV²``.

    CV is the coefficient of variation of the weights with the population
    (divide-by-n) standard deviation.

    Examples
    --------
    >>> kish_design_effect([1, 1, 2, 4])
    1.375
    """
    w = _f(weights)
    if w.size == 0 or not w.sum() > 0:
        return float("nan")
    return float(w.size * np.sum(w * w) / w.sum() ** 2)


def effective_n(weights: npt.ArrayLike) -> float:
    """Kish effective sample size ``(Σw)² / Σw² = n / deff``.

    Examples
    --------
    >>> effective_n([1, 1, 2, 4])
    2.909090909090909
    """
    w = _f(weights)
    if w.size == 0 or not w.sum() > 0:
        return float("nan")
    return float(w.sum() ** 2 / np.sum(w * w))


def classify_difference(
    diff: npt.ArrayLike,
    p_value: npt.ArrayLike,
    *,
    min_diff: float = MIN_DIFF_POINTS,
    alpha: float = ALPHA,
    labels: tuple[str, str, str] = ("higher", "lower", "similar"),
) -> ObjectArray:
    """Flag each difference: above, below, or similar.

    ``labels[0]`` when ``p < alpha`` and ``diff >= min_diff``; ``labels[1]`` when
    ``p < alpha`` and ``diff <= -min_diff``; otherwise ``labels[2]``. None where the
    difference or p-value is missing (nothing was tested).

    Examples
    --------
    >>> classify_difference([6.0, -7.0, 3.0, 8.0, float("nan")], [0.01, 0.01, 0.01, 0.2, 0.01])
    array(['higher', 'lower', 'similar', 'similar', None], dtype=object)
    """
    d = _f(diff)
    p = _f(p_value)
    significant = p < alpha
    out = np.full(np.broadcast(d, p).shape, labels[2], dtype=object)
    out[significant & (d >= min_diff - _EPS)] = labels[0]
    out[significant & (d <= -min_diff + _EPS)] = labels[1]
    out[np.isnan(d) | np.isnan(p)] = None
    return out
