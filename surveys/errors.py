"""User-facing errors raised by services, in one catalogue."""

from __future__ import annotations

from enum import Enum

__all__ = ["Conflict", "NotFound", "RowErrors", "ServiceError", "ServiceMessage"]


class ServiceMessage(Enum):
    """Templates for service errors."""

    NO_COMMUNITY = "there is no community yet: run 'placevoice init' or 'placevoice demo'"
    SEVERAL_COMMUNITIES = (
        "this database holds {count} communities ({slugs}): say which with --community SLUG"
    )
    NO_SUCH_COMMUNITY = "there is no community '{slug}' (there are: {slugs})"
    COMMUNITY_EXISTS = "a community '{slug}' already exists"
    BAD_SLUG = (
        "'{slug}' is not a community slug: use lower-case letters, digits and hyphens"
        " (up to 60), such as 'pembury'"
    )
    NO_WAVE = "there is no wave called '{name}'"
    WAVE_EXISTS = "a wave called '{name}' already exists"
    NO_INSTRUMENT = (
        "there is no instrument '{id}'; import it first ('placevoice instruments import')"
    )
    INSTRUMENT_CHANGED = (
        "instrument '{id}' version '{version}' is already stored with different content;"
        " give the changed form a new version in its settings sheet"
    )
    INSTRUMENT_OWNED = (
        "the instrument id '{id}' is used by another community; give your form another"
        " form_id in its settings sheet"
    )
    NO_SITE = "there is no site '{site}'"
    SITE_KIND = "site '{site}' is a {kind}, not a {wanted}"
    CSV_HEADER = "{source}: row 1: missing column(s) {columns}"
    CSV_ROW = "{source}: row {row}, column {column}: {detail}"
    CSV_EMPTY = "{source}: the file has no data rows"
    CSV_UNREADABLE = "{source}: cannot read the file: {detail}"
    RESPONSE_CONFLICT = (
        "response {id} was already received with different answers; nothing was changed"
    )
    RESPONSE_LOCKED = "response {id} is already {status} and cannot be changed"
    BAD_CODE = "that code was not recognised; check it with your teacher"
    BAD_K = "the suppression threshold k must be a whole number from 5 to 30 (got {k})"
    BAD_PACK_MIN = (
        "the pack minimum must be a whole number of responses no smaller than the"
        " suppression threshold k = {k} (got {value})"
    )
    EMAIL_TAKEN = "there is already an account for {email}"
    BAD_ROLE = "'{role}' is not a role (use one of: {roles})"
    NO_RESPONSE = "there is no response '{id}'"
    NO_CLASS = "school '{site}' has no class '{name}'"
    CORRECTION = "{detail}"
    PANEL_COMMUNITIES = "waves '{wave}' and '{previous}' belong to different communities"
    PANEL_SAME = "wave '{wave}' cannot be linked to itself: give its previous wave"
    PANEL_SHAPE = "waves '{previous}' and '{wave}' cannot be linked: {detail}"

    def format(self, **values: object) -> str:
        """Fill the template."""
        return self.value.format(**values)


class ServiceError(ValueError):
    """A request the service cannot carry out, with a message the user can act on."""

    def __init__(self, message: ServiceMessage, **values: object) -> None:
        self.code = message
        self.values = values
        super().__init__(message.format(**values))


class NotFound(ServiceError):
    """The object asked for does not exist (or is not the actor's to see)."""


class Conflict(ServiceError):
    """The same identity was already used with different content."""


class RowErrors(ValueError):
    """Bad rows in an uploaded file: every problem, each naming its row and column."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))
