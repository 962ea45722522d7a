"""User-facing messages for instrument problems, in one catalogue.

Every problem a person can fix in their spreadsheet is raised as an
:class:`InstrumentError` whose text names the sheet row (as the spreadsheet shows it)
and says what to change.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["InstrumentError", "Message"]


class Message(Enum):
    """Templates for instrument errors; fill with :meth:`format`."""

    UNREADABLE = "{source}: could not read the XLSForm: {detail}"
    PYXFORM = "{source}: {detail}"
    UNSUPPORTED_TYPE = (
        "{source}: survey row {row}: question type '{type}' (name '{name}') is not supported"
        " by placevoice: {why}"
    )
    NO_FORM_ID = "{source}: the settings sheet needs a form_id (the instrument's id)"
    BAD_FORM_ID = (
        "{source}: settings form_id '{form_id}' must start with a letter and use only"
        " letters, digits, '_', '-' and '.' (no spaces), at most 80 characters"
    )
    UNKNOWN_POSITIVE = (
        "{source}: survey row {row}: 'positive' names choice '{choice}', which is not in"
        " choice list '{list_name}' of question '{name}'"
    )
    POSITIVE_NOT_SELECT = (
        "{source}: survey row {row}: 'positive' is only for select questions, but '{name}'"
        " is a {type}"
    )
    BAD_SCORE = (
        "{source}: choices row {row}: score '{value}' of choice '{choice}' in list"
        " '{list_name}' is not a number"
    )
    BAD_FLAG = "{source}: survey row {row}: column '{column}' must be yes or no, not '{value}'"
    BAD_EXPRESSION = "{source}: survey row {row}: {column} of '{name}': {detail}"
    UNKNOWN_REFERENCE = (
        "{source}: survey row {row}: {column} of '{name}' refers to ${{{ref}}}, which is not"
        " a question in this form"
    )
    BAD_SGIC = (
        "{source}: survey row {row}: 'sgic' of '{name}' must be a whole number from 1 (its"
        " place in the identification code), not '{value}'"
    )
    SGIC_TYPE = (
        "{source}: survey row {row}: '{name}' is a code part ('sgic'), so it must be a text,"
        " integer or select_one question that is not required, not a{required} {type}"
    )
    SGIC_DUPLICATE = (
        "{source}: survey row {row}: 'sgic' {value} of '{name}' is already the place of"
        " '{other}'; give each code part its own place"
    )
    BAD_RANGE = "{source}: survey row {row}: range '{name}' has bad parameters: {detail}"

    def format(self, **values: object) -> str:
        """Fill the template."""
        return self.value.format(**values)


class InstrumentError(ValueError):
    """An XLSForm that cannot be used, with a message that says what and where."""

    def __init__(self, message: Message, **values: object) -> None:
        self.code = message
        self.row = values.get("row")
        super().__init__(message.format(**values))
