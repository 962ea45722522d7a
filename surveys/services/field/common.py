"""What the field-work modules share: channels, review actions and the error catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

__all__ = [
    "EXPORT_FORMAT",
    "FIELD_CHANNELS",
    "REVIEW_ACTIONS",
    "FieldError",
    "FieldMessage",
    "InterviewNotFound",
    "InvalidInterview",
    "NotAssigned",
]

#: Channels whose responses are reviewed before they count.
FIELD_CHANNELS = ("field", "odk")
#: What a reviewer can do to an interview.
REVIEW_ACTIONS = ("approve", "reject", "flag", "unflag")
#: The "format" key of an exported file of unsent interviews.
EXPORT_FORMAT = "placevoice-field-export"


class FieldMessage(Enum):
    """User-facing messages of field work."""

    NOT_FOUND = "there is no interview {id} that you can see"
    NOT_ASSIGNED = (
        "you are not assigned to interview in this area with this questionnaire for this wave;"
        " ask the core team to assign you"
    )
    WAVE_NOT_OPEN = "the wave '{name}' is {status}: it is not taking interviews"
    BAD_ID = "the interview id '{id}' is not a UUID"
    BAD_PAYLOAD = "the interview is missing '{key}'"
    INVALID_ANSWERS = "some answers are not valid: {detail}"
    NO_REASON = "give a reason for rejecting the interview"
    BAD_ACTION = "'{action}' is not a review action"
    BAD_FILE = "the file is not an export of unsent interviews: {detail}"
    NO_ODK_TARGET = "no open wave assigns you form '{form}' version '{version}'; ask the core team"

    def format(self, **values: object) -> str:
        """Fill the template."""
        return self.value.format(**values)


class FieldError(ValueError):
    """A field operation that cannot be carried out; the message says why."""

    def __init__(self, message: FieldMessage, **values: object) -> None:
        self.code = message
        self.values = values
        super().__init__(message.format(**values))


class InterviewNotFound(FieldError):
    """No such interview, or not the actor's to see (the two are not told apart)."""


class NotAssigned(FieldError):
    """The researcher has no assignment covering the wave, site and instrument."""


class InvalidInterview(FieldError):
    """The interview's answers do not validate against the instrument."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(FieldMessage.INVALID_ANSWERS, detail="; ".join(self.problems))
