"""User-facing messages for analysis problems, in one catalogue.

Every problem with the data or the settings handed to :mod:`analysis` is raised as an
:class:`AnalysisError` (a :class:`ValueError`) whose text says what is wrong and where.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["AnalysisError", "Message"]


class Message(Enum):
    """Templates for analysis errors; fill with :meth:`format`."""

    MISSING_COLUMN = "{frame} has no column '{column}'"
    MISSING_SITE = "{count} response(s) have no site; every response must belong to a site"
    RESERVED_SITE = "site id '{site}' is reserved for whole-wave rows; rename the site"
    BAD_LEVEL = "level must be 'school' or 'area', not '{level}'"
    BAD_K = "the suppression threshold k must be a whole number of at least 5, not {k}"
    BAD_KIND = "item '{item}': kind '{kind}' cannot be {why}"
    POSITIVE_AND_MISSING = "item '{item}': choice(s) {choices} are both positive and missing"
    BAD_NUMERIC_RULE = (
        "item '{item}': '{rule}' is not a number or a comparison such as '>=7' or '<3'"
    )
    NO_SCORE_RANGE = (
        "item '{item}' is reverse-scored, so its scores must give at least two values"
        " (the smallest and largest score)"
    )
    UNKNOWN_ITEM = "scale '{scale}' lists item '{item}', which is not among the items given"
    BAD_SCALE = "scale '{scale}': {why}"
    BAD_MARGINS = "population margins: {why}"
    EMPTY_MARGIN_CELL = (
        "population margins: nobody in {group} has {variable} = '{category}', so the"
        " weights cannot match that margin; merge it with a neighbouring category"
    )
    BAD_WEIGHTS = "weights in column '{column}': {why}"
    BAD_CAP = "the weight cap must be more than 1 (weights have mean 1), not {cap}"
    BAD_KAPPA_INPUT = "Cohen's kappa: {why}"
    BAD_TABLE = "{why}"

    def format(self, **values: object) -> str:
        """Fill the template.

        Examples
        --------
        >>> Message.BAD_K.format(k=3)
        'the suppression threshold k must be a whole number of at least 5, not 3'
        """
        return self.value.format(**values)


class AnalysisError(ValueError):
    """Data or settings the analysis cannot use, with a message that says why.

    Examples
    --------
    >>> try:
    ...     raise AnalysisError(Message.BAD_LEVEL, level="county")
    ... except ValueError as err:
    ...     print(err)
    level must be 'school' or 'area', not 'county'
    """

    def __init__(self, message: Message, **values: object) -> None:
        self.code = message
        super().__init__(message.format(**values))
