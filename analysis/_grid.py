"""Shared machinery: site codes, answer flags and the cell x item count grid.

Every summary is the same computation on a different grid of cells (sites, or
site x group value): count respondents, answers and positive answers per cell with
``numpy.bincount``, then estimate and test the whole grid at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis.coding import answer_flags
from analysis.errors import AnalysisError, Message
from analysis.spec import ALL_SITES, ItemSpec
from analysis.stats import (
    benjamini_hochberg,
    classify_difference,
    two_proportion_ztest,
    wilson_interval,
)

__all__ = [
    "SiteIndex",
    "all_label",
    "assemble",
    "check_level",
    "count_grid",
    "item_flags",
    "proportion_rows",
    "site_index",
    "summarised_items",
]

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

_LEVELS = ("school", "area")


def check_level(level: str) -> str:
    """Validate ``level``."""
    if level not in _LEVELS:
        raise AnalysisError(Message.BAD_LEVEL, level=level)
    return level


def all_label(level: str) -> str:
    """``site_name`` of the whole-wave rows."""
    return "All schools" if level == "school" else "All areas"


@dataclass(frozen=True)
class SiteIndex:
    """Each response's site as a code 0..S-1, with site ids and names by code."""

    codes: IntArray
    ids: list[str]
    names: list[str]

    @property
    def size(self) -> int:
        """Number of sites."""
        return len(self.ids)


def site_index(responses: pd.DataFrame, site_col: str = "site") -> SiteIndex:
    """Code the responses' sites (sorted by id)."""
    if site_col not in responses.columns:
        raise AnalysisError(Message.MISSING_COLUMN, frame="responses", column=site_col)
    site = responses[site_col]
    missing = int(site.isna().sum())
    if missing:
        raise AnalysisError(Message.MISSING_SITE, count=missing)
    raw, uniques = pd.factorize(site.astype(str), sort=True)
    ids = [str(u) for u in uniques]
    if ALL_SITES in ids:
        raise AnalysisError(Message.RESERVED_SITE, site=ALL_SITES)
    codes = np.asarray(raw, dtype=np.intp)
    if "site_name" in responses.columns:
        first = (
            pd.Series(responses["site_name"].to_numpy(), dtype=object)
            .groupby(codes, sort=True)
            .first()
        )
        names = [ids[i] if pd.isna(v) else str(v) for i, v in zip(first.index, first, strict=True)]
    else:
        names = list(ids)
    return SiteIndex(codes=codes, ids=ids, names=names)


def summarised_items(responses: pd.DataFrame, items: Sequence[ItemSpec]) -> list[ItemSpec]:
    """The items that get summary rows, checking each has a column."""
    chosen = [item for item in items if item.summarised]
    for item in chosen:
        if item.name not in responses.columns:
            raise AnalysisError(Message.MISSING_COLUMN, frame="responses", column=item.name)
    return chosen


def item_flags(responses: pd.DataFrame, items: Sequence[ItemSpec]) -> tuple[BoolArray, BoolArray]:
    """Answered and positive flags, shape (items, respondents)."""
    answered = np.zeros((len(items), len(responses)), dtype=bool)
    positive = np.zeros_like(answered)
    for i, item in enumerate(items):
        answered[i], positive[i] = answer_flags(responses[item.name], item)
    return answered, positive


def count_grid(
    codes: IntArray, n_cells: int, flags: BoolArray, weights: FloatArray | None = None
) -> FloatArray:
    """Sum of ``flags`` (times ``weights``) per cell, shape (cells, items)."""
    out = np.empty((n_cells, flags.shape[0]), dtype=np.float64)
    for i in range(flags.shape[0]):
        w = flags[i] if weights is None else np.where(flags[i], weights, 0.0)
        out[:, i] = np.bincount(codes, weights=w, minlength=n_cells)
    return out


def _int_column(values: FloatArray) -> pd.arrays.IntegerArray:
    data = np.rint(np.nan_to_num(values)).astype(np.int64)
    return pd.arrays.IntegerArray(data, np.isnan(values))


def proportion_rows(
    cells: pd.DataFrame,
    items: Sequence[ItemSpec],
    *,
    respondents: FloatArray,
    n: FloatArray,
    positive: FloatArray,
    benchmark_n: FloatArray | None = None,
    benchmark_positive: FloatArray | None = None,
) -> pd.DataFrame:
    """Long rows (cell-major, then item) with estimates and tests for a count grid.

    ``cells`` holds one row of identifying columns per cell; ``n``/``positive`` and
    the benchmark grids have shape (cells, items). Without a benchmark the test
    columns are empty.
    """
    n_cells, n_items = n.shape
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(n > 0, 100 * positive / n, np.nan)
    low, high = wilson_interval(positive, n)
    if benchmark_n is not None and benchmark_positive is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            bench_pct = np.where(benchmark_n > 0, 100 * benchmark_positive / benchmark_n, np.nan)
        diff = pct - bench_pct
        _, p = two_proportion_ztest(positive, n, benchmark_positive, benchmark_n)
        p_adj = benjamini_hochberg(p, axis=1)
        flag = classify_difference(diff, p)
        bench_col = _int_column(benchmark_n.ravel())
    else:
        nan = np.full(n.shape, np.nan)
        bench_pct = diff = p = p_adj = nan
        flag = np.full(n.shape, None, dtype=object)
        bench_col = _int_column(nan.ravel())
    frame = cells.loc[cells.index.repeat(n_items)].reset_index(drop=True)
    frame["item"] = np.tile(np.array([it.name for it in items], dtype=object), n_cells)
    frame["domain"] = np.tile(np.array([it.domain for it in items], dtype=object), n_cells)
    frame["n"] = _int_column(n.ravel())
    frame["n_missing"] = _int_column((respondents[:, None] - n).ravel())
    frame["n_positive"] = _int_column(positive.ravel())
    frame["pct_positive"] = pct.ravel()
    frame["ci_low"] = 100 * low.ravel()
    frame["ci_high"] = 100 * high.ravel()
    frame["benchmark_n"] = bench_col
    frame["benchmark_pct"] = bench_pct.ravel()
    frame["diff"] = diff.ravel()
    frame["p_value"] = p.ravel()
    frame["p_adjusted"] = p_adj.ravel()
    frame["flag"] = pd.array(flag.ravel(), dtype="str")
    frame["suppressed"] = False
    for column in ("item", "domain"):
        frame[column] = frame[column].astype("str")
    return frame


def assemble(
    parts: Sequence[pd.DataFrame], *, wave: str, level: str, columns: Sequence[str]
) -> pd.DataFrame:
    """The site rows and the whole-wave row as one table: ``columns`` in order, labels text."""
    table = pd.concat(list(parts), ignore_index=True)
    table["wave"] = wave
    table["level"] = level
    for column in ("wave", "site", "site_name", "level"):
        table[column] = table[column].astype("str")
    return table.loc[:, list(columns)]
