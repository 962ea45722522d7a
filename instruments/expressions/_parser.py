"""Tokenizer and Pratt parser: XLSForm expression text in, one evaluator closure out.

Precedence, loosest first, as in XPath 1.0: ``or``; ``and``; ``=`` ``!=``; ``<`` ``<=``
``>`` ``>=``; ``+`` ``-``; ``*`` ``div`` ``mod``; unary ``-``.  All binary operators are
left-associative.  ``and``/``or``/``div``/``mod`` are operators only where an operator
can stand (after an operand); elsewhere they are names, as XPath's lexical rules say.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from typing import NamedTuple

from ._errors import Problem, ProblemError
from ._functions import CURRENT, FUNCTIONS, Evaluator, Node, Scope
from ._values import Value, equals, from_answer, to_boolean, to_number

__all__ = ["parse"]


class _Token(NamedTuple):
    kind: str  # "ref", "number", "string", "name", "op" or "end"
    text: str  # for "ref", the question name; for "string", the text inside the quotes
    at: int  # 1-based character position in the source


_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<ref>\$\{)
    | (?P<number>\d+(?:\.\d*)?|\.\d+)
    | (?P<string>'[^']*'|"[^"]*")
    | (?P<op>!=|<=|>=|\.\.|[=<>+\-*(),./|\[\]@])
    | (?P<name>[^\W\d][\w.\-]*(?::[^\W\d][\w.\-]*)?)
    """,
    re.VERBOSE,
)
_QUESTION_NAME = re.compile(r"[^\W\d][\w.\-]*\Z")
_CURLY_QUOTES = "‘’‚‛“”„‟"  # what spreadsheets' autocorrect puts in for ' and "


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise _bad_character(source, position)
        kind = match.lastgroup or ""
        if kind == "ref":
            close = source.find("}", match.end())
            if close < 0 or "${" in source[match.end() : close]:
                raise ProblemError(Problem.UNBALANCED_REFERENCE, at=position + 1)
            name = source[match.end() : close].strip()
            if not name:
                raise ProblemError(Problem.EMPTY_REFERENCE, at=position + 1)
            if not _QUESTION_NAME.match(name):
                raise ProblemError(Problem.BAD_REFERENCE, name=name, at=position + 1)
            tokens.append(_Token("ref", name, position + 1))
            position = close + 1
            continue
        if kind == "string":
            tokens.append(_Token("string", match.group()[1:-1], position + 1))
        elif kind != "space":
            tokens.append(_Token(kind, match.group(), position + 1))
        position = match.end()
    tokens.append(_Token("end", "", len(source) + 1))
    return tokens


def _bad_character(source: str, position: int) -> ProblemError:
    char = source[position]
    at = position + 1
    if char in "'\"":
        return ProblemError(Problem.UNTERMINATED_STRING, at=at, quote=char)
    if char in _CURLY_QUOTES:
        return ProblemError(Problem.CURLY_QUOTE, char=char, at=at)
    if char == "$":
        name = re.match(r"[\w.\-]*", source[position + 1 :])
        return ProblemError(Problem.DOLLAR_VARIABLE, name=name[0] if name else "", at=at)
    return ProblemError(Problem.UNEXPECTED_CHARACTER, char=char, at=at)


_WORD_OPERATORS = {"or": 1, "and": 2, "div": 6, "mod": 6}
_SYMBOL_OPERATORS = {"=": 3, "!=": 3, "<": 4, "<=": 4, ">": 4, ">=": 4, "+": 5, "-": 5, "*": 6}
_UNARY_MINUS = 7
_PATH_SYMBOLS = frozenset({"/", "..", "[", "|", "@"})


def _divide(a: float, b: float) -> float:
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _modulo(a: float, b: float) -> float:
    try:
        return math.fmod(a, b)  # the sign of the dividend, as in Java and XPath
    except ValueError:  # x mod 0, infinity mod x
        return math.nan


def _binary(operator: str, left: Evaluator, right: Evaluator) -> Evaluator:
    """The evaluator for ``left operator right``."""
    if operator == "or":
        return lambda s: to_boolean(left(s)) or to_boolean(right(s))
    if operator == "and":
        return lambda s: to_boolean(left(s)) and to_boolean(right(s))
    if operator == "=":
        return lambda s: equals(left(s), right(s))
    if operator == "!=":
        return lambda s: not equals(left(s), right(s))
    if operator == "<":
        return lambda s: to_number(left(s)) < to_number(right(s))
    if operator == "<=":
        return lambda s: to_number(left(s)) <= to_number(right(s))
    if operator == ">":
        return lambda s: to_number(left(s)) > to_number(right(s))
    if operator == ">=":
        return lambda s: to_number(left(s)) >= to_number(right(s))
    if operator == "+":
        return lambda s: to_number(left(s)) + to_number(right(s))
    if operator == "-":
        return lambda s: to_number(left(s)) - to_number(right(s))
    if operator == "*":
        return lambda s: to_number(left(s)) * to_number(right(s))
    if operator == "div":
        return lambda s: _divide(to_number(left(s)), to_number(right(s)))
    return lambda s: _modulo(to_number(left(s)), to_number(right(s)))


