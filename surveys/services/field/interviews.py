"""Receiving interviews (field mode, ODK, uploaded files) and a researcher's own list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from surveys.errors import Conflict, ServiceMessage
from surveys.ids import parse_id
from surveys.models import InstrumentVersion, Response, Site, Wave, utcnow
from surveys.models.field import ConsentRecord, FieldInterview
from surveys.services.field.assignments import check_assigned, wave_version
from surveys.services.field.common import (
    FIELD_CHANNELS,
    FieldError,
    FieldMessage,
    InterviewNotFound,
    InvalidInterview,
    NotAssigned,
)
from surveys.services.field.consent import consent_given, hash_receipt, yes_or_none
from surveys.services.responses import answers_hash, check_response_id, store_response
from surveys.services.setup import instrument_of

__all__ = [
    "Received",
    "get_interview",
    "list_interviews",
    "receive_interview",
    "record_interview",
    "researcher_counts",
]


@dataclass(frozen=True)
class Received:
    """What happened to one interview."""

    id: str
    #: "created", "duplicate", "consent_only" (no consent: only the consent record kept)
    #: or "consent_duplicate".
    outcome: str

    @property
    def created(self) -> bool:
        """Whether something new was stored."""
        return self.outcome in ("created", "consent_only")


def _parse_time(value: object) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def record_interview(
    session: Session,
    *,
    researcher_id: int,
    response_id: str,
    wave: Wave,
    site: Site,
    version: InstrumentVersion,
    answers: Mapping[str, object],
    channel: str,
    device_id: str = "",
    started_at: dt.datetime | None = None,
    saved_at: dt.datetime | None = None,
    receipt_code: str = "",
    language: str = "",
) -> Received:
    """Store one interview, idempotent on ``response_id``, applying the consent rules.

    ``language`` is the one the interview was held in; one the instrument does not have
    (or none, from an older field app) is recorded as the instrument's default.

    Raises :class:`NotAssigned`, :class:`InvalidInterview`, :class:`FieldError` (wave not
    open) or :class:`surveys.errors.Conflict` (the same id with different content).
    """
    if channel not in FIELD_CHANNELS:
        raise ValueError(f"not a field channel: {channel!r}")
    try:
        response_id = check_response_id(response_id)
    except ValueError:
        raise FieldError(FieldMessage.BAD_ID, id=str(response_id)[:60]) from None
    check_assigned(
        session,
        researcher_id=researcher_id,
        wave=wave,
        site=site,
        instrument_id=version.instrument_id,
    )
    instrument = instrument_of(version)
    if language not in instrument.languages:
        language = instrument.default_language
    answers = dict(answers)
    if instrument.has_item("area") and not answers.get("area"):
        answers["area"] = site.name
    existing_consent = session.get(ConsentRecord, response_id)
    from surveys.validation import validate_answers

    validated = validate_answers(instrument, answers, strict_unknown=True)
    if not validated.ok:
        raise InvalidInterview([f"{e.item}: {e.text()}" for e in validated.errors])
    consent = consent_given(instrument, validated.answers)

    def consent_record(*, content_hash: str, linked: bool) -> ConsentRecord:
        # Not linked to a response when only consent is kept (the interview was refused).
        return ConsentRecord(
            id=response_id,
            wave_id=wave.id,
            site_id=site.id,
            instrument_version_id=version.id,
            researcher_id=researcher_id,
            channel=channel,
            consent=validated.answers.get("consent") == "yes",
            respondent_under16=yes_or_none(validated.answers.get("respondent_under16")),
            parent_consent=yes_or_none(validated.answers.get("parent_consent")),
            response_id=response_id if linked else None,
            content_hash=content_hash,
            recorded_at=saved_at or utcnow(),
        )

    if consent is False:
        digest = answers_hash(
            {
                "consent": validated.answers,
                "wave": wave.id,
                "site": site.id,
                "version": version.id,
            }
        )
        if existing_consent is not None:
            if existing_consent.content_hash == digest and existing_consent.response_id is None:
                return Received(response_id, "consent_duplicate")
            raise Conflict(ServiceMessage.RESPONSE_CONFLICT, id=response_id)
        if session.get(Response, response_id) is not None:
            raise Conflict(ServiceMessage.RESPONSE_CONFLICT, id=response_id)
        _ensure_open(wave)
        session.add(consent_record(content_hash=digest, linked=False))
        session.flush()
        return Received(response_id, "consent_only")
    if existing_consent is not None and existing_consent.response_id is None:
        raise Conflict(ServiceMessage.RESPONSE_CONFLICT, id=response_id)
    existing = session.get(Response, response_id)
    if existing is None:
        _ensure_open(wave)
    elif existing.researcher_id != researcher_id:
        # Someone else's id: never reveal or touch it.
        raise Conflict(ServiceMessage.RESPONSE_CONFLICT, id=response_id)
    stored = store_response(
        session,
        response_id=response_id,
        wave=wave,
        version=version,
        channel=channel,
        answers=validated.answers,
        site=site,
        status="submitted",
        started_at=started_at,
        submitted_at=saved_at,
        researcher_id=researcher_id,
        instrument=instrument,
        language=language,
    )
    if not stored.validated.ok or stored.response is None:  # pragma: no cover - checked above
        raise InvalidInterview([e.text() for e in stored.validated.errors])
    if not stored.created:
        return Received(response_id, "duplicate")
    response = stored.response
    if receipt_code:
        response.receipt_hash = hash_receipt(receipt_code)
    session.add(
        FieldInterview(
            response_id=response_id,
            device_id=str(device_id)[:64],
            client_saved_at=saved_at,
        )
    )
    if consent is not None:
        session.add(consent_record(content_hash=response.content_hash, linked=True))
    session.flush()
    return Received(response_id, "created")


def _ensure_open(wave: Wave) -> None:
    if wave.status != "open":
        raise FieldError(FieldMessage.WAVE_NOT_OPEN, name=wave.name, status=wave.status)


def receive_interview(
    session: Session, *, researcher_id: int, community_id: int, payload: Mapping[str, Any]
) -> Received:
    """Store an interview sent by field mode (a JSON object; see docs/peer-research.md)."""
    for key in ("id", "wave_id", "site_id", "instrument_id", "answers"):
        if key not in payload:
            raise FieldError(FieldMessage.BAD_PAYLOAD, key=key)
    answers = payload["answers"]
    if not isinstance(answers, Mapping):
        raise FieldError(FieldMessage.BAD_PAYLOAD, key="answers")
    wave_id, site_id = parse_id(payload["wave_id"]), parse_id(payload["site_id"])
    if wave_id is None or site_id is None:
        raise NotAssigned(FieldMessage.NOT_ASSIGNED)
    wave = session.get(Wave, wave_id)
    site = session.get(Site, site_id)
    if (
        wave is None
        or site is None
        or wave.community_id != community_id
        or site.community_id != community_id
    ):
        raise NotAssigned(FieldMessage.NOT_ASSIGNED)
    version = wave_version(session, wave.id, str(payload["instrument_id"]))
    if version is None:
        raise NotAssigned(FieldMessage.NOT_ASSIGNED)
    return record_interview(
        session,
        researcher_id=researcher_id,
        response_id=str(payload["id"]),
        wave=wave,
        site=site,
        version=version,
        answers=answers,
        channel="field",
        device_id=str(payload.get("device_id") or ""),
        started_at=_parse_time(payload.get("started_at")),
        saved_at=_parse_time(payload.get("saved_at")),
        receipt_code=str(payload.get("receipt_code") or ""),
        language=str(payload.get("language") or ""),
    )


# --- a researcher's own interviews ----------------------------------------------------------


def _visible(role: str, actor_id: int, community_id: int) -> ColumnElement[bool]:
    if role == "admin":
        return Response.wave.has(Wave.community_id == community_id)
    return Response.researcher_id == actor_id


def list_interviews(
    session: Session, *, actor_id: int, role: str, community_id: int, status: str | None = None
) -> list[Response]:
    """Field and ODK interviews the actor may see (a researcher: only their own)."""
    query = (
        select(Response)
        .where(
            Response.channel.in_(FIELD_CHANNELS),
            _visible(role, actor_id, community_id),
        )
        .order_by(Response.submitted_at.desc())
    )
    if status:
        query = query.where(Response.status == status)
    return list(session.scalars(query))


def get_interview(
    session: Session, *, actor_id: int, role: str, community_id: int, response_id: str
) -> Response:
    """One interview the actor may see; :class:`InterviewNotFound` otherwise."""
    try:
        response_id = check_response_id(response_id)
    except ValueError:
        raise InterviewNotFound(FieldMessage.NOT_FOUND, id=str(response_id)[:60]) from None
    row = session.scalar(
        select(Response).where(
            Response.id == response_id,
            Response.channel.in_(FIELD_CHANNELS),
            _visible(role, actor_id, community_id),
        )
    )
    if row is None:
        raise InterviewNotFound(FieldMessage.NOT_FOUND, id=response_id)
    return row


def researcher_counts(session: Session, researcher_id: int) -> dict[str, int]:
    """The researcher's interviews by status, and consent-only records as ``no_consent``."""
    counts = dict.fromkeys(("submitted", "approved", "rejected", "no_consent"), 0)
    rows = session.execute(
        select(Response.status, func.count())
        .where(Response.researcher_id == researcher_id, Response.channel.in_(FIELD_CHANNELS))
        .group_by(Response.status)
    ).all()
    for status, n in rows:
        counts[str(status)] = int(n)
    counts["no_consent"] = int(
        session.scalar(
            select(func.count()).where(
                ConsentRecord.researcher_id == researcher_id,
                ConsentRecord.response_id.is_(None),
            )
        )
        or 0
    )
    return counts
