"""Peer research in the field: assignments, interviews with consent, withdrawal, review.

Every function takes its actor explicitly (a user id and role, or a :class:`User`), and
a researcher only ever reaches their own interviews: anything else is "not found".
Interviews arrive from field mode (JSON, channel ``field``), from ODK Collect or
KoboCollect (OpenRosa, channel ``odk``) and from an exported file an admin uploads; all
three go through :func:`record_interview`, which is idempotent on the interview's UUID.

The modules, by responsibility: :mod:`.common` (channels, messages, errors),
:mod:`.settings` (research settings, what counts in analysis), :mod:`.assignments`,
:mod:`.consent` (consent, receipt codes, withdrawal), :mod:`.interviews` (storing and
listing), :mod:`.review`, :mod:`.unsent` (uploaded files) and :mod:`.odk`.
"""

from __future__ import annotations

from surveys.services.field.assignments import (
    Assignment,
    assign_researcher,
    assignments_for,
    remove_assignment,
)
from surveys.services.field.common import (
    EXPORT_FORMAT,
    FIELD_CHANNELS,
    REVIEW_ACTIONS,
    FieldError,
    FieldMessage,
    InterviewNotFound,
    InvalidInterview,
    NotAssigned,
)
from surveys.services.field.consent import (
    consent_given,
    hash_receipt,
    new_receipt_code,
    withdraw,
)
from surveys.services.field.interviews import (
    Received,
    get_interview,
    list_interviews,
    receive_interview,
    record_interview,
    researcher_counts,
)
from surveys.services.field.odk import (
    authenticate_researcher,
    odk_versions,
    resolve_odk_target,
)
from surveys.services.field.review import review_interview, review_queue
from surveys.services.field.settings import (
    analysis_statuses,
    counts_in_analysis,
    research_settings,
)
from surveys.services.field.unsent import ImportReport, import_unsent

__all__ = [
    "EXPORT_FORMAT",
    "FIELD_CHANNELS",
    "REVIEW_ACTIONS",
    "Assignment",
    "FieldError",
    "FieldMessage",
    "ImportReport",
    "InterviewNotFound",
    "InvalidInterview",
    "NotAssigned",
    "Received",
    "analysis_statuses",
    "assign_researcher",
    "assignments_for",
    "authenticate_researcher",
    "consent_given",
    "counts_in_analysis",
    "get_interview",
    "hash_receipt",
    "import_unsent",
    "list_interviews",
    "new_receipt_code",
    "odk_versions",
    "receive_interview",
    "record_interview",
    "remove_assignment",
    "research_settings",
    "researcher_counts",
    "resolve_odk_target",
    "review_interview",
    "review_queue",
    "withdraw",
]
