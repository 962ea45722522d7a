"""Evaluate XLSForm/ODK expressions on the server, the way ODK Collect does.

The ``relevant``, ``constraint``, ``calculation`` and ``choice_filter`` columns of an
XLSForm hold XPath 1.0 expressions with ODK's additions (``${name}`` references,
``selected()``, ``if()``, ``today()``, dates...).  The server uses them to decide what a
page shows and to validate what is submitted, so it must agree with the clients.

>>> rule = compile_expression("${age} >= 11 and selected(${likes}, 'football')")
>>> sorted(rule.references)
['age', 'likes']
>>> rule.is_true({"age": 12, "likes": ("football", "music")})
True
>>> compile_expression("${age} + 1").evaluate({"age": None})
nan

Semantics follow JavaRosa, the engine inside ODK Collect (``XPathFuncExpr``,
``XPathEqExpr``, ``XPathCmpExpr``):

* Values are booleans, numbers (``float``), strings and dates.  Answers convert as
  ``None`` -> ``''``, ``int`` -> ``float``, a select_multiple tuple -> its
  space-separated choice names; a ``${name}`` missing from ``values`` is ``''``.
* ``=``/``!=`` compare as booleans if either side is one, else as numbers if either
  side is a number, else as strings (a date equals its ``'YYYY-MM-DD'`` text).
  ``<``, ``<=``, ``>``, ``>=`` always compare numbers: ``''`` and other non-numeric text
  are NaN, so ``'' > 3`` and ``'' < 3`` are both false; a date is its days since
  1970-01-01, so ``. <= today()`` works, while ``. <= '2020-01-01'`` is false in Collect
  too (write ``date('2020-01-01')``).
* Text becomes a number only if it holds digits, '-' and '.' (',' counts as '.').
* ``substr(s, start, end)`` is ODK's 0-based, end-exclusive one; ``round()`` rounds half
  away from zero; ``regex()`` must match the whole value.
* A plain name such as ``state`` is the child ``state`` of '.': when ``current`` is a
  mapping (a choice row, for ``choice_filter``) it is that row's column, else ``''``.

Differences from Collect, all at the edges: ``regex()`` uses Python's ``re`` (the same
for the usual ``^[0-9]{5}$`` patterns, but no ``\\p{...}`` classes); numbers print
without exponents (``0.00001``, Collect writes ``1.0E-5``); ``string-length()`` counts
code points, not UTF-16 units.  Paths other than ``.``, ``./name`` and ``name``
(``/data/x``, ``..``, predicates), ``$variables``, and functions that need a node-set,
the clock or randomness (``count()``, ``sum()``, ``now()``, ``once()``, ``random()``,
``jr:choice-name()``...) are rejected at compile time with a message.

Why not elementpath: its XPath 1.0 parser follows XPath 2's typed comparisons, so
``'' > 3`` raises FORG0001 instead of being false, ``'5' = 5`` is false, ``string(1 div
3)`` gives 28 digits, and dates cannot be variables; bending all that back to ODK meant
overriding most operators, and its per-evaluation context setup (~15-20 µs for
``$a >= 11``) is slower than this whole evaluator.  So this package is a small Pratt
parser (``_parser``) that compiles each expression once into Python closures.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

from ._errors import Problem, ProblemError
from ._functions import FUNCTIONS, Evaluator, Scope
from ._parser import parse
from ._values import as_string, to_boolean

__all__ = [
    "FUNCTION_NAMES",
    "Expression",
    "ExpressionError",
    "as_string",
    "compile_expression",
]

#: The functions expressions may call.
FUNCTION_NAMES: frozenset[str] = frozenset(FUNCTIONS)


class ExpressionError(ValueError):
    """An expression that cannot be compiled or evaluated.

    The message quotes the expression and says what is wrong, for example
    ``expression '${age > 3': unbalanced ${...} at character 1: '}' is missing``.
    """

    def __init__(self, source: str, detail: str) -> None:
        self.source = source
        self.detail = detail
        super().__init__(f"expression '{source}': {detail}")

    def __reduce__(self) -> tuple[type[ExpressionError], tuple[str, str]]:
        # keeps the error intact when it crosses a process boundary (``--jobs``)
        return (type(self), (self.source, self.detail))


@dataclass(frozen=True)
class Expression:
    """A compiled expression; make one with :func:`compile_expression`."""

    #: The original text, e.g. ``"${age} >= 11 and selected(${likes}, 'football')"``.
    source: str
    #: The item names referred to as ``${name}``.
    references: frozenset[str]
    _evaluate: Evaluator = field(repr=False, compare=False)

    def evaluate(
        self,
        values: Mapping[str, object],
        *,
        current: object = None,
        today: datetime.date | None = None,
    ) -> object:
        """The expression's value: ``bool``, ``float``, ``str`` or ``datetime.date``.

        ``values`` maps item names to answers, ``current`` is the value of '.' (the
        question being constrained, or a choice row for ``choice_filter``), ``today``
        fixes ``today()`` (default: the server's date).  Raises :class:`ExpressionError`
        when a value cannot be converted as the expression needs (``date('soon')``).
        Use :func:`as_string` for the text ODK would store for a calculation.
        """
        try:
            return self._evaluate(Scope(values, current, today))
        except ProblemError as error:
            raise ExpressionError(self.source, str(error)) from None
        except RecursionError:  # thousands of chained operators
            raise ExpressionError(self.source, Problem.TOO_DEEP.format()) from None

    def is_true(
        self,
        values: Mapping[str, object],
        *,
        current: object = None,
        today: datetime.date | None = None,
    ) -> bool:
        """XPath ``boolean()`` of the value: for ``relevant`` and ``constraint``."""
        try:
            return to_boolean(self._evaluate(Scope(values, current, today)))
        except ProblemError as error:
            raise ExpressionError(self.source, str(error)) from None
        except RecursionError:
            raise ExpressionError(self.source, Problem.TOO_DEEP.format()) from None


@functools.lru_cache(maxsize=4096)
def compile_expression(source: str) -> Expression:
    """Compile an XLSForm expression once (results are cached by text).

    Raises :class:`ExpressionError` naming what is wrong: a syntax error, an unknown
    function, a wrong number of arguments, a bad literal ``regex()`` pattern.
    """
    try:
        evaluate, references = parse(source)
    except ProblemError as error:
        raise ExpressionError(source, str(error)) from None
    return Expression(source, references, evaluate)
