"""The one catalogue of what can be wrong with an expression, and its internal error."""

from __future__ import annotations

from enum import Enum

__all__ = ["Problem", "ProblemError"]


class Problem(Enum):
    """What can be wrong with an expression; fill with :meth:`format`."""

    EMPTY = "is empty"
    TOO_DEEP = "is nested too deeply to evaluate"
    UNBALANCED_REFERENCE = "unbalanced ${{...}} at character {at}: '}}' is missing"
    EMPTY_REFERENCE = "empty ${{}} at character {at}: put a question name between the braces"
    BAD_REFERENCE = "${{{name}}} at character {at}: '{name}' is not a valid question name"
    DOLLAR_VARIABLE = "'${name}' at character {at}: refer to questions as ${{{name}}}, with braces"
    UNTERMINATED_STRING = "unterminated string starting at character {at}: add the closing {quote}"
    CURLY_QUOTE = "curly quote {char} at character {at}: use straight quotes ' or \" around text"
    UNEXPECTED_CHARACTER = "unexpected character '{char}' at character {at}"
    UNEXPECTED_SYMBOL = "unexpected {token} at character {at}"
    UNEXPECTED_END = "ends too early: something is missing after {after}"
    MISSING_CLOSE = "'(' at character {at} is never closed: add ')'"
    MISSING_ARGUMENT_SEPARATOR = (
        "expected ',' or ')' in the call to {function}() at character {at}, found '{token}'"
    )
    UNSUPPORTED_PATH = (
        "'{token}' at character {at}: only ${{name}}, '.' and plain names are supported;"
        " refer to questions as ${{name}}"
    )
    UNKNOWN_FUNCTION = "unknown function '{function}()'{hint}"
    ARITY = "{function}() takes {expected}, not {given}"
    SELECTED_NEEDS_QUOTES = (
        "the second argument of {function}() must be a choice name in quotes, like '{value}'"
    )
    BAD_REGEX = "regex(): pattern '{pattern}' is not a valid regular expression: {detail}"
    NOT_A_DATE = "{function}(): '{value}' is not a date (write dates as 'YYYY-MM-DD')"
    DATE_OUT_OF_RANGE = "{function}(): {value} is out of range for a date"
    CANNOT_BE_DATE = "{function}(): {kind} value {value} cannot be converted to a date"

    def format(self, **values: object) -> str:
        """Fill the template."""
        return self.value.format(**values)


class ProblemError(Exception):
    """A :class:`Problem` found while compiling or evaluating; the public functions turn
    it into an ``ExpressionError`` that quotes the expression."""

    def __init__(self, problem: Problem, **values: object) -> None:
        self.problem = problem
        super().__init__(problem.format(**values))
