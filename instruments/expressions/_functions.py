"""The XPath/ODK function library, with JavaRosa's semantics.

Each function is a :class:`Function`: its arity and a ``build`` step that receives the
compiled argument nodes and returns one evaluator.  Building happens at compile time, so
arity, literal regex patterns and ``selected()`` choice names are checked there.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Context, Decimal

from ._errors import Problem, ProblemError
from ._values import (
    EPOCH_ORDINAL,
    Value,
    epoch_days,
    from_answer,
    to_boolean,
    to_number,
    to_string,
)

__all__ = ["CURRENT", "FUNCTIONS", "Evaluator", "Function", "Node", "Scope"]


class Scope:
    """What one evaluation sees: the answers, the value of '.', and today's date."""

    __slots__ = ("current", "today", "values")

    def __init__(
        self, values: Mapping[str, object], current: object, today: datetime.date | None
    ) -> None:
        self.values = values
        self.current = current
        self.today = today


Evaluator = Callable[[Scope], Value]


@dataclass(frozen=True, slots=True)
class Node:
    """A compiled sub-expression; ``literal`` is set for string and number literals."""

    evaluate: Evaluator
    literal: Value | None = None


CURRENT = Node(lambda scope: from_answer(scope.current, "'.'"))

Builder = Callable[[Sequence[Node]], Evaluator]


@dataclass(frozen=True, slots=True)
class Function:
    """An XPath function: how many arguments it takes and how to build its evaluator."""

    min_args: int
    max_args: int | None
    build: Builder

    def arity(self) -> str:
        """'2 arguments', '1 or 2 arguments', 'at least 1 argument', 'no arguments'."""
        low, high = self.min_args, self.max_args
        if high is None:
            return f"at least {_arguments(low)}"
        if low == high:
            return _arguments(low) if low else "no arguments"
        if high == low + 1:
            return f"{low} or {_arguments(high)}"
        return f"{low} to {_arguments(high)}"


def _arguments(count: int) -> str:
    return f"{count} argument" if count == 1 else f"{count} arguments"


def _eager(implementation: Callable[..., Value], *, default_current: bool = False) -> Builder:
    """A builder for a function that evaluates all its arguments first.

    With ``default_current`` a call without arguments acts on '.', as XPath's
    ``string()`` and ``string-length()`` do.
    """

    def build(args: Sequence[Node]) -> Evaluator:
        if default_current and not args:
            args = (CURRENT,)
        evaluators = tuple(arg.evaluate for arg in args)
        if not evaluators:
            return lambda scope: implementation()
        if len(evaluators) == 1:
            (only,) = evaluators
            return lambda scope: implementation(only(scope))
        if len(evaluators) == 2:
            first, second = evaluators
            return lambda scope: implementation(first(scope), second(scope))
        return lambda scope: implementation(*[evaluate(scope) for evaluate in evaluators])

    return build


# --- logic ----------------------------------------------------------------------------


def _build_if(args: Sequence[Node]) -> Evaluator:
    condition, then, otherwise = (arg.evaluate for arg in args)
    return lambda scope: then(scope) if to_boolean(condition(scope)) else otherwise(scope)


def _build_coalesce(args: Sequence[Node]) -> Evaluator:
    first, second = (arg.evaluate for arg in args)

    def coalesce(scope: Scope) -> Value:
        value = first(scope)
        if value == "" or (isinstance(value, float) and math.isnan(value)):
            return second(scope)
        return value

    return coalesce


def _boolean_from_string(value: Value) -> bool:
    text = to_string(value)
    return text.lower() == "true" or text == "1"


# --- numbers --------------------------------------------------------------------------


_WIDE = Context(prec=400)  # enough digits to round any float to any of +-30 places


def _round(value: Value, places: Value = 0.0) -> float:
    """Round half away from zero to ``places`` decimals (negative: tens, hundreds...)."""
    number = to_number(value)
    digits = _java_int(to_number(places))
    if math.isnan(number) or math.isinf(number):
        return number
    if not -30 <= digits <= 30:
        return math.nan
    mode = ROUND_HALF_DOWN if number < 0 else ROUND_HALF_UP
    step = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(number)).quantize(step, rounding=mode, context=_WIDE))


