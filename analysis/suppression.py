"""Statistical disclosure control: the one function every output goes through.

Primary suppression hides any row whose count is between 1 and k - 1. Secondary
(complementary) suppression then makes sure no hidden row can be worked out by
subtracting the shown rows from a shown total: within every partition of a total
(the group values of one breakdown, or the sites of one item) the number of hidden
rows is never exactly one. A hidden row keeps its identifying columns, has
``suppressed = True`` and has every count, percentage and test column emptied.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis.errors import AnalysisError, Message
from analysis.spec import ALL_SITES, ID_COLUMNS

__all__ = [
    "DEFAULT_K",
    "MIN_K",
    "PACK_MIN_RESPONSES",
    "SUPPRESSED_MARKER",
    "apply_suppression",
    "check_k",
    "display_value",
    "format_for_display",
    "pack_eligibility",
    "site_gets_pack",
]

#: Default threshold: cells based on 1-9 respondents are hidden.
DEFAULT_K = 10
#: No community may set k lower than this.
MIN_K = 5
#: Sites with fewer responses get no pack, only a note.
PACK_MIN_RESPONSES = 20
#: What a reader sees in place of a suppressed value.
SUPPRESSED_MARKER = "[c]"

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

_WHAT = ("item", "scale", "theme")


def check_k(k: int) -> int:
    """Validate a suppression threshold and return it.

    Raises
    ------
    ValueError
        If ``k`` is not a whole number of at least 5.

    Examples
    --------
    >>> check_k(10)
    10
    >>> check_k(4)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    analysis.errors.AnalysisError: the suppression threshold k must be ... at least 5, not 4
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < MIN_K:
        raise AnalysisError(Message.BAD_K, k=k)
    return int(k)


def _float(frame: pd.DataFrame, column: str) -> FloatArray:
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _group_ids(frame: pd.DataFrame, keys: list[str]) -> IntArray:
    if not keys:
        return np.zeros(len(frame), dtype=np.intp)
    ids: IntArray = np.asarray(
        frame.groupby(keys, dropna=False, sort=False).ngroup().to_numpy(), dtype=np.intp
    )
    return ids


def _complete(gid: IntArray, include: BoolArray, supp: BoolArray, count: FloatArray) -> BoolArray:
    """Hide the smallest shown row of every partition that has exactly one hidden row.

    Hidden rows whose count is unknown (already emptied) are treated as non-zero.
    """
    supp = supp.copy()
    rows = np.flatnonzero(include)
    if rows.size == 0:
        return supp
    g = gid[rows]
    n_groups = int(g.max()) + 1
    while True:
        hidden = supp[rows] & ~(count[rows] == 0)
        n_hidden = np.bincount(g, weights=hidden, minlength=n_groups)
        cand = ~supp[rows] & (count[rows] > 0) & (n_hidden[g] == 1)
        if not cand.any():
            return supp
        idx = rows[cand]
        order = np.lexsort((idx, count[idx], gid[idx]))
        sorted_g = gid[idx][order]
        first = np.ones(sorted_g.size, dtype=bool)
        first[1:] = sorted_g[1:] != sorted_g[:-1]
        supp[idx[order][first]] = True


def _partitions(table: pd.DataFrame, across_sites: bool) -> list[tuple[IntArray, BoolArray]]:
    cols = set(table.columns)
    base = [c for c in ("wave", "level", *_WHAT) if c in cols]
    every = np.ones(len(table), dtype=bool)
    schemes: list[tuple[IntArray, BoolArray]] = []
    if {"site", "group_var", "group_value"} <= cols:
        # The group values of one breakdown add up to the site's total.
        schemes.append((_group_ids(table, [*base, "site", "group_var"]), every))
    if across_sites and "site" in cols:
        # The sites of one item (or one group value) add up to the whole-wave total,
        # which is shown in the ALL row and in every shown site's benchmark.
        keys = [*base, *(c for c in ("group_var", "group_value") if c in cols)]
        sites = table["site"].astype(str).to_numpy()
        schemes.append((_group_ids(table, keys), sites != ALL_SITES))
    return schemes


