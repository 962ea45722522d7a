"""Statistical disclosure control: the one function every output goes through.

Primary suppression hides any row whose count is between 1 and k - 1. Secondary
(complementary) suppression then hides more rows so that no hidden row can be worked
out from the published totals and the shown rows (see :mod:`analysis._complement`).
A hidden row keeps its identifying columns, has ``suppressed = True`` and has every
count, percentage and test column emptied.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis._complement import complete_partitions, protect_grid
from analysis.errors import AnalysisError, Message
from analysis.spec import ALL_SITES, ID_COLUMNS, NOT_STATED

__all__ = [
    "COMPLEMENT",
    "DEFAULT_K",
    "MAX_K",
    "MIN_K",
    "PACK_MIN_RESPONSES",
    "REASON_COLUMN",
    "RESIDUAL_GROUPS",
    "SMALL",
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
#: Nor higher than this (a larger k hides most breakdowns of most schools).
MAX_K = 30
#: Sites with fewer responses get no pack, only a note.
PACK_MIN_RESPONSES = 20
#: What a reader sees in place of a suppressed value.
SUPPRESSED_MARKER = "[c]"

#: Column saying why a row is hidden: :data:`SMALL`, :data:`COMPLEMENT` or "" (shown).
REASON_COLUMN = "suppression_reason"
#: Hidden because it counts fewer than k people.
SMALL = "small"
#: Hidden so that another hidden figure cannot be worked out from the totals.
COMPLEMENT = "complement"

#: Group values that tell readers least ("prefer not to say", "not stated", "other"):
#: complementary suppression hides these before any real group.
RESIDUAL_GROUPS: frozenset[str] = frozenset(
    {
        NOT_STATED,
        "pnts",
        "prefer_not_to_say",
        "prefer not to say",
        "other",
        "another_way",
        "dont_know",
        "don't know",
        "unknown",
    }
)
#: What hiding a residual group's cell costs, per respondent, against 1 for a real group.
_RESIDUAL_COST = 0.1

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


def _shown_totals(
    r: IntArray, sites: npt.NDArray[np.object_], count: FloatArray, k: int
) -> BoolArray:
    """Which rows' totals the item summary shows, by the summary's own rules.

    A site's breakdown cells add up to its total in the item summary, which hides it
    when below k, or as the complement of another site (the same rule as
    :func:`apply_suppression` applies to the summary).
    """
    totals = np.bincount(r, weights=np.nan_to_num(count, nan=float(k))).astype(np.float64)
    is_all = np.zeros(totals.size, dtype=bool)
    is_all[r[sites == ALL_SITES]] = True
    hidden = (totals > 0) & (totals < k)
    hidden = complete_partitions(np.zeros(totals.size, dtype=np.intp), ~is_all, hidden, totals)
    return ~hidden


def _information_cost(groups: npt.NDArray[np.object_], count: FloatArray) -> FloatArray:
    """What hiding each breakdown cell loses: its count, a tenth of it for residual groups."""
    residual = np.isin(groups, list(RESIDUAL_GROUPS))
    return np.where(residual, count * _RESIDUAL_COST, count)


def _secondary(
    table: pd.DataFrame, supp: BoolArray, count: FloatArray, across_sites: bool, k: int
) -> BoolArray:
    cols = set(table.columns)
    base = [c for c in ("wave", "level", *_WHAT) if c in cols]
    if {"site", "group_var", "group_value"} <= cols:
        groups = table["group_value"].astype(str).to_numpy()
        if not across_sites:
            gid = _group_ids(table, [*base, "site", "group_var"])
            cost = _information_cost(groups, count)
            return complete_partitions(gid, np.ones(len(table), dtype=bool), supp, cost)
        # One two-way table (sites incl. ALL x group values) per item and grouping.
        supp = supp.copy()
        sites = table["site"].astype(str).to_numpy()
        benchmarks = "benchmark_n" in cols
        grouped = table.groupby([*base, "group_var"], sort=False, dropna=False)
        for rows in grouped.indices.values():
            r = np.asarray(pd.factorize(sites[rows])[0], dtype=np.intp)
            c = np.asarray(pd.factorize(groups[rows])[0], dtype=np.intp)
            supp[rows] = protect_grid(
                r,
                c,
                supp[rows],
                count[rows],
                row_totals_known=_shown_totals(r, sites[rows], count[rows], k),
                column_totals_known=benchmarks or bool((sites[rows] == ALL_SITES).any()),
                cost=_information_cost(groups[rows], count[rows]),
                residual=np.isin(groups[rows], list(RESIDUAL_GROUPS)),
            )
        return supp
    if across_sites and "site" in cols:
        # The sites of one item add up to the whole-wave total, which is shown in the
        # ALL row and in every shown site's benchmark.
        sites = table["site"].astype(str).to_numpy()
        return complete_partitions(_group_ids(table, base), sites != ALL_SITES, supp, count)
    return supp


def apply_suppression(
    table: pd.DataFrame,
    *,
    k: int = DEFAULT_K,
    count_cols: Sequence[str] | None = None,
    across_sites: bool = True,
    reasons: bool = False,
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
    reasons : bool
        Add a ``suppression_reason`` column (default False, so CSV columns stay as
        documented).

    Returns
    -------
    DataFrame
        A copy with ``suppressed`` set and, on suppressed rows, every column other
        than the identifying ones (wave, site, site_name, level, item, domain, scale,
        theme, group_var, group_value) emptied. With ``reasons``,
        ``suppression_reason`` says why a row is hidden: ``"small"`` (fewer than k
        people) or ``"complement"`` (it would let another hidden figure be worked
        out); "" when shown. Applying it twice changes nothing.

    Notes
    -----
    Primary: ``0 < n < k`` hides the row (n = 0 is shown: it discloses nobody).

    Secondary, one-way (tables without ``group_var``, e.g. the item summary): the
    sites of one item add up to the whole-wave row (also revealed by every shown
    site's benchmark), so when exactly one site with a non-zero count is hidden the
    shown site with the smallest non-zero count is hidden too.

    Complementary cells are the cheapest that protect: a cell costs its count, and a
    residual group's cell ("prefer not to say", "not stated", "another way", "other")
    a tenth of it, so those are hidden before a real group such as Boys; and the last
    real group a site still shows is hidden only when nothing else protects (so a
    small school keeps at least one real column when any other choice protects).

    Secondary, two-way (breakdowns): per item and grouping variable the cells form a
    table of sites (plus the whole-wave row) x group values whose rows add up to the
    site totals in the summary and whose columns add up to the whole-wave cells. A
    hidden cell can be solved for exactly when it lies on no cycle of hidden cells, so
    for each such cell the cheapest set of shown non-zero cells that closes a cycle
    through it is hidden. Site totals the summary hides (below k, or as a complement)
    count as unknown. Without ``across_sites`` only each site's own breakdown is
    protected, one-way.

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
    reason = (
        out[REASON_COLUMN].fillna("").astype(str).to_numpy(dtype=object)
        if REASON_COLUMN in out.columns
        else np.full(len(out), "", dtype=object)
    )
    for column in counts:
        values = _float(out, column)
        small = (values > 0) & (values < k) & ~supp
        reason[small] = SMALL
        supp |= small
    reason[supp & (reason == "")] = SMALL
    if len(out):
        before = supp
        supp = _secondary(out, supp, _float(out, counts[0]), across_sites, k)
        reason[supp & ~before] = COMPLEMENT
    for column in out.columns:
        if column in ID_COLUMNS or column in ("suppressed", REASON_COLUMN):
            continue
        dtype = out[column].dtype
        if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.BooleanDtype):
            out[column] = out[column].astype("boolean")
        elif pd.api.types.is_integer_dtype(dtype) and not isinstance(dtype, pd.Int64Dtype):
            out[column] = out[column].astype("Int64")
        out[column] = out[column].mask(supp)
    out["suppressed"] = supp
    if reasons or REASON_COLUMN in table.columns:
        out[REASON_COLUMN] = reason
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