def _int(value: Value) -> float:
    number = to_number(value)
    if math.isnan(number) or math.isinf(number):
        return number
    return float(math.trunc(number))


def _java_int(number: float) -> int:
    """Java's ``(int) double``: NaN is 0, out-of-range values saturate."""
    if math.isnan(number):
        return 0
    return int(max(-(2**31), min(2**31 - 1, number)))


def _pow(base: Value, exponent: Value) -> float:
    a, b = to_number(base), to_number(exponent)
    try:
        return math.pow(a, b)
    except OverflowError:
        negative = a < 0 and b == math.floor(b) and b % 2 == 1
        return -math.inf if negative else math.inf
    except ValueError:  # 0 ** negative is infinite, a root of a negative number is NaN
        return math.inf if a == 0 else math.nan


# --- strings --------------------------------------------------------------------------


def _substr(text: Value, start: Value, end: Value | None = None) -> str:
    """ODK's ``substr(s, start[, end])``: 0-based, end exclusive, negatives count back."""
    string = to_string(text)
    length = len(string)
    first = _java_int(to_number(start))
    last = length if end is None else _java_int(to_number(end))
    if first < 0:
        first += length
    if last < 0:
        last += length
    first = min(max(0, first), length)
    last = min(max(0, last), length)
    return string[first:last]


def _substring_before(text: Value, part: Value) -> str:
    string, sought = to_string(text), to_string(part)
    found = string.find(sought)
    return string[:found] if found >= 0 else ""


def _substring_after(text: Value, part: Value) -> str:
    string, sought = to_string(text), to_string(part)
    found = string.find(sought)
    return string[found + len(sought) :] if found >= 0 else ""


def _translate(text: Value, source: Value, target: Value) -> str:
    old, new = to_string(source), to_string(target)
    table: dict[int, int | None] = {}
    for index, char in enumerate(old):
        table.setdefault(ord(char), ord(new[index]) if index < len(new) else None)
    return to_string(text).translate(table)


def _build_regex(args: Sequence[Node]) -> Evaluator:
    """``regex(value, pattern)``: the whole value must match (Java ``Pattern.matches``)."""
    subject, pattern = args
    if isinstance(pattern.literal, str):
        compiled = _compile_pattern(pattern.literal)
        evaluate = subject.evaluate
        return lambda scope: compiled.fullmatch(to_string(evaluate(scope))) is not None
    evaluate_subject, evaluate_pattern = subject.evaluate, pattern.evaluate
    return lambda scope: (
        _compile_pattern(to_string(evaluate_pattern(scope))).fullmatch(
            to_string(evaluate_subject(scope))
        )
        is not None
    )


def _compile_pattern(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)  # re caches compiled patterns itself
    except re.error as error:
        raise ProblemError(Problem.BAD_REGEX, pattern=pattern, detail=error) from None


# --- selects --------------------------------------------------------------------------


def _selected_builder(name: str) -> Builder:
    def build(args: Sequence[Node]) -> Evaluator:
        choice = args[1].literal
        if isinstance(choice, float):
            raise ProblemError(
                Problem.SELECTED_NEEDS_QUOTES, function=name, value=to_string(choice)
            )
        return _eager(_selected)(args)

    return build


def _selected(answer: Value, choice: Value) -> bool:
    return f" {to_string(choice).strip()} " in f" {to_string(answer)} "


def _count_selected(answer: Value) -> float:
    return float(len(to_string(answer).split()))


def _selected_at(answer: Value, index: Value) -> str:
    choices = to_string(answer).split()
    position = _java_int(to_number(index))
    return choices[position] if 0 <= position < len(choices) else ""


# --- dates ----------------------------------------------------------------------------


_DATE = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})(?:T.*)?\s*\Z", re.DOTALL)


def _build_today(args: Sequence[Node]) -> Evaluator:
    return lambda scope: scope.today if scope.today is not None else datetime.date.today()