def apply_suppression(
    table: pd.DataFrame,
    *,
    k: int = DEFAULT_K,
    count_cols: Sequence[str] | None = None,
    across_sites: bool = True,
) -> pd.DataFrame:
    """Hide rows based on fewer than ``k`` respondents, and rows that would reveal them.

    Parameters
    ----------
    table : DataFrame
        Any analysis output (item summary, breakdown, scale summary, trends, themes).
    k : int
        Threshold, at least 5: a row with ``0 < count < k`` is suppressed.
    count_cols : sequence of str, optional
        Count columns the threshold applies to; the first one also picks the
        complementary row (the smallest). Default ``("n",)``.
    across_sites : bool
        Also treat the sites of each item as a partition of the whole-wave total
        (default True; the ALL row and the benchmarks reveal that total).

    Returns
    -------
    DataFrame
        A copy with ``suppressed`` set and, on suppressed rows, every column other
        than the identifying ones (wave, site, site_name, level, item, domain, scale,
        theme, group_var, group_value) emptied. Applying it twice changes nothing.

    Notes
    -----
    Primary: ``0 < n < k`` hides the row (n = 0 is shown: it discloses nobody).
    Secondary: in every partition (the ``group_value`` rows of one site x item x
    ``group_var``; the non-ALL sites of one item, or of one item x group value),
    if exactly one row with a non-zero count is hidden, the shown row with the
    smallest count is hidden too; repeated across partitions until nothing changes.
    A total minus the shown rows then gives only the sum of two or more hidden rows.

    Examples
    --------
    >>> t = pd.DataFrame({"site": ["s1", "s1", "s1"], "item": "q1", "group_var": "gender",
    ...                   "group_value": ["boy", "girl", "other"], "n": [40, 35, 3],
    ...                   "pct_positive": [50.0, 60.0, 100.0]})
    >>> apply_suppression(t, k=10)[["group_value", "n", "pct_positive", "suppressed"]]
      group_value     n  pct_positive  suppressed
    0         boy    40          50.0       False
    1        girl  <NA>           NaN        True
    2       other  <NA>           NaN        True
    """
    k = check_k(k)
    counts = list(count_cols) if count_cols is not None else ["n"]
    for column in counts:
        if column not in table.columns:
            raise AnalysisError(Message.MISSING_COLUMN, frame="the table", column=column)
    out = table.copy()
    if "suppressed" in out.columns:
        supp = out["suppressed"].fillna(False).to_numpy(dtype=bool, copy=True)
    else:
        supp = np.zeros(len(out), dtype=bool)
    for column in counts:
        values = _float(out, column)
        supp |= (values > 0) & (values < k)
    primary = _float(out, counts[0])
    changed = True
    schemes = _partitions(out, across_sites) if len(out) else []
    while changed:
        before = int(supp.sum())
        for gid, include in schemes:
            supp = _complete(gid, include, supp, primary)
        changed = int(supp.sum()) != before
    for column in out.columns:
        if column in ID_COLUMNS or column == "suppressed":
            continue
        dtype = out[column].dtype
        if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.BooleanDtype):
            out[column] = out[column].astype("boolean")
        elif pd.api.types.is_integer_dtype(dtype) and not isinstance(dtype, pd.Int64Dtype):
            out[column] = out[column].astype("Int64")
        out[column] = out[column].mask(supp)
    out["suppressed"] = supp
    return out


def site_gets_pack(n_responses: int, *, min_responses: int = PACK_MIN_RESPONSES) -> bool:
    """Whether a site with ``n_responses`` responses gets a feedback pack.

    Examples
    --------
    >>> site_gets_pack(19), site_gets_pack(20)
    (False, True)
    """
    return n_responses >= min_responses


def pack_eligibility(
    responses: pd.DataFrame, *, min_responses: int = PACK_MIN_RESPONSES
) -> pd.DataFrame:
    """One row per site: its number of responses and whether it gets a pack.

    Returns
    -------
    DataFrame
        Columns ``site, site_name, n_responses, gets_pack``; sites below the
        threshold get only a note.

    Examples
    --------
    >>> r = pd.DataFrame({"site": ["a"] * 25 + ["b"] * 7, "site_name": ["A"] * 25 + ["B"] * 7})
    >>> pack_eligibility(r)
      site site_name  n_responses  gets_pack
    0    a         A           25       True
    1    b         B            7      False
    """
    if "site" not in responses.columns:
        raise AnalysisError(Message.MISSING_COLUMN, frame="responses", column="site")
    names = responses["site_name"] if "site_name" in responses.columns else responses["site"]
    grouped = pd.DataFrame({"site": responses["site"].astype(str), "site_name": names})
    out = (
        grouped.groupby("site", sort=True)
        .agg(site_name=("site_name", "first"), n_responses=("site_name", "size"))
        .reset_index()
    )
    out["n_responses"] = out["n_responses"].astype("int64")
    out["gets_pack"] = out["n_responses"] >= min_responses
    return out


_DEFAULT_DIGITS: Mapping[str, int] = {
    "p_value": 3,
    "p_adjusted": 3,
    "design_effect": 2,
    "std_diff": 2,
    "mean": 1,
    "sd": 1,
    "benchmark_mean": 1,
}


def display_value(value: object, *, suppressed: bool = False, digits: int = 0) -> str:
    """How one cell reads in a pack: ``[c]`` if suppressed, blank if missing.

    Examples
    --------
    >>> display_value(61.25), display_value(61.25, digits=1), display_value(12)
    ('61', '61.2', '12')
    >>> display_value(None, suppressed=True), display_value(float("nan"))
    ('[c]', '')
    """
    if suppressed:
        return SUPPRESSED_MARKER
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        return f"{float(value):.{digits}f}"
    return str(value)


def format_for_display(
    table: pd.DataFrame, *, digits: int = 0, column_digits: Mapping[str, int] | None = None
) -> pd.DataFrame:
    """Text version of a suppressed table for people: ``[c]`` in every hidden cell.

    The CSV keeps empty cells and ``suppressed = true``; packs and spreadsheets
    meant for reading use this instead.

    Parameters
    ----------
    digits : int
        Decimal places for numbers (percentages are shown whole by default).
    column_digits : mapping, optional
        Per-column decimal places; p-values get 3, design effects 2, means 1.

    Examples
    --------
    >>> t = pd.DataFrame({"site": ["a", "b"], "n": pd.array([40, pd.NA], dtype="Int64"),
    ...                   "pct_positive": [52.4, float("nan")], "suppressed": [False, True]})
    >>> format_for_display(t)
      site    n pct_positive suppressed
    0    a   40           52         no
    1    b  [c]          [c]        yes
    """
    places = {**_DEFAULT_DIGITS, **(column_digits or {})}
    supp = (
        table["suppressed"].fillna(False).to_numpy(dtype=bool)
        if "suppressed" in table.columns
        else np.zeros(len(table), dtype=bool)
    )
    out = {}
    for column in table.columns:
        values = table[column].tolist()
        if column in ID_COLUMNS:
            out[column] = [display_value(v) for v in values]
        elif column == "suppressed":
            out[column] = ["yes" if s else "no" for s in supp]
        else:
            d = places.get(column, digits)
            out[column] = [
                display_value(v, suppressed=bool(s), digits=d)
                for v, s in zip(values, supp, strict=True)
            ]
    return pd.DataFrame(out, index=table.index, dtype=object)
