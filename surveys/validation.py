"""Answer validation against an :class:`~instruments.Instrument`.

One service for every way answers arrive (question pages, CSV/XLSX import, the JSON API,
OpenRosa): raw values are parsed to their item's type, relevance is decided in form order
(a question hidden by relevance keeps no answer), calculations are computed, and
required-if-relevant and constraints are checked. Errors carry a code, the item and the
value, so each caller can phrase them for its user (a pupil's page, an import report).

Stored answer values are JSON-friendly: select_one/text -> str, select_multiple -> list of
choice names, integer -> int, decimal/range -> int or float, date -> ISO "YYYY-MM-DD".
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from instruments.expressions import ExpressionError, compile_expression
from instruments.model import Choice, Instrument, Item

__all__ = [
    "AnswerError",
    "Problem",
    "Validated",
    "available_choices",
    "expression_values",
    "parse_answer",
    "relevant_items",
    "validate_answers",
]

#: Longest free-text answer kept (characters).
MAX_TEXT = 4000


class Problem(Enum):
    """What can be wrong with one answer; the text is for staff-facing reports."""

    NOT_A_CHOICE = "'{value}' is not one of the choices ({choices})"
    ONE_CHOICE_ONLY = "only one answer can be chosen, got {count}"
    NOT_INTEGER = "'{value}' is not a whole number"
    NOT_NUMBER = "'{value}' is not a number"
    NOT_DATE = "'{value}' is not a date (use YYYY-MM-DD)"
    OUT_OF_RANGE = "{value} is outside {start}-{end}"
    OFF_STEP = "{value} is not a step of {step} from {start}"
    TOO_LONG = "the answer is longer than {limit} characters"
    REQUIRED = "an answer is required"
    CONSTRAINT = "{message}"
    NOT_RELEVANT = "answered although the question does not apply"
    UNKNOWN_ITEM = "'{item}' is not a question in this instrument"
    EXPRESSION = "the form's rule could not be checked: {detail}"


@dataclass(frozen=True)
class AnswerError:
    """One problem with one answer."""

    item: str
    problem: Problem
    value: object = None
    params: Mapping[str, object] = field(default_factory=dict)

    def text(self) -> str:
        """A staff-facing sentence, e.g. for an import report."""
        return self.problem.value.format(item=self.item, value=self.value, **self.params)


@dataclass(frozen=True)
class Validated:
    """The outcome: cleaned answers (relevant, typed, calculated) and any errors."""

    answers: dict[str, Any]
    errors: tuple[AnswerError, ...]

    @property
    def ok(self) -> bool:
        """Whether there were no errors."""
        return not self.errors

    def errors_for(self, item: str) -> tuple[AnswerError, ...]:
        """The errors about ``item``."""
        return tuple(e for e in self.errors if e.item == item)


class _Invalid(ValueError):
    def __init__(self, problem: Problem, value: object, **params: object) -> None:
        super().__init__(problem.name)
        self.problem = problem
        self.value = value
        self.params = params


def _blank(raw: object) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, float):
        return math.isnan(raw)
    if isinstance(raw, list | tuple):
        return all(_blank(r) for r in raw)
    return False


def parse_answer(item: Item, raw: object) -> Any:
    """Parse one raw value (form text, CSV cell, JSON value) into its stored form.

    Returns None for no answer. Raises :class:`ValueError` (an internal subclass carrying
    a :class:`Problem`) for a value the item cannot take; use :func:`validate_answers` to
    collect errors instead.
    """
    if _blank(raw):
        return None
    kind = item.type
    if kind in ("select_one", "select_multiple"):
        if isinstance(raw, str):
            names = raw.split()
        elif isinstance(raw, list | tuple):
            names = [str(r).strip() for r in raw if not _blank(r)]
        else:
            names = [str(raw)]
        allowed = item.choice_names
        for name in names:
            if name not in allowed:
                # One answer is the whole cell: "Fairly satisfied", not its first word.
                shown = raw.strip() if kind == "select_one" and isinstance(raw, str) else name
                raise _Invalid(Problem.NOT_A_CHOICE, shown, choices=", ".join(allowed))
        if kind == "select_one":
            if len(names) != 1:
                raise _Invalid(Problem.ONE_CHOICE_ONLY, raw, count=len(names))
            return names[0]
        seen: list[str] = []
        for name in names:
            if name not in seen:
                seen.append(name)
        return [n for n in allowed if n in seen]  # form order, no duplicates
    if kind == "integer":
        return _integer(raw)
    if kind in ("decimal", "range"):
        number = _number(raw)
        if kind == "range":
            _check_range(item, number, raw)
            if float(number).is_integer():
                return int(number)
        return number
    if kind == "date":
        return _date(raw).isoformat()
    if kind == "text":
        text = str(raw).strip()
        if len(text) > MAX_TEXT:
            raise _Invalid(Problem.TOO_LONG, text[:40] + "...", limit=MAX_TEXT)
        return text
    return None  # notes and calculations take no answer


def _integer(raw: object) -> int:
    if isinstance(raw, bool):
        raise _Invalid(Problem.NOT_INTEGER, raw)
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    text = str(raw).strip()
    try:
        return int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            raise _Invalid(Problem.NOT_INTEGER, raw) from None
        if number.is_integer() and math.isfinite(number):
            return int(number)
        raise _Invalid(Problem.NOT_INTEGER, raw) from None


def _number(raw: object) -> float:
    if isinstance(raw, bool):
        raise _Invalid(Problem.NOT_NUMBER, raw)
    try:
        number = float(str(raw).strip().replace(",", ".")) if isinstance(raw, str) else float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _Invalid(Problem.NOT_NUMBER, raw) from None
    if not math.isfinite(number):
        raise _Invalid(Problem.NOT_NUMBER, raw)
    return number


def _check_range(item: Item, number: float, raw: object) -> None:
    low, high = sorted((item.range_start, item.range_end))
    if not low <= number <= high:
        raise _Invalid(Problem.OUT_OF_RANGE, raw, start=_fmt(low), end=_fmt(high))
    steps = (number - item.range_start) / item.range_step
    if abs(steps - round(steps)) > 1e-9:
        raise _Invalid(
            Problem.OFF_STEP, raw, step=_fmt(item.range_step), start=_fmt(item.range_start)
        )


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _date(raw: object) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = str(raw).strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise _Invalid(Problem.NOT_DATE, raw) from None


def available_choices(
    instrument: Instrument,
    item: Item,
    answers: Mapping[str, Any],
    *,
    today: dt.date | None = None,
) -> tuple[Choice, ...]:
    """The choices ``item`` offers given the other answers (its ``choice_filter``).

    The filter is evaluated once per choice with the choice's columns (``name``, ``label``
    and any extra column of the choices sheet) as the current node, as ODK Collect does.
    """
    if not item.choice_filter:
        return item.choices
    expression = compile_expression(item.choice_filter)
    values = expression_values(instrument, answers)
    language = instrument.default_language
    return tuple(
        choice
        for choice in item.choices
        if expression.is_true(
            values,
            current={"name": choice.name, "label": choice.label(language), **choice.attributes},
            today=today,
        )
    )


def expression_values(instrument: Instrument, answers: Mapping[str, Any]) -> dict[str, object]:
    """Stored answers as the expression engine takes them (tuples, dates)."""
    values: dict[str, object] = {}
    for name, value in answers.items():
        if not instrument.has_item(name) or value is None:
            continue
        item = instrument.item(name)
        if item.type == "select_multiple" and isinstance(value, list | tuple):
            values[name] = tuple(value)
        elif item.type == "date" and isinstance(value, str):
            try:
                values[name] = dt.date.fromisoformat(value)
            except ValueError:
                values[name] = value
        else:
            values[name] = value
    return values


def _is_relevant(
    expression: str,
    values: Mapping[str, object],
    today: dt.date | None,
) -> bool:
    if not expression:
        return True
    return compile_expression(expression).is_true(values, today=today)


def _rules(instrument: Instrument) -> tuple[bool, bool]:
    """Whether the form has relevance rules, and other expressions (cached on it)."""
    cached: tuple[bool, bool] | None = instrument.__dict__.get("_validation_rules")
    if cached is None:
        relevance = any(g.relevant for g in instrument.groups) or any(
            i.relevant for i in instrument.items
        )
        other = any(i.calculation or i.constraint or i.choice_filter for i in instrument.items)
        cached = instrument.__dict__["_validation_rules"] = (relevance, other)
    return cached


def relevant_items(
    instrument: Instrument,
    answers: Mapping[str, Any],
    *,
    today: dt.date | None = None,
) -> dict[str, bool]:
    """Which items apply, given ``answers`` (group relevance included), in form order."""
    if not _rules(instrument)[0]:
        return dict.fromkeys((item.name for item in instrument.items), True)
    values = expression_values(instrument, answers)
    hidden: set[str] = set()  # groups not shown (their parents' first)
    for group in instrument.groups:
        if not hidden.isdisjoint(group.parents) or not _is_relevant(group.relevant, values, today):
            hidden.add(group.name)
    result: dict[str, bool] = {}
    for item in instrument.items:
        shown = hidden.isdisjoint(item.groups) and _is_relevant(item.relevant, values, today)
        result[item.name] = shown
        if not shown:
            values.pop(item.name, None)
    return result


def validate_answers(
    instrument: Instrument,
    raw: Mapping[str, object],
    *,
    existing: Mapping[str, Any] | None = None,
    only: Iterable[str] | None = None,
    check_required: bool = True,
    strict_unknown: bool = False,
    today: dt.date | None = None,
) -> Validated:
    """Parse and check ``raw`` answers against ``instrument``.

    Parameters
    ----------
    raw
        Item name -> raw value, for the items being answered now.
    existing
        Answers already stored (earlier pages); ``raw`` overrides them.
    only
        Check required/constraints just for these items (one page); other answers are
        still used for relevance and kept.
    check_required
        False while saving a page the respondent may come back to.
    strict_unknown
        Report names in ``raw`` that are not items (imports and the API); pages ignore them.
    """
    errors: list[AnswerError] = []
    unparsed: set[str] = set()
    merged: dict[str, Any] = dict(existing or {})
    for name, value in raw.items():
        if not instrument.has_item(name):
            if strict_unknown:
                errors.append(AnswerError(name, Problem.UNKNOWN_ITEM, value, {}))
            continue
        item = instrument.item(name)
        if not item.answerable:
            continue
        try:
            merged[name] = parse_answer(item, value)
        except _Invalid as bad:
            errors.append(AnswerError(name, bad.problem, bad.value, bad.params))
            merged.pop(name, None)
            unparsed.add(name)
    checked = set(only) if only is not None else None
    # A form without calculations, constraints or choice filters needs no expression values.
    values = expression_values(instrument, merged) if _rules(instrument)[1] else {}
    relevance = relevant_items(instrument, merged, today=today)
    for item in instrument.items:
        name = item.name
        if not relevance[name]:
            merged.pop(name, None)
            values.pop(name, None)
            continue
        if item.type == "calculate" and item.calculation:
            try:
                result = compile_expression(item.calculation).evaluate(values, today=today)
            except ExpressionError as err:
                errors.append(AnswerError(name, Problem.EXPRESSION, None, {"detail": str(err)}))
                continue
            merged[name] = _calculated(result)
            values[name] = merged[name]
            continue
        if not item.answerable or name in unparsed:
            continue
        if checked is not None and name not in checked:
            continue
        value = merged.get(name)
        if value is None:
            merged.pop(name, None)
            if check_required and item.required:
                errors.append(AnswerError(name, Problem.REQUIRED, None, {}))
            continue
        if item.choice_filter:
            offered = {c.name for c in available_choices(instrument, item, merged, today=today)}
            chosen = value if isinstance(value, list) else [value]
            refused = [str(v) for v in chosen if v not in offered]
            if refused:
                errors.append(
                    AnswerError(
                        name,
                        Problem.NOT_A_CHOICE,
                        refused[0],
                        {"choices": ", ".join(sorted(offered)) or "none for these answers"},
                    )
                )
                continue
        if item.constraint:
            current = values.get(name)
            try:
                passed = compile_expression(item.constraint).is_true(
                    values, current=current, today=today
                )
            except ExpressionError as err:
                errors.append(AnswerError(name, Problem.EXPRESSION, value, {"detail": str(err)}))
                continue
            if not passed:
                message = item.constraint_messages.get(instrument.default_language) or next(
                    iter(item.constraint_messages.values()), "the answer is not allowed"
                )
                errors.append(AnswerError(name, Problem.CONSTRAINT, value, {"message": message}))
    return Validated(answers=merged, errors=tuple(errors))


def _calculated(result: object) -> Any:
    if isinstance(result, bool | int | str):
        return result
    if isinstance(result, float):
        if not math.isfinite(result):
            return None
        return int(result) if result.is_integer() else result
    if isinstance(result, dt.date):
        return result.isoformat()
    if isinstance(result, Sequence):
        return " ".join(str(r) for r in result)
    return None if result is None else str(result)
