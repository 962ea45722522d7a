"""Breakdowns: item results per site x grouping variable (year group, gender, FSM...)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis._grid import (
    all_label,
    check_level,
    count_grid,
    item_flags,
    proportion_rows,
    site_index,
    summarised_items,
)
from analysis.coding import choice_name
from analysis.errors import AnalysisError, Message
from analysis.spec import ALL_SITES, BREAKDOWN_COLUMNS, NOT_STATED, ItemSpec
from analysis.suppression import DEFAULT_K, apply_suppression

__all__ = ["DEFAULT_BREAKDOWNS", "NOT_GROUPING", "grouping_columns", "item_breakdowns"]

#: Grouping variables every breakdown includes when present.
DEFAULT_BREAKDOWNS: tuple[str, ...] = ("year_group", "gender")
#: Columns of the responses frame that are never grouping variables.
NOT_GROUPING: frozenset[str] = frozenset(
    {"response_id", "site", "site_name", "area", "weight", "wave", "level"}
)

IntArray = npt.NDArray[np.intp]


def grouping_columns(responses: pd.DataFrame, items: Sequence[ItemSpec]) -> list[str]:
    """The grouping variables in a responses frame.

    ``year_group`` and ``gender`` first, then every other column that is neither an
    item nor one of :data:`NOT_GROUPING` (the loader adds extra groupings such as
    ``fsm`` as plain columns).

    Examples
    --------
    >>> r = pd.DataFrame(columns=["response_id", "site", "gender", "fsm", "q1"])
    >>> grouping_columns(r, [ItemSpec("q1")])
    ['gender', 'fsm']
    """
    item_names = {item.name for item in items}
    extra = [
        c
        for c in responses.columns
        if c not in item_names and c not in NOT_GROUPING and c not in DEFAULT_BREAKDOWNS
    ]
    return [c for c in DEFAULT_BREAKDOWNS if c in responses.columns] + [str(c) for c in extra]


def _natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort 'Year 5' before 'Year 10'."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.lower())
        for part in re.split(r"(\d+)", text)
        if part
    )


def _group_codes(values: pd.Series) -> tuple[IntArray, list[str]]:
    """Codes 0..G-1 for a grouping column; unknown values become 'not stated' (last)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        order = [str(c) for c in values.cat.categories]
        names = [choice_name(v) for v in values.astype(object)]
    else:
        names = [choice_name(v) for v in values.astype(object)]
        order = sorted({n for n in names if n is not None}, key=_natural_key)
    labels = [*order, NOT_STATED] if NOT_STATED not in order else order
    position = {label: i for i, label in enumerate(labels)}
    codes = np.fromiter(
        (position[n if n is not None else NOT_STATED] for n in names),
        dtype=np.intp,
        count=len(names),
    )
    return codes, labels


