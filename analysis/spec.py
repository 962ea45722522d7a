"""Item and scale metadata the analysis needs, and the column layouts it produces.

The analysis package does not import :mod:`instruments`; whoever loads the data turns
each instrument item into an :class:`ItemSpec` and each scale into a :class:`ScaleSpec`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from analysis.errors import AnalysisError, Message

__all__ = [
    "ALL_SITES",
    "ANALYSED_KINDS",
    "AREA_COLUMNS",
    "BREAKDOWN_COLUMNS",
    "ID_COLUMNS",
    "NOT_STATED",
    "NUMERIC_KINDS",
    "SCALE_COLUMNS",
    "SUMMARY_COLUMNS",
    "SWEMWBS_TABLE",
    "THEME_COLUMNS",
    "TREND_COLUMNS",
    "ItemSpec",
    "ScaleSpec",
    "swemwbs_scale",
]

#: Site id of the whole-wave rows.
ALL_SITES = "ALL"
#: Group value for respondents whose grouping variable is not known.
NOT_STATED = "not stated"

#: Item kinds treated as numbers.
NUMERIC_KINDS: frozenset[str] = frozenset({"integer", "decimal", "range"})
#: Item kinds the analysis reports; any other kind (text, date, note...) is skipped.
ANALYSED_KINDS: frozenset[str] = frozenset({"select_one", "select_multiple"}) | NUMERIC_KINDS

#: Columns that identify a row; everything else in an output is a value that
#: suppression empties.
ID_COLUMNS: tuple[str, ...] = (
    "wave",
    "previous_wave",
    "site",
    "site_name",
    "level",
    "item",
    "domain",
    "scale",
    "theme",
    "group_var",
    "group_value",
)

#: ``summary`` CSV columns, in order (DESIGN section 5).
SUMMARY_COLUMNS: tuple[str, ...] = (
    "wave",
    "site",
    "site_name",
    "level",
    "item",
    "domain",
    "n",
    "n_missing",
    "n_positive",
    "pct_positive",
    "ci_low",
    "ci_high",
    "benchmark_n",
    "benchmark_pct",
    "diff",
    "p_value",
    "p_adjusted",
    "flag",
    "suppressed",
)
#: Area (neighbourhood) rows: the summary columns plus the weighting columns.
AREA_COLUMNS: tuple[str, ...] = (*SUMMARY_COLUMNS, "weighted_pct", "design_effect", "n_effective")
#: Breakdown rows: the summary columns with the grouping after ``domain``.
BREAKDOWN_COLUMNS: tuple[str, ...] = (
    *SUMMARY_COLUMNS[:6],
    "group_var",
    "group_value",
    *SUMMARY_COLUMNS[6:],
)
#: Scale summary rows.
SCALE_COLUMNS: tuple[str, ...] = (
    "wave",
    "site",
    "site_name",
    "level",
    "scale",
    "n",
    "n_missing",
    "mean",
    "sd",
    "ci_low",
    "ci_high",
    "benchmark_n",
    "benchmark_mean",
    "diff",
    "std_diff",
    "p_value",
    "p_adjusted",
    "flag",
    "suppressed",
)
#: Trend rows (this wave against the previous one).
TREND_COLUMNS: tuple[str, ...] = (
    "wave",
    "previous_wave",
    "site",
    "site_name",
    "level",
    "item",
    "domain",
    "n",
    "pct_positive",
    "previous_n",
    "previous_pct",
    "change",
    "p_value",
    "change_flag",
    "suppressed",
)
#: Theme count rows.
THEME_COLUMNS: tuple[str, ...] = (
    "wave",
    "site",
    "site_name",
    "theme",
    "n_answered",
    "n_respondents",
    "pct",
    "suppressed",
)

#: SWEMWBS raw score (sum of the seven item scores, 7-35) to metric score, as published
#: by Stewart-Brown et al. (2009), Health and Quality of Life Outcomes 7:15 (Rasch
#: conversion). Scoring only: the item wording is licensed and is not shipped.
SWEMWBS_TABLE: Mapping[float, float] = MappingProxyType(
    {
        7.0: 7.00,
        8.0: 9.51,
        9.0: 11.25,
        10.0: 12.40,
        11.0: 13.33,
        12.0: 14.08,
        13.0: 14.75,
        14.0: 15.32,
        15.0: 15.84,
        16.0: 16.36,
        17.0: 16.88,
        18.0: 17.43,
        19.0: 17.98,
        20.0: 18.59,
        21.0: 19.25,
        22.0: 19.98,
        23.0: 20.73,
        24.0: 21.54,
        25.0: 22.35,
        26.0: 23.21,
        27.0: 24.11,
        28.0: 25.03,
        29.0: 26.02,
        30.0: 27.03,
        31.0: 28.13,
        32.0: 29.31,
        33.0: 30.70,
        34.0: 32.55,
        35.0: 35.00,
    }
)


def _frozen(values: Iterable[str] | str) -> frozenset[str]:
    if isinstance(values, str):
        return frozenset(values.split())
    return frozenset(str(v) for v in values)


@dataclass(frozen=True)
class ItemSpec:
    """Analysis metadata for one item (question).

    Parameters
    ----------
    name : str
        The item's column name in the responses frame.
    label : str
        Short label for reports (never licensed item wording).
    domain : str
        Reporting domain (e.g. ``"safety"``).
    kind : str
        ``select_one``, ``select_multiple``, ``integer``, ``decimal`` (``range`` counts
        as a number); any other kind, such as ``text``, is never summarised.
    positive : frozenset of str
        Choice names counted as the positive answer. For numeric items each entry is a
        number (``"10"``) or a comparison (``">=7"``, ``"<3"``).
    missing : frozenset of str
        Choice names that count as no answer ("prefer not to say", "don't know").
    scores : mapping of str to float
        Numeric score of each choice, for scales.
    reverse : bool
        Reverse-scored: score becomes ``(min + max) - score`` over the item's
        non-missing choice scores.
    scale : str
        Name of the scale the item belongs to, if any.
    report : bool
        False for items never reported on their own.

    Examples
    --------
    >>> item = ItemSpec("safe_school", domain="safety", positive={"agree", "strongly_agree"})
    >>> sorted(item.positive)
    ['agree', 'strongly_agree']
    >>> item.summarised
    True
    >>> ItemSpec("comments", kind="text").summarised
    False
    """

    name: str
    label: str = ""
    domain: str = ""
    kind: str = "select_one"
    positive: frozenset[str] = frozenset()
    missing: frozenset[str] = frozenset()
    scores: Mapping[str, float] = field(default_factory=dict)
    reverse: bool = False
    scale: str = ""
    report: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "positive", _frozen(self.positive))
        object.__setattr__(self, "missing", _frozen(self.missing))
        object.__setattr__(
            self, "scores", MappingProxyType({str(k): float(v) for k, v in self.scores.items()})
        )
        both = self.positive & self.missing
        if both:
            raise AnalysisError(
                Message.POSITIVE_AND_MISSING, item=self.name, choices=", ".join(sorted(both))
            )

    @property
    def summarised(self) -> bool:
        """Whether the item gets a row in item summaries.

        An item is summarised when it is reported, of an analysed kind, and has a
        ``positive`` set (without one there is no percentage positive to show; such
        items still count towards scales).
        """
        return self.report and self.kind in ANALYSED_KINDS and bool(self.positive)

    def score_range(self) -> tuple[float, float] | None:
        """Smallest and largest score over the non-missing choices, or None.

        Examples
        --------
        >>> ItemSpec("q", scores={"no": 0, "yes": 1, "pnts": 9}, missing={"pnts"}).score_range()
        (0.0, 1.0)
        """
        values = [v for name, v in self.scores.items() if name not in self.missing]
        if not values:
            return None
        return (min(values), max(values))


@dataclass(frozen=True)
class ScaleSpec:
    """A multi-item scale.

    Parameters
    ----------
    name : str
        Scale name used in outputs.
    items : tuple of str
        Names of the items in the scale.
    min_answered : float
        Share of the items a respondent must answer for a score (default 0.75).
    table : mapping of float to float, optional
        Published raw-to-metric conversion; the raw score is the sum of item scores
        (prorated when some items are unanswered) rounded to the nearest whole number.
        None means the score is the mean of the answered item scores.

    Examples
    --------
    >>> scale = ScaleSpec("belonging", items=("b1", "b2", "b3", "b4"))
    >>> scale.min_items
    3
    """

    name: str
    items: tuple[str, ...]
    min_answered: float = 0.75
    table: Mapping[float, float] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", tuple(self.items))
        if not self.items:
            raise AnalysisError(Message.BAD_SCALE, scale=self.name, why="it has no items")
        if len(set(self.items)) != len(self.items):
            raise AnalysisError(Message.BAD_SCALE, scale=self.name, why="an item is listed twice")
        if not 0 < self.min_answered <= 1:
            raise AnalysisError(
                Message.BAD_SCALE,
                scale=self.name,
                why=f"min_answered must be above 0 and at most 1, not {self.min_answered}",
            )
        if self.table is not None:
            object.__setattr__(
                self,
                "table",
                MappingProxyType({float(k): float(v) for k, v in self.table.items()}),
            )

    @property
    def min_items(self) -> int:
        """Fewest answered items that still give a score (75% of 7 items is 6)."""
        needed = self.min_answered * len(self.items)
        whole = round(needed)
        return whole if abs(needed - whole) < 1e-9 else int(needed) + 1


def swemwbs_scale(items: Iterable[str], *, name: str = "swemwbs") -> ScaleSpec:
    """The SWEMWBS scale over the licensee's seven item names, with the metric table.

    Item scores must run 1 ("none of the time") to 5 ("all of the time").

    Examples
    --------
    >>> scale = swemwbs_scale([f"sw{i}" for i in range(1, 8)])
    >>> scale.table[35.0], scale.min_items
    (35.0, 6)
    """
    return ScaleSpec(name=name, items=tuple(items), table=SWEMWBS_TABLE)