def _date(value: Value) -> Value:
    """``date()``: a 'YYYY-MM-DD' text or a number of days since 1970-01-01 as a date."""
    if isinstance(value, bool):
        raise ProblemError(Problem.CANNOT_BE_DATE, function="date", kind="true/false", value=value)
    if isinstance(value, float):
        if math.isnan(value):
            return value
        if math.isinf(value) or not -(2**31) <= value <= 2**31 - 1:
            raise ProblemError(Problem.DATE_OUT_OF_RANGE, function="date", value=value)
        try:
            return datetime.date.fromordinal(EPOCH_ORDINAL + math.trunc(value))
        except (ValueError, OverflowError):
            raise ProblemError(
                Problem.DATE_OUT_OF_RANGE, function="date", value=to_string(value)
            ) from None
    if isinstance(value, str):
        return "" if value == "" else _parse_date("date", value)
    if isinstance(value, datetime.datetime):
        return value.date()
    return value


def _parse_date(function: str, text: str) -> datetime.date:
    match = _DATE.match(text)
    if match:
        try:
            return datetime.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    raise ProblemError(Problem.NOT_A_DATE, function=function, value=text)


def _decimal_date_time(value: Value) -> Value:
    """``decimal-date-time()``: days since 1970-01-01T00:00 UTC, with a fraction for time."""
    if isinstance(value, bool):
        raise ProblemError(
            Problem.CANNOT_BE_DATE, function="decimal-date-time", kind="true/false", value=value
        )
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        if value == "":
            return value
        try:
            moment: datetime.date = datetime.datetime.fromisoformat(value.strip())
        except ValueError:
            moment = _parse_date("decimal-date-time", value)
        value = moment
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        fraction = (seconds + value.microsecond / 1e6) / 86400
        return epoch_days(value) + fraction
    return float(epoch_days(value))


# --- the library ----------------------------------------------------------------------


def _fixed(count: int, build: Builder) -> Function:
    return Function(count, count, build)


FUNCTIONS: dict[str, Function] = {
    # logic
    "true": _fixed(0, _eager(lambda: True)),
    "false": _fixed(0, _eager(lambda: False)),
    "not": _fixed(1, _eager(lambda value: not to_boolean(value))),
    "boolean": _fixed(1, _eager(to_boolean)),
    "boolean-from-string": _fixed(1, _eager(_boolean_from_string)),
    "if": _fixed(3, _build_if),
    "coalesce": _fixed(2, _build_coalesce),
    # numbers
    "number": Function(0, 1, _eager(to_number, default_current=True)),
    "int": _fixed(1, _eager(_int)),
    "round": Function(1, 2, _eager(_round)),
    "abs": _fixed(1, _eager(lambda value: abs(to_number(value)))),
    "pow": _fixed(2, _eager(_pow)),
    # strings
    "string": Function(0, 1, _eager(to_string, default_current=True)),
    "string-length": Function(
        0, 1, _eager(lambda value: float(len(to_string(value))), default_current=True)
    ),
    "normalize-space": Function(
        0, 1, _eager(lambda value: " ".join(to_string(value).split()), default_current=True)
    ),
    "concat": Function(0, None, _eager(lambda *values: "".join(map(to_string, values)))),
    "contains": _fixed(2, _eager(lambda text, part: to_string(part) in to_string(text))),
    "starts-with": _fixed(
        2, _eager(lambda text, part: to_string(text).startswith(to_string(part)))
    ),
    "ends-with": _fixed(2, _eager(lambda text, part: to_string(text).endswith(to_string(part)))),
    "substr": Function(2, 3, _eager(_substr)),
    "substring-before": _fixed(2, _eager(_substring_before)),
    "substring-after": _fixed(2, _eager(_substring_after)),
    "translate": _fixed(3, _eager(_translate)),
    "regex": _fixed(2, _build_regex),
    # selects
    "selected": _fixed(2, _selected_builder("selected")),
    "is-selected": _fixed(2, _selected_builder("is-selected")),
    "count-selected": _fixed(1, _eager(_count_selected)),
    "selected-at": _fixed(2, _eager(_selected_at)),
    # dates
    "today": _fixed(0, _build_today),
    "date": _fixed(1, _eager(_date)),
    "decimal-date-time": _fixed(1, _eager(_decimal_date_time)),
}