def _reference(name: str) -> Evaluator:
    label = f"${{{name}}}"

    def lookup(scope: Scope) -> Value:
        value = scope.values.get(name)
        return value if isinstance(value, str) else from_answer(value, label)

    return lookup


def _child(name: str) -> Evaluator:
    """A plain ``name``: the child of '.', i.e. a column of the choice row in choice_filter."""

    def lookup(scope: Scope) -> Value:
        current = scope.current
        if isinstance(current, Mapping):
            return from_answer(current.get(name), name)
        return ""

    return lookup


def _constant(value: Value) -> Callable[[Scope], Value]:
    return lambda scope: value


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokenize(source)
        self.index = 0
        self.references: set[str] = set()

    def parse(self) -> Evaluator:
        if self.tokens[0].kind == "end":
            raise ProblemError(Problem.EMPTY)
        node = self.expression(0)
        if self.peek().kind != "end":
            raise self.unexpected(self.peek())
        return node.evaluate

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def binding_power(self, token: _Token) -> int:
        if token.kind == "op":
            return _SYMBOL_OPERATORS.get(token.text, 0)
        if token.kind == "name":
            return _WORD_OPERATORS.get(token.text, 0)
        return 0

    def expression(self, right_binding_power: int) -> Node:
        left = self.operand(self.advance())
        while right_binding_power < self.binding_power(self.peek()):
            operator = self.advance()
            right = self.expression(self.binding_power(operator))
            left = Node(_binary(operator.text, left.evaluate, right.evaluate))
        return left

    def operand(self, token: _Token) -> Node:
        kind, text = token.kind, token.text
        if kind == "number":
            number = float(text)
            return Node(_constant(number), literal=number)
        if kind == "string":
            return Node(_constant(text), literal=text)
        if kind == "ref":
            self.references.add(text)
            return Node(_reference(text))
        if kind == "name":
            if _is_op(self.peek(), "("):
                return self.call(token)
            return Node(_child(text))
        if text == "(":
            inner = self.expression(0)
            self.expect_close(token)
            return inner
        if text == "-":
            operand = self.expression(_UNARY_MINUS).evaluate
            return Node(lambda s: -to_number(operand(s)))
        if text == ".":
            if _is_op(self.peek(), "/") and self.tokens[self.index + 1].kind == "name":
                self.advance()
                return Node(_child(self.advance().text))
            return CURRENT
        raise self.unexpected(token)

    def call(self, name: _Token) -> Node:
        opening = self.advance()
        args: list[Node] = []
        if not _is_op(self.peek(), ")"):
            while True:
                args.append(self.expression(0))
                separator = self.peek()
                if _is_op(separator, ","):
                    self.advance()
                    continue
                if _is_op(separator, ")"):
                    break
                if separator.kind == "end":
                    raise ProblemError(Problem.MISSING_CLOSE, at=opening.at)
                raise ProblemError(
                    Problem.MISSING_ARGUMENT_SEPARATOR,
                    function=name.text,
                    at=separator.at,
                    token=separator.text,
                )
        self.advance()
        function = FUNCTIONS.get(name.text)
        if function is None:
            close = difflib.get_close_matches(name.text, FUNCTIONS, n=1, cutoff=0.75)
            hint = f" (did you mean '{close[0]}()'?)" if close else ""
            raise ProblemError(Problem.UNKNOWN_FUNCTION, function=name.text, hint=hint)
        too_many = function.max_args is not None and len(args) > function.max_args
        if len(args) < function.min_args or too_many:
            raise ProblemError(
                Problem.ARITY, function=name.text, expected=function.arity(), given=len(args)
            )
        return Node(function.build(args))

    def expect_close(self, opening: _Token) -> None:
        token = self.peek()
        if _is_op(token, ")"):
            self.advance()
            return
        if token.kind == "end":
            raise ProblemError(Problem.MISSING_CLOSE, at=opening.at)
        raise self.unexpected(token)

    def unexpected(self, token: _Token) -> ProblemError:
        if token.kind == "end":
            previous = self.tokens[self.index - 2] if self.index >= 2 else token
            return ProblemError(Problem.UNEXPECTED_END, after=_shown(previous))
        if token.kind == "op" and token.text in _PATH_SYMBOLS:
            return ProblemError(Problem.UNSUPPORTED_PATH, token=token.text, at=token.at)
        return ProblemError(Problem.UNEXPECTED_SYMBOL, token=_shown(token), at=token.at)


def _is_op(token: _Token, symbol: str) -> bool:
    return token.kind == "op" and token.text == symbol


def _shown(token: _Token) -> str:
    """The token as it was written."""
    if token.kind == "ref":
        return f"${{{token.text}}}"
    return f"'{token.text}'"


def parse(source: str) -> tuple[Evaluator, frozenset[str]]:
    """Compile ``source`` to an evaluator and the question names it refers to.

    Raises :class:`ProblemError` saying what is wrong.
    """
    parser = _Parser(source)
    try:
        evaluate = parser.parse()
    except RecursionError:
        raise ProblemError(Problem.TOO_DEEP) from None
    return evaluate, frozenset(parser.references)
