"""Weighting residents to population margins by raking (iterative proportional fitting)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis.coding import choice_name
from analysis.errors import AnalysisError, Message
from analysis.stats import kish_design_effect

__all__ = ["RakeResult", "margin_table", "rake"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

#: Separator for a crossed raking variable: ``age_band:sex`` with categories
#: such as ``16-24:female`` rakes to the joint age x sex distribution.
CROSS = ":"


@dataclass(frozen=True)
class RakeResult:
    """Raked weights and how the raking went.

    Attributes
    ----------
    weights : Series
        One weight per row of the frame (same index), mean 1 within each group.
    report : DataFrame
        One row per group: ``group, n, iterations, max_error, converged, max_weight,
        design_effect``. ``max_error`` is the largest absolute difference between a
        weighted share and its target share (0-1 scale).
    """

    weights: pd.Series
    report: pd.DataFrame

    @property
    def converged(self) -> bool:
        """Whether every group met its margins within the tolerance."""
        return bool(self.report["converged"].all())


def _variable_values(frame: pd.DataFrame, variable: str) -> npt.NDArray[np.object_]:
    """Each row's category of a (possibly crossed) raking variable; None if unknown."""
    parts = []
    for column in variable.split(CROSS):
        if column not in frame.columns:
            raise AnalysisError(Message.MISSING_COLUMN, frame="the frame to weight", column=column)
        codes, uniques = pd.factorize(frame[column])
        names = np.array([*(choice_name(u) for u in uniques), None], dtype=object)
        parts.append(names[codes])
    out: npt.NDArray[np.object_] = np.empty(len(frame), dtype=object)
    out[:] = [
        None if None in combo else CROSS.join(map(str, combo)) for combo in zip(*parts, strict=True)
    ]
    return out


def margin_table(margins: pd.DataFrame, *, by: str | None = None) -> pd.DataFrame:
    """Check population margins and return them as target shares.

    Parameters
    ----------
    margins : DataFrame
        Columns ``variable, category`` and ``proportion`` or ``count``. Shares are
        normalised to 1 per variable (per variable and group with ``by``).
    by : str, optional
        Group column (such as ``site``) when each group has its own margins.

    Returns
    -------
    DataFrame
        The margins with a ``share`` column.

    Examples
    --------
    >>> m = pd.DataFrame({"variable": "sex", "category": ["f", "m"], "count": [520, 480]})
    >>> margin_table(m)["share"].tolist()
    [0.52, 0.48]
    """
    for column in ("variable", "category"):
        if column not in margins.columns:
            raise AnalysisError(Message.MISSING_COLUMN, frame="the margins", column=column)
    value = next((c for c in ("proportion", "count") if c in margins.columns), None)
    if value is None:
        raise AnalysisError(Message.BAD_MARGINS, why="give a 'proportion' or 'count' column")
    table = margins.copy()
    table["variable"] = table["variable"].astype(str)
    table["category"] = [choice_name(v) for v in table["category"].astype(object)]
    amounts = pd.to_numeric(table[value], errors="coerce")
    if amounts.isna().any() or (amounts <= 0).any():
        raise AnalysisError(Message.BAD_MARGINS, why=f"every {value} must be a number above 0")
    if table["category"].isna().any():
        raise AnalysisError(Message.BAD_MARGINS, why="a category is blank")
    group_keys = ["variable", *([by] if by is not None and by in table.columns else [])]
    if table.duplicated([*group_keys, "category"]).any():
        raise AnalysisError(Message.BAD_MARGINS, why="a category is listed twice")
    table["share"] = amounts / amounts.groupby([table[c] for c in group_keys]).transform("sum")
    return table


def _rake_group(
    codes: list[IntArray],
    targets: list[FloatArray],
    base: FloatArray,
    *,
    max_iter: int,
    tol: float,
    cap: float | None,
) -> tuple[FloatArray, int, float, bool]:
    w = base * (len(base) / base.sum())
    error = np.inf
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 - reported after the loop
        for code, target in zip(codes, targets, strict=True):
            known = code >= 0
            totals = np.bincount(code[known], weights=w[known], minlength=len(target))
            factor = target * totals.sum() / totals
            w[known] *= factor[code[known]]
        w *= len(w) / w.sum()
        if cap is not None:
            np.minimum(w, cap, out=w)
        error = _margin_error(codes, targets, w)
        shortfall = 1 - w.mean()
        if error < tol and shortfall < tol:
            break
    w *= len(w) / w.sum()
    error = _margin_error(codes, targets, w)
    converged = bool(error < tol and (cap is None or w.max() <= cap * (1 + tol)))
    return w, iterations, error, converged


def _margin_error(codes: list[IntArray], targets: list[FloatArray], w: FloatArray) -> float:
    worst = 0.0
    for code, target in zip(codes, targets, strict=True):
        known = code >= 0
        totals = np.bincount(code[known], weights=w[known], minlength=len(target))
        worst = max(worst, float(np.max(np.abs(totals / totals.sum() - target))))
    return worst