def item_breakdowns(
    responses: pd.DataFrame,
    items: Sequence[ItemSpec],
    *,
    wave: str,
    by: Sequence[str] | None = None,
    level: str = "school",
    k: int = DEFAULT_K,
    reasons: bool = False,
) -> pd.DataFrame:
    """Per site x item x group: answers, percentage positive and test, suppressed.

    Parameters
    ----------
    responses : DataFrame
        As for :func:`analysis.items.item_summary`.
    items : sequence of ItemSpec
        Item metadata (the same items as the item summary are broken down).
    wave : str
        Wave name for the ``wave`` column.
    by : sequence of str, optional
        Grouping columns; default :func:`grouping_columns` (year group, gender and
        any extra grouping column).
    level : {"school", "area"}
        Written in the ``level`` column.
    k : int
        Suppression threshold.
    reasons : bool
        Add ``suppression_reason`` (why each hidden row is hidden; see
        :func:`analysis.suppression.apply_suppression`).

    Returns
    -------
    DataFrame
        Columns :data:`analysis.spec.BREAKDOWN_COLUMNS` (the summary columns plus
        ``group_var`` and ``group_value``). For every site and the whole wave
        (``site = "ALL"``) there is a row per item x group value with at least one
        respondent. Respondents whose group is unknown form the group
        ``"not stated"``, so the groups of a breakdown always add up to the site's
        total. The benchmark of a cell is the same group in all other sites pooled;
        ``p_adjusted`` is Benjamini-Hochberg over the cell's items.

    Examples
    --------
    >>> r = pd.DataFrame({"site": ["a"] * 40 + ["b"] * 40,
    ...                   "gender": (["girl"] * 20 + ["boy"] * 18 + [None] * 2) * 2,
    ...                   "q": ["yes", "no"] * 40})
    >>> out = item_breakdowns(r, [ItemSpec("q", positive={"yes"})], wave="w")
    >>> out.loc[out.site == "a", ["group_value", "n", "pct_positive", "suppressed"]]
      group_value     n  pct_positive  suppressed
    0         boy  <NA>           NaN        True
    1        girl    20          50.0       False
    2  not stated  <NA>           NaN        True

    The two pupils of unknown gender are hidden (2 < k), and so are the boys:
    otherwise 40 - 20 = 20 minus the 18 boys would reveal them.
    """
    level = check_level(level)
    chosen = summarised_items(responses, items)
    variables = list(by) if by is not None else grouping_columns(responses, items)
    for var in variables:
        if var not in responses.columns:
            raise AnalysisError(Message.MISSING_COLUMN, frame="responses", column=var)
    sites = site_index(responses)
    answered, positive = item_flags(responses, chosen)
    parts = []
    for var in variables:
        gcodes, labels = _group_codes(responses[var])
        n_groups = len(labels)
        cells = sites.codes * n_groups + gcodes
        n_cells = sites.size * n_groups
        respondents = np.bincount(cells, minlength=n_cells).astype(np.float64)
        n = count_grid(cells, n_cells, answered)
        pos = count_grid(cells, n_cells, positive)
        # Whole wave per group, then the benchmark = the same group elsewhere.
        group_n = n.reshape(sites.size, n_groups, -1).sum(axis=0)
        group_pos = pos.reshape(sites.size, n_groups, -1).sum(axis=0)
        group_resp = respondents.reshape(sites.size, n_groups).sum(axis=0)
        bench_n = np.tile(group_n, (sites.size, 1)) - n
        bench_pos = np.tile(group_pos, (sites.size, 1)) - pos
        keep = respondents > 0
        site_cells = pd.DataFrame(
            {
                "site": np.repeat(np.array(sites.ids, dtype=object), n_groups)[keep],
                "site_name": np.repeat(np.array(sites.names, dtype=object), n_groups)[keep],
                "group_value": np.tile(np.array(labels, dtype=object), sites.size)[keep],
            }
        )
        parts.append(
            proportion_rows(
                site_cells,
                chosen,
                respondents=respondents[keep],
                n=n[keep],
                positive=pos[keep],
                benchmark_n=bench_n[keep],
                benchmark_positive=bench_pos[keep],
            ).assign(group_var=var)
        )
        keep_all = group_resp > 0
        all_cells = pd.DataFrame(
            {
                "site": ALL_SITES,
                "site_name": all_label(level),
                "group_value": np.array(labels, dtype=object)[keep_all],
            }
        )
        parts.append(
            proportion_rows(
                all_cells,
                chosen,
                respondents=group_resp[keep_all],
                n=group_n[keep_all],
                positive=group_pos[keep_all],
            ).assign(group_var=var)
        )
    if not parts:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in BREAKDOWN_COLUMNS})
        return empty.astype({"suppressed": bool})
    table = pd.concat(parts, ignore_index=True)
    table["wave"] = wave
    table["level"] = level
    # Keep each breakdown's cells together: site, item, grouping variable, group.
    item_order = {item.name: i for i, item in enumerate(chosen)}
    var_order = {var: i for i, var in enumerate(variables)}
    table["_site"] = (table["site"] == ALL_SITES).astype(int)
    table["_item"] = table["item"].map(item_order)
    table["_var"] = table["group_var"].map(var_order)
    table["_row"] = np.arange(len(table))
    table = table.sort_values(["_site", "site", "_item", "_var", "_row"], kind="stable")
    for column in ("wave", "site", "site_name", "level", "group_var", "group_value"):
        table[column] = table[column].astype("str")
    table = table.loc[:, list(BREAKDOWN_COLUMNS)].reset_index(drop=True)
    return apply_suppression(table, k=k, reasons=reasons)
