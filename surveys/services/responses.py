"""Storing responses, idempotently, whatever channel they come through."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from instruments import Instrument
from surveys.errors import Conflict, ServiceMessage
from surveys.models import InstrumentVersion, Response, SchoolClass, Site, Wave, utcnow
from surveys.services.setup import instrument_of
from surveys.validation import Validated, validate_answers

__all__ = [
    "CHANNELS",
    "Stored",
    "answers_hash",
    "check_response_id",
    "store_response",
]

CHANNELS = ("class", "web", "field", "odk", "import")


@dataclass(frozen=True)
class Stored:
    """What happened to a submission: the row, whether it is new, and the validation."""

    response: Response | None
    created: bool
    validated: Validated


def answers_hash(fields: Mapping[str, Any]) -> str:
    """A stable hash of a submission's content (what makes a retry "the same")."""
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def check_response_id(response_id: str) -> str:
    """The canonical form of a client-made UUID; ValueError if it is not one."""
    return str(uuid.UUID(str(response_id).strip()))


def store_response(
    session: Session,
    *,
    response_id: str,
    wave: Wave,
    version: InstrumentVersion,
    channel: str,
    answers: Mapping[str, object],
    site: Site | None = None,
    school_class: SchoolClass | None = None,
    language: str = "",
    status: str = "submitted",
    submitted_at: dt.datetime | None = None,
    started_at: dt.datetime | None = None,
    researcher_id: int | None = None,
    access_code_id: int | None = None,
    instrument: Instrument | None = None,
) -> Stored:
    """Validate and store one complete response, idempotent on ``response_id``.

    The same id with the same content stores nothing new (``created`` False); the same id
    with different content raises :class:`Conflict` and changes nothing. A draft under the
    id (a pupil's saved progress) is completed by the submission. Invalid answers store
    nothing: the returned ``validated`` holds the errors and ``response`` is None.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    response_id = check_response_id(response_id)
    instrument = instrument or instrument_of(version)
    codes = {i.name for i in instrument.code_items}
    answers = {k: v for k, v in answers.items() if k not in codes}  # never kept as answers
    validated = validate_answers(instrument, answers, strict_unknown=True)
    if not validated.ok:
        return Stored(None, False, validated)
    language = language or instrument.default_language
    digest = answers_hash(
        {
            "answers": validated.answers,
            "wave": wave.id,
            "version": version.id,
            "site": site.id if site else None,
            "class": school_class.id if school_class else None,
        }
    )
    existing = session.get(Response, response_id)
    if existing is not None and existing.status != "draft":
        if existing.content_hash == digest:
            return Stored(existing, False, validated)
        raise Conflict(ServiceMessage.RESPONSE_CONFLICT, id=response_id)
    now = utcnow()
    if existing is None:
        existing = Response(id=response_id, started_at=started_at or now)
        session.add(existing)
    existing.wave_id = wave.id
    existing.instrument_version_id = version.id
    existing.site_id = site.id if site else None
    existing.class_id = school_class.id if school_class else None
    existing.channel = channel
    existing.status = status
    existing.language = language
    existing.answers = validated.answers
    existing.content_hash = digest
    existing.researcher_id = researcher_id
    existing.access_code_id = access_code_id
    existing.updated_at = now
    existing.submitted_at = submitted_at or now
    existing.resume_word = None
    session.flush()
    return Stored(existing, True, validated)