def rake(
    frame: pd.DataFrame,
    margins: pd.DataFrame,
    *,
    weight_col: str | None = None,
    by: str | None = None,
    max_iter: int = 100,
    tol: float = 1e-6,
    cap: float | None = 5.0,
) -> RakeResult:
    """Rake weights so weighted shares match population margins.

    Parameters
    ----------
    frame : DataFrame
        One row per respondent with a column for each raking variable.
    margins : DataFrame
        Tidy margins: ``variable, category, proportion`` (or ``count``), e.g. rows for
        ``age_band`` and ``sex`` and optionally ``tenure``. A variable written
        ``age_band:sex`` with categories ``16-24:female``... rakes to the joint
        distribution. With ``by``, margins may carry a ``by`` column to give each
        group its own margins; otherwise every group uses the same margins.
    weight_col : str, optional
        Column of starting (design) weights; default all 1.
    by : str, optional
        Rake each group (e.g. ``"site"``: each neighbourhood to its own population)
        separately.
    max_iter : int
        Most raking cycles (one cycle adjusts every variable once).
    tol : float
        Converged when every weighted share is within ``tol`` of its target.
    cap : float or None
        Largest weight allowed, relative to a mean of 1. Weights above it are trimmed
        to the cap and the raking continues, so margins are met with trimmed weights
        where possible.

    Returns
    -------
    RakeResult
        Weights (mean 1 within each group) and a convergence report.

    Notes
    -----
    Each cycle, for each variable, multiplies the weights of respondents in
    category c by ``target_c · W / W_c`` (W_c their weighted total, W the total of
    respondents whose category is known), then rescales to mean 1 and trims at the
    cap. Respondents whose category is missing, or not among the margins'
    categories, keep their weight for that variable. A margin category with nobody
    in the sample is an error: no weight can represent it.

    Examples
    --------
    >>> people = pd.DataFrame({"sex": ["f", "f", "f", "m", "m", "f"],
    ...                        "age_band": ["young", "old", "old", "young", "old", "old"]})
    >>> m = pd.DataFrame({"variable": ["sex", "sex", "age_band", "age_band"],
    ...                   "category": ["f", "m", "young", "old"],
    ...                   "proportion": [0.5, 0.5, 0.5, 0.5]})
    >>> result = rake(people, m)
    >>> result.weights.round(3).tolist()
    [1.098, 0.634, 0.634, 1.902, 1.098, 0.634]
    >>> result.report[["n", "converged", "design_effect"]].round(3)
       n  converged  design_effect
    0  6       True          1.206
    """
    if cap is not None and not cap > 1:
        raise AnalysisError(Message.BAD_CAP, cap=cap)
    table = margin_table(margins, by=by)
    if weight_col is None:
        base = np.ones(len(frame))
    else:
        if weight_col not in frame.columns:
            raise AnalysisError(Message.MISSING_COLUMN, frame="the frame", column=weight_col)
        base = pd.to_numeric(frame[weight_col], errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        if not np.all(np.isfinite(base) & (base > 0)):
            raise AnalysisError(
                Message.BAD_WEIGHTS, column=weight_col, why="every weight must be above 0"
            )
    if by is None:
        groups = np.zeros(len(frame), dtype=np.intp)
        names: list[str] = ["ALL"]
    else:
        if by not in frame.columns:
            raise AnalysisError(Message.MISSING_COLUMN, frame="the frame", column=by)
        raw, uniques = pd.factorize(frame[by].astype(str), sort=True)
        groups = np.asarray(raw, dtype=np.intp)
        names = [str(u) for u in uniques]
    per_group = by is not None and by in table.columns
    variables = list(dict.fromkeys(table["variable"]))
    values = {variable: _variable_values(frame, variable) for variable in variables}
    weights = np.full(len(frame), np.nan)
    rows = []
    for g, name in enumerate(names):
        members = np.flatnonzero(groups == g)
        mine = table[table[by].astype(str) == name] if per_group and by else table
        if per_group and mine.empty:
            raise AnalysisError(Message.BAD_MARGINS, why=f"no margins for {by} '{name}'")
        codes, targets = [], []
        for variable in variables:
            spec = mine[mine["variable"] == variable]
            categories = spec["category"].tolist()
            code = np.asarray(
                pd.Index(categories, dtype=object).get_indexer(values[variable][members]),
                dtype=np.intp,
            )
            present = np.bincount(code[code >= 0], minlength=len(categories))
            for category, count in zip(categories, present, strict=True):
                if count == 0:
                    raise AnalysisError(
                        Message.EMPTY_MARGIN_CELL,
                        group=f"{by} '{name}'" if by else "the sample",
                        variable=variable,
                        category=category,
                    )
            codes.append(code)
            targets.append(spec["share"].to_numpy(dtype=np.float64))
        w, iterations, error, converged = _rake_group(
            codes, targets, base[members], max_iter=max_iter, tol=tol, cap=cap
        )
        weights[members] = w
        rows.append(
            {
                "group": name,
                "n": len(members),
                "iterations": iterations,
                "max_error": error,
                "converged": converged,
                "max_weight": float(w.max()),
                "design_effect": kish_design_effect(w),
            }
        )
    return RakeResult(
        weights=pd.Series(weights, index=frame.index, name="weight"),
        report=pd.DataFrame(rows),
    )
