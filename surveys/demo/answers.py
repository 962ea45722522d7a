"""Simulated answers, generated generically from an instrument's analysis metadata.

Each select item is answered through an ordered-logit mapping: the item's non-missing
scored choices are put in order from least to most favourable (the favourable end is the
one its ``positive`` set sits at), and a respondent's latent score for the item's domain
moves them along it. So a school or area whose respondents have a higher latent score on
a domain shows a higher percentage positive on every item of that domain, whatever the
wording, number of choices or direction of the items. Items without scores are answered
from fixed shares, select_multiple choices one by one, and text items from phrase banks.
Skips and "prefer not to say" / "don't know" answers give realistic missingness.

Generated answers are then checked with :func:`surveys.validation.validate_answers`:
what the demo stores always passes it (relevance drops answers to hidden questions).
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from instruments.model import Instrument, Item
from surveys.validation import validate_answers

__all__ = ["DOMAIN_BASE", "ItemPlan", "Simulator", "TextSource", "stable_unit"]

FloatArray = npt.NDArray[np.float64]
#: A text source: (generator, number of respondents) -> one text (or None) per respondent.
TextSource = Callable[[np.random.Generator, int], list[str | None]]

#: Share answering positively at an average latent score, by domain (else 0.68).
DOMAIN_BASE: dict[str, float] = {
    "wellbeing": 0.66,
    "safety": 0.8,
    "belonging": 0.68,
    "relationships": 0.78,
    "bullying": 0.6,
    "aspirations": 0.78,
    "neighbourhood": 0.55,
    "activities": 0.62,
    "place": 0.62,
    "cohesion": 0.6,
    "participation": 0.3,
    "services": 0.55,
    "awareness": 0.35,
}

_EXCLUSIVE = re.compile(r"selected\(\s*\.\s*,\s*'([^']+)'\s*\)\s*and\s*count-selected")
_LOW = re.compile(r"\.\s*>=?\s*(-?\d+)")
_HIGH = re.compile(r"\.\s*<=?\s*(-?\d+)")


def stable_unit(name: str) -> float:
    """A stable number in [0, 1) from a name (same on every machine and run)."""
    return (zlib.crc32(name.encode()) % 10_000) / 10_000


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _sigmoid(x: FloatArray) -> FloatArray:
    result: FloatArray = 1.0 / (1.0 + np.exp(-x))
    return result


@dataclass(frozen=True)
class ItemPlan:
    """How one item is answered."""

    item: Item
    #: ordinal | binary | multiple | categorical | integer | number | date | text | none
    kind: str
    #: Non-missing choices from least to most favourable (ordinal/binary), or form order.
    order: tuple[str, ...] = ()
    #: Cut points on the latent scale (ordinal): P(answer >= k) = sigmoid(eta - cut[k-1]).
    cuts: tuple[float, ...] = ()
    positive: frozenset[str] = frozenset()
    missing: tuple[str, ...] = ()
    #: select_multiple: the choice that excludes the others ("none of these").
    exclusive: str = ""
    #: categorical: share of each choice in ``order``; multiple: chance each is ticked.
    shares: tuple[float, ...] = ()
    #: Latent score at which half answer positively: minus the logit of the base share.
    anchor: float = 0.0
    low: float = 0.0
    high: float = 10.0


def _plan(item: Item, base: Mapping[str, float]) -> ItemPlan:
    missing = tuple(c.name for c in item.choices if c.missing)
    answers = [c for c in item.choices if not c.missing]
    jitter = (stable_unit(item.name) - 0.5) * 0.16
    target = min(0.92, max(0.08, base.get(item.domain, 0.68) + jitter))
    anchor = -_logit(target)
    if item.type == "select_one":
        scored = [c for c in answers if c.score is not None]
        score = {c.name: float(c.score or 0.0) for c in scored}
        if item.positive and len(scored) == len(answers) and len(scored) >= 2:
            ordered = sorted(scored, key=lambda c: (score[c.name], item.choice_names.index(c.name)))
            pos = [score[c.name] for c in ordered if c.name in item.positive]
            neg = [score[c.name] for c in ordered if c.name not in item.positive]
            if pos and neg and sum(pos) / len(pos) < sum(neg) / len(neg):
                ordered.reverse()  # the favourable end has the low scores (reverse items)
            names = tuple(c.name for c in ordered)
            k = len(names)
            split = max(1, min(k - 1, k - sum(1 for n in names if n in item.positive)))
            spacing = 4.5 / (k - 1)
            cuts = tuple(anchor + spacing * (j - split) for j in range(1, k))
            return ItemPlan(item, "ordinal", names, cuts, item.positive, missing, anchor=anchor)
        if item.positive:
            names = tuple(c.name for c in answers)
            return ItemPlan(item, "binary", names, (), item.positive, missing, anchor=anchor)
        names = tuple(c.name for c in answers)
        weights = np.random.default_rng(zlib.crc32(item.name.encode())).dirichlet(
            np.full(len(names), 3.0)
        )
        return ItemPlan(item, "categorical", names, (), missing=missing, shares=tuple(weights))
    if item.type == "select_multiple":
        found = _EXCLUSIVE.search(item.constraint)
        exclusive = found.group(1) if found else ""
        names = tuple(c.name for c in answers if c.name != exclusive)
        shares = tuple(0.12 + 0.33 * stable_unit(f"{item.name}:{n}") for n in names)
        return ItemPlan(
            item,
            "multiple",
            names,
            (),
            item.positive,
            missing,
            exclusive,
            shares=shares,
            anchor=anchor,
        )
    if item.type in ("integer", "decimal", "range"):
        low_m, high_m = _LOW.search(item.constraint), _HIGH.search(item.constraint)
        low = float(low_m.group(1)) if low_m else 0.0
        high = float(high_m.group(1)) if high_m else 10.0
        if item.type == "range":
            low, high = sorted((item.range_start, item.range_end))
        kind = "integer" if item.type == "integer" else "number"
        return ItemPlan(item, kind, low=low, high=high)
    if item.type in ("text", "date"):
        return ItemPlan(item, item.type)
    return ItemPlan(item, "none")


@dataclass
class Simulator:
    """Generates valid answers for batches of respondents of one instrument."""

    instrument: Instrument
    base: Mapping[str, float] = field(default_factory=lambda: DOMAIN_BASE)

    def __post_init__(self) -> None:
        self.plans = [
            _plan(item, self.base)
            for item in self.instrument.items
            if item.answerable and item.type != "calculate"
        ]

    def answers(
        self,
        rng: np.random.Generator,
        n: int,
        *,
        latent: Mapping[str, FloatArray],
        fixed: Mapping[str, Sequence[Any]] | None = None,
        texts: Mapping[str, TextSource] | None = None,
        skip_rate: float = 0.04,
        missing_rate: float = 0.02,
        breakoff_rate: float = 0.03,
    ) -> list[dict[str, Any]]:
        """Valid answers for ``n`` respondents.

        Parameters
        ----------
        latent
            Domain -> latent score per respondent (0 = average; a domain not given is 0).
        fixed
            Item name -> the answer per respondent (None = no answer), e.g. year group.
        texts
            Item name -> a text source for open questions; other text items are skipped.
        skip_rate
            Average chance that a respondent skips a question (varies by respondent).
        missing_rate
            Chance of a "prefer not to say" / "don't know" choice where the item has one.
        breakoff_rate
            Share of respondents who stop answering for the last quarter of the form.
        """
        fixed = fixed or {}
        texts = texts or {}
        zero = np.zeros(n)
        columns: dict[str, list[Any]] = {}
        # Each respondent skips at their own rate (mean skip_rate); a few stop early.
        propensity = rng.beta(1.2, 1.2 / skip_rate - 1.2, size=n) if skip_rate > 0 else zero
        stop_at = np.where(
            rng.random(n) < breakoff_rate,
            rng.uniform(0.75, 0.95, size=n) * len(self.plans),
            len(self.plans) + 1,
        )
        for position, plan in enumerate(self.plans):
            name = plan.item.name
            if name in fixed:
                columns[name] = list(fixed[name])
                continue
            eta = latent.get(plan.item.domain, zero)
            if plan.kind == "text":
                source = texts.get(name)
                columns[name] = source(rng, n) if source else [None] * n
                continue
            values = self._column(rng, plan, n, eta, missing_rate)
            if not plan.item.required:
                skipped = (rng.random(n) < propensity) | (position >= stop_at)
                values = [None if skip else v for v, skip in zip(values, skipped, strict=True)]
            columns[name] = values
        names = list(columns)
        rows = [{k: columns[k][i] for k in names} for i in range(n)]
        return [self.validated(row) for row in rows]

    def validated(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """``raw`` as stored: checked, relevance applied; answers that fail are dropped."""
        result = validate_answers(self.instrument, raw, strict_unknown=True)
        if result.ok:
            return result.answers
        bad = {e.item for e in result.errors}
        retry = validate_answers(
            self.instrument, {k: v for k, v in raw.items() if k not in bad}, strict_unknown=True
        )
        if not retry.ok:
            detail = "; ".join(f"{e.item}: {e.text()}" for e in retry.errors)
            raise ValueError(f"the demo could not make valid answers for {detail}")
        return retry.answers

    def _column(
        self,
        rng: np.random.Generator,
        plan: ItemPlan,
        n: int,
        eta: FloatArray,
        missing_rate: float,
    ) -> list[Any]:
        kind = plan.kind
        values: list[Any]
        if kind == "ordinal":
            cuts = np.asarray(plan.cuts)
            at_least = _sigmoid(eta[:, None] - cuts[None, :])
            index = (rng.random(n)[:, None] < at_least).sum(axis=1)
            values = [plan.order[i] for i in index]
        elif kind == "binary":
            p = _sigmoid(eta - plan.anchor)
            hit = rng.random(n) < p
            good = [c for c in plan.order if c in plan.positive] or list(plan.order)
            bad = [c for c in plan.order if c not in plan.positive] or list(plan.order)
            values = [
                good[int(rng.integers(len(good)))] if h else bad[int(rng.integers(len(bad)))]
                for h in hit
            ]
        elif kind == "categorical":
            shares = np.asarray(plan.shares)
            values = list(rng.choice(np.asarray(plan.order, dtype=object), size=n, p=shares))
        elif kind == "multiple":
            values = self._multiple(rng, plan, n, eta)
        elif kind == "integer":
            counts = np.clip(rng.poisson(1.6, size=n), plan.low, plan.high)
            values = [int(v) for v in counts]
        elif kind == "number":
            values = [float(v) for v in np.round(rng.uniform(plan.low, plan.high, size=n))]
        elif kind == "date":
            values = [None] * n
        else:
            values = [None] * n
        if plan.missing and missing_rate > 0:
            rate = missing_rate * (0.5 + stable_unit(plan.item.name))
            chosen = rng.random(n) < rate
            which = rng.integers(len(plan.missing), size=n)
            values = [
                plan.missing[w] if c else v for v, c, w in zip(values, chosen, which, strict=True)
            ]
        return values

    @staticmethod
    def _multiple(rng: np.random.Generator, plan: ItemPlan, n: int, eta: FloatArray) -> list[Any]:
        # First: the exclusive "none of these" (favourable when it is the positive answer,
        # as in "nothing has made it hard"); otherwise each choice is ticked on its own.
        if plan.exclusive and plan.exclusive in plan.positive:
            p_exclusive = _sigmoid(eta - plan.anchor)
        elif plan.exclusive:
            p_exclusive = _sigmoid(_logit(0.07) - 0.5 * eta)
        else:
            p_exclusive = np.zeros(n)
        exclusive = rng.random(n) < p_exclusive
        shares = np.asarray(plan.shares)
        sign = np.asarray([1.0 if c in plan.positive else 0.0 for c in plan.order])
        p = _sigmoid(np.log(shares / (1 - shares))[None, :] + sign[None, :] * eta[:, None])
        ticked = rng.random((n, len(plan.order))) < p
        fallback = rng.random(n)
        values: list[Any] = []
        for i, row in enumerate(ticked):
            if exclusive[i]:
                values.append([plan.exclusive])
                continue
            picked = [c for c, t in zip(plan.order, row, strict=True) if t]
            if not picked and plan.order:
                weights = p[i] / p[i].sum()
                picked = [plan.order[int(np.searchsorted(np.cumsum(weights), fallback[i]))]]
            values.append(picked or None)
        return values
