"""Turning one item's answers into flags and scores.

Each function looks at the distinct answers only (via the column's categories or
``pandas.factorize``) and maps them back with an index lookup, so coding a column of
100,000 answers costs one hash pass.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis.errors import AnalysisError, Message
from analysis.spec import NUMERIC_KINDS, ItemSpec

__all__ = ["answer_flags", "choice_name", "item_scores"]

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

_RULE = re.compile(r"^\s*(>=|<=|>|<|=)?\s*([-+]?(?:\d+\.?\d*|\.\d+))\s*$")
_OPS: dict[str, Callable[[FloatArray, float], BoolArray]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "=": operator.eq,
}


def choice_name(value: object) -> str | None:
    """The choice name an answer stands for, or None for no answer.

    Blank strings are no answer; whole floats read back as integers (``2.0`` is
    choice ``"2"``), so a loader that parsed numeric choice names does no harm.

    Examples
    --------
    >>> choice_name(" agree "), choice_name(2.0), choice_name(""), choice_name(float("nan"))
    ('agree', '2', None, None)
    """
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        if float(value).is_integer():
            return str(int(value))
    text = str(value).strip()
    return text or None


def _factorize(values: pd.Series) -> tuple[IntArray, list[str | None]]:
    """Codes (-1 for missing) and the choice name of each code."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes: IntArray = np.asarray(values.cat.codes.to_numpy(), dtype=np.intp)
        uniques = list(values.cat.categories)
    else:
        raw_codes, raw_uniques = pd.factorize(values, use_na_sentinel=True)
        codes = np.asarray(raw_codes, dtype=np.intp)
        uniques = list(raw_uniques)
    return codes, [choice_name(u) for u in uniques]


def _lookup(
    codes: IntArray, table: Sequence[object], fill: object, dtype: type
) -> npt.NDArray[np.generic]:
    # One extra slot at the end: code -1 (missing) reads it.
    lut: npt.NDArray[np.generic] = np.array([*table, fill], dtype=dtype)
    return lut[codes]


def _numbers(values: pd.Series) -> FloatArray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _numeric_rules(item: ItemSpec, rules: frozenset[str]) -> list[tuple[str, float]]:
    parsed = []
    for rule in sorted(rules):
        match = _RULE.match(rule)
        if match is None:
            raise AnalysisError(Message.BAD_NUMERIC_RULE, item=item.name, rule=rule)
        parsed.append((match.group(1) or "=", float(match.group(2))))
    return parsed


def _matches(x: FloatArray, rules: list[tuple[str, float]]) -> BoolArray:
    out = np.zeros(x.shape, dtype=bool)
    for op, threshold in rules:
        out |= _OPS[op](x, threshold)
    return out


def answer_flags(values: pd.Series, item: ItemSpec) -> tuple[BoolArray, BoolArray]:
    """Which respondents answered the item, and which answered positively.

    Parameters
    ----------
    values : Series
        The item's column: choice names (select_one), space-separated choice names
        (select_multiple) or numbers.
    item : ItemSpec
        The item's metadata.

    Returns
    -------
    answered, positive : ndarray of bool
        ``answered`` excludes skips, not-relevant and ``missing`` choices (for
        select_multiple: an answer made only of missing choices). ``positive`` is
        answered and in the ``positive`` set (select_multiple: any chosen name is).

    Examples
    --------
    >>> item = ItemSpec("q", positive={"yes"}, missing={"pnts"})
    >>> answered, positive = answer_flags(pd.Series(["yes", "no", "pnts", None]), item)
    >>> answered.tolist(), positive.tolist()
    ([True, True, False, False], [True, False, False, False])
    >>> multi = ItemSpec("clubs", kind="select_multiple", positive={"sport", "music"})
    >>> answer_flags(pd.Series(["sport art", "none", None]), multi)[1].tolist()
    [True, False, False]
    >>> ons = ItemSpec("life_sat", kind="integer", positive={">=7"})
    >>> answer_flags(pd.Series([8.0, 3.0, None]), ons)[1].tolist()
    [True, False, False]
    """
    if item.kind in NUMERIC_KINDS:
        x = _numbers(values)
        answered = ~np.isnan(x)
        if item.missing:
            answered &= ~_matches(x, _numeric_rules(item, item.missing))
        positive = answered & _matches(x, _numeric_rules(item, item.positive))
        return answered, positive
    codes, names = _factorize(values)
    ans_lut: list[bool] = []
    pos_lut: list[bool] = []
    for name in names:
        if name is None:
            ans_lut.append(False)
            pos_lut.append(False)
        elif item.kind == "select_multiple":
            chosen = set(name.split())
            is_answer = bool(chosen - item.missing)
            ans_lut.append(is_answer)
            pos_lut.append(is_answer and bool(chosen & item.positive))
        else:
            ans_lut.append(name not in item.missing)
            pos_lut.append(name in item.positive)
    answered = np.asarray(_lookup(codes, ans_lut, False, bool), dtype=np.bool_)
    positive = np.asarray(_lookup(codes, pos_lut, False, bool), dtype=np.bool_)
    return answered, positive


def item_scores(values: pd.Series, item: ItemSpec) -> FloatArray:
    """Each respondent's score on the item, reverse-scored if the item says so.

    Unanswered, ``missing`` and unscored choices give NaN. Numeric items score their
    value; reversing one needs ``scores`` to give its range.

    Examples
    --------
    >>> item = ItemSpec("q", scores={"never": 1, "sometimes": 2, "often": 3, "dk": 0},
    ...                 missing={"dk"}, reverse=True)
    >>> item_scores(pd.Series(["never", "often", "dk", None]), item).tolist()
    [3.0, 1.0, nan, nan]
    """
    if item.kind == "select_multiple":
        raise AnalysisError(Message.BAD_KIND, item=item.name, kind=item.kind, why="scored")
    bounds = item.score_range()
    if item.reverse and (bounds is None or bounds[0] == bounds[1]):
        raise AnalysisError(Message.NO_SCORE_RANGE, item=item.name)
    if item.kind in NUMERIC_KINDS:
        x = _numbers(values)
        if item.missing:
            x = np.where(_matches(x, _numeric_rules(item, item.missing)), np.nan, x)
    else:
        codes, names = _factorize(values)
        lut = [
            item.scores.get(name, math.nan)
            if name is not None and name not in item.missing
            else math.nan
            for name in names
        ]
        x = np.asarray(_lookup(codes, lut, math.nan, float), dtype=np.float64)
    if item.reverse and bounds is not None:
        x = (bounds[0] + bounds[1]) - x
    return x
