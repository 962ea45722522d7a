"""Peer research in the field: assignments, interviews with consent, withdrawal, review.

Every function takes its actor explicitly (a user id and role, or a :class:`User`), and
a researcher only ever reaches their own interviews: anything else is "not found".
Interviews arrive from field mode (JSON, channel ``field``), from ODK Collect or
KoboCollect (OpenRosa, channel ``odk``) and from an exported file an admin uploads; all
three go through :func:`record_interview`, which is idempotent on the interview's UUID.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.orm import Session, object_session

from instruments import Instrument
from surveys.errors import Conflict, ServiceMessage
from surveys.field_models import (
    CodedUnit,
    Coding,
    ConsentRecord,
    FieldInterview,
    QuoteApproval,
    Reconciliation,
    ResearcherAssignment,
    ResearchSettings,
)
from surveys.models import (
    AuditEntry,
    Community,
    InstrumentVersion,
    Response,
    Site,
    User,
    Wave,
    WaveInstrument,
    utcnow,
)
from surveys.services.responses import answers_hash, check_response_id, store_response
from surveys.services.setup import instrument_of, password_hasher

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

#: Channels whose responses are reviewed before they count.
FIELD_CHANNELS = ("field", "odk")
#: What a reviewer can do to an interview.
REVIEW_ACTIONS = ("approve", "reject", "flag", "unflag")
#: The "format" key of an exported file of unsent interviews.
EXPORT_FORMAT = "placevoice-field-export"
#: Letters a receipt code is made of (no 0/O, 1/I/L, so it reads back safely).
_RECEIPT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


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


# --- settings and analysis --------------------------------------------------------------


def research_settings(session: Session, community_id: int) -> ResearchSettings:
    """The community's research settings (defaults until changed)."""
    row = session.get(ResearchSettings, community_id)
    if row is None:
        row = ResearchSettings(community_id=community_id, count_submitted=False)
        row.double_code_percent = 20
    return row


def analysis_statuses(community: Community) -> tuple[str, ...]:
    """The statuses of field and ODK responses that count in analysis.

    Approved interviews always count; submitted ones too when the community has chosen
    not to wait for review (``ResearchSettings.count_submitted``). Responses from other
    channels are not reviewed and count when submitted; :func:`counts_in_analysis`
    gives the whole rule as a SQL condition.
    """
    session = object_session(community)
    count_submitted = False
    if session is not None:
        row = session.get(ResearchSettings, community.id)
        count_submitted = bool(row and row.count_submitted)
    return ("approved", "submitted") if count_submitted else ("approved",)


def counts_in_analysis(community: Community) -> ColumnElement[bool]:
    """A condition on :class:`Response` selecting exactly the responses analysis uses."""
    return or_(
        and_(Response.channel.not_in(FIELD_CHANNELS), Response.status == "submitted"),
        and_(
            Response.channel.in_(FIELD_CHANNELS),
            Response.status.in_(analysis_statuses(community)),
        ),
    )


# --- assignments --------------------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    """A researcher's assignment, with what field mode needs to show it."""

    id: int
    wave_id: int
    wave_name: str
    wave_status: str
    site_id: int
    site_code: str
    site_name: str
    instrument_id: str
    version_id: int | None


def _wave_version(session: Session, wave_id: int, instrument_id: str) -> InstrumentVersion | None:
    return session.scalar(
        select(InstrumentVersion)
        .join(WaveInstrument, WaveInstrument.instrument_version_id == InstrumentVersion.id)
        .where(WaveInstrument.wave_id == wave_id, InstrumentVersion.instrument_id == instrument_id)
        .order_by(InstrumentVersion.id.desc())
        .limit(1)
    )


def assign_researcher(
    session: Session, *, actor_id: int, user: User, wave: Wave, site: Site, instrument_id: str
) -> ResearcherAssignment:
    """Let ``user`` interview in ``site`` for ``wave`` with ``instrument_id`` (idempotent)."""
    if user.role != "researcher":
        raise ValueError(f"{user.email} is not a researcher")
    if user.community_id != wave.community_id or site.community_id != wave.community_id:
        raise ValueError("the researcher, wave and site belong to different communities")
    if _wave_version(session, wave.id, instrument_id) is None:
        raise ValueError(f"the wave '{wave.name}' does not use '{instrument_id}'")
    existing = session.scalar(
        select(ResearcherAssignment).where(
            ResearcherAssignment.user_id == user.id,
            ResearcherAssignment.wave_id == wave.id,
            ResearcherAssignment.site_id == site.id,
            ResearcherAssignment.instrument_id == instrument_id,
        )
    )
    if existing is not None:
        return existing
    row = ResearcherAssignment(
        user_id=user.id, wave_id=wave.id, site_id=site.id, instrument_id=instrument_id
    )
    session.add(row)
    session.add(
        AuditEntry(
            user_id=actor_id,
            action="assign_researcher",
            object_type="user",
            object_id=str(user.id),
            detail={"wave": wave.id, "site": site.id, "instrument": instrument_id},
        )
    )
    session.flush()
    return row


def remove_assignment(session: Session, *, actor_id: int, assignment_id: int) -> None:
    """End an assignment (the researcher's interviews stay)."""
    row = session.get(ResearcherAssignment, assignment_id)
    if row is None:
        return
    session.delete(row)
    session.add(
        AuditEntry(
            user_id=actor_id,
            action="unassign_researcher",
            object_type="user",
            object_id=str(row.user_id),
        )
    )
    session.flush()


def assignments_for(session: Session, user_id: int) -> list[Assignment]:
    """The researcher's assignments, newest wave first.

    Besides the explicit assignments, a researcher bound to areas (``placevoice users
    create --role researcher --site ...``) is assigned, in every open wave, to each of the
    wave's instruments that records consent (has a ``consent`` item): an interview
    questionnaire. Such implicit assignments have ``id`` 0.
    """
    rows = session.execute(
        select(ResearcherAssignment, Wave, Site)
        .join(Wave, Wave.id == ResearcherAssignment.wave_id)
        .join(Site, Site.id == ResearcherAssignment.site_id)
        .where(ResearcherAssignment.user_id == user_id)
        .order_by(Wave.id.desc(), Site.name, ResearcherAssignment.instrument_id)
    ).all()
    result = []
    seen = set()
    for assignment, wave, site in rows:
        version = _wave_version(session, wave.id, assignment.instrument_id)
        seen.add((wave.id, site.id, assignment.instrument_id))
        result.append(
            Assignment(
                id=assignment.id,
                wave_id=wave.id,
                wave_name=wave.name,
                wave_status=wave.status,
                site_id=site.id,
                site_code=site.code,
                site_name=site.name,
                instrument_id=assignment.instrument_id,
                version_id=version.id if version else None,
            )
        )
    user = session.get(User, user_id)
    if user is None or user.role != "researcher" or not user.sites:
        return result
    sites = [s for s in (session.get(Site, i) for i in sorted(user.site_ids)) if s is not None]
    waves = session.scalars(
        select(Wave)
        .where(Wave.community_id == user.community_id, Wave.status == "open")
        .order_by(Wave.id.desc())
    )
    for wave in waves:
        for link in wave.instruments:
            version = link.instrument_version
            if not instrument_of(version).has_item("consent"):
                continue
            for site in sites:
                key = (wave.id, site.id, version.instrument_id)
                if key in seen:
                    continue
                seen.add(key)
                result.append(
                    Assignment(
                        id=0,
                        wave_id=wave.id,
                        wave_name=wave.name,
                        wave_status=wave.status,
                        site_id=site.id,
                        site_code=site.code,
                        site_name=site.name,
                        instrument_id=version.instrument_id,
                        version_id=version.id,
                    )
                )
    return result


def _check_assigned(
    session: Session, *, researcher_id: int, wave: Wave, site: Site, instrument_id: str
) -> None:
    for assignment in assignments_for(session, researcher_id):
        if (assignment.wave_id, assignment.site_id, assignment.instrument_id) == (
            wave.id,
            site.id,
            instrument_id,
        ):
            return
    raise NotAssigned(FieldMessage.NOT_ASSIGNED)


# --- consent, receipts --------------------------------------------------------------------


def consent_given(instrument: Instrument, answers: Mapping[str, Any]) -> bool | None:
    """Whether the interview may go ahead; None when the instrument asks no consent.

    Consent must be "yes", and for a respondent under 16 the parent's or carer's too.
    """
    if not instrument.has_item("consent"):
        return None
    if answers.get("consent") != "yes":
        return False
    if answers.get("respondent_under16") == "yes":
        return bool(answers.get("parent_consent") == "yes")
    return True


def _yes(value: object) -> bool | None:
    if value in (None, ""):
        return None
    return value == "yes"


def new_receipt_code() -> str:
    """A fresh receipt code (12 letters and digits, shown as three groups of four)."""
    raw = "".join(secrets.choice(_RECEIPT_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def hash_receipt(code: str) -> str:
    """The stored form of a receipt code (case, spaces and dashes ignored)."""
    normalised = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(f"placevoice-receipt:{normalised}".encode()).hexdigest()


# --- receiving interviews -----------------------------------------------------------------


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
) -> Received:
    """Store one interview, idempotent on ``response_id``, applying the consent rules.

    Raises :class:`NotAssigned`, :class:`InvalidInterview`, :class:`FieldError` (wave not
    open) or :class:`surveys.errors.Conflict` (the same id with different content).
    """
    if channel not in FIELD_CHANNELS:
        raise ValueError(f"not a field channel: {channel!r}")
    try:
        response_id = check_response_id(response_id)
    except ValueError:
        raise FieldError(FieldMessage.BAD_ID, id=str(response_id)[:60]) from None
    _check_assigned(
        session,
        researcher_id=researcher_id,
        wave=wave,
        site=site,
        instrument_id=version.instrument_id,
    )
    instrument = instrument_of(version)
    answers = dict(answers)
    if instrument.has_item("area") and not answers.get("area"):
        answers["area"] = site.name
    existing_consent = session.get(ConsentRecord, response_id)
    from surveys.validation import validate_answers

    validated = validate_answers(instrument, answers, strict_unknown=True)
    if not validated.ok:
        raise InvalidInterview([f"{e.item}: {e.text()}" for e in validated.errors])
    consent = consent_given(instrument, validated.answers)
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
        session.add(
            ConsentRecord(
                id=response_id,
                wave_id=wave.id,
                site_id=site.id,
                instrument_version_id=version.id,
                researcher_id=researcher_id,
                channel=channel,
                consent=validated.answers.get("consent") == "yes",
                respondent_under16=_yes(validated.answers.get("respondent_under16")),
                parent_consent=_yes(validated.answers.get("parent_consent")),
                content_hash=digest,
                recorded_at=saved_at or utcnow(),
            )
        )
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
        session.add(
            ConsentRecord(
                id=response_id,
                wave_id=wave.id,
                site_id=site.id,
                instrument_version_id=version.id,
                researcher_id=researcher_id,
                channel=channel,
                consent=True,
                respondent_under16=_yes(validated.answers.get("respondent_under16")),
                parent_consent=_yes(validated.answers.get("parent_consent")),
                response_id=response_id,
                content_hash=response.content_hash,
                recorded_at=saved_at or utcnow(),
            )
        )
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
    try:
        wave = session.get(Wave, int(payload["wave_id"]))
        site = session.get(Site, int(payload["site_id"]))
    except (TypeError, ValueError):
        raise NotAssigned(FieldMessage.NOT_ASSIGNED) from None
    if (
        wave is None
        or site is None
        or wave.community_id != community_id
        or site.community_id != community_id
    ):
        raise NotAssigned(FieldMessage.NOT_ASSIGNED)
    version = _wave_version(session, wave.id, str(payload["instrument_id"]))
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


# --- withdrawal -----------------------------------------------------------------------------


def withdraw(session: Session, receipt_code: str) -> bool:
    """Delete the response a receipt code belongs to, with its codes and quotes.

    The consent record stays, marked as withdrawn, so counts of interviews done remain
    honest. Returns whether a response was found.
    """
    if not "".join(ch for ch in receipt_code if ch.isalnum()):
        return False
    response = session.scalar(
        select(Response).where(Response.receipt_hash == hash_receipt(receipt_code))
    )
    if response is None:
        return False
    rid = response.id
    for model in (Coding, CodedUnit, QuoteApproval, Reconciliation, FieldInterview):
        session.execute(delete(model).where(model.response_id == rid))
    record = session.get(ConsentRecord, rid)
    if record is not None:
        record.withdrawn_at = utcnow()
        record.response_id = None
    session.delete(response)
    session.add(AuditEntry(action="withdrawal", object_type="response", detail={}))
    session.flush()
    return True


# --- review ----------------------------------------------------------------------------------


def review_queue(session: Session, *, community_id: int, show: str = "new") -> list[Response]:
    """Field interviews for the core team: "new" (submitted), "flagged", or a status."""
    query = (
        select(Response)
        .where(
            Response.channel.in_(FIELD_CHANNELS),
            Response.wave.has(Wave.community_id == community_id),
        )
        .order_by(Response.submitted_at)
    )
    if show == "new":
        query = query.where(Response.status == "submitted")
    elif show == "flagged":
        query = query.join(FieldInterview).where(FieldInterview.flagged.is_(True))
    elif show != "all":
        query = query.where(Response.status == show)
    return list(session.scalars(query))


def review_interview(
    session: Session,
    *,
    reviewer_id: int,
    community_id: int,
    response_id: str,
    action: str,
    note: str = "",
) -> Response:
    """Approve, reject (a reason is required), flag or unflag one interview."""
    if action not in REVIEW_ACTIONS:
        raise FieldError(FieldMessage.BAD_ACTION, action=action)
    response = get_interview(
        session,
        actor_id=reviewer_id,
        role="admin",
        community_id=community_id,
        response_id=response_id,
    )
    note = note.strip()
    meta = session.get(FieldInterview, response.id)
    if meta is None:
        meta = FieldInterview(response_id=response.id)
        session.add(meta)
    if action == "approve":
        response.status = "approved"
        response.review_note = note
    elif action == "reject":
        if not note:
            raise FieldError(FieldMessage.NO_REASON)
        response.status = "rejected"
        response.review_note = note
    else:
        meta.flagged = action == "flag"
        meta.flag_note = note if action == "flag" else ""
    meta.reviewer_id = reviewer_id
    meta.reviewed_at = utcnow()
    response.updated_at = utcnow()
    session.add(
        AuditEntry(
            user_id=reviewer_id,
            action=f"review_{action}",
            object_type="response",
            object_id=response.id,
        )
    )
    session.flush()
    return response


# --- exported files ---------------------------------------------------------------------------


@dataclass
class ImportReport:
    """The outcome of uploading a file of unsent interviews."""

    created: int = 0
    duplicates: int = 0
    no_consent: int = 0
    problems: list[str] = field(default_factory=list)


def import_unsent(
    session: Session, *, actor_id: int, community_id: int, data: bytes
) -> ImportReport:
    """Store the interviews of an exported file, each as its own researcher would have.

    Idempotent: interviews already received count as duplicates. Problems (conflicts,
    invalid answers, unassigned) are reported per interview and do not stop the others.
    """
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise FieldError(FieldMessage.BAD_FILE, detail=str(err)) from None
    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
        raise FieldError(FieldMessage.BAD_FILE, detail=f"'format' is not '{EXPORT_FORMAT}'")
    interviews = document.get("interviews")
    if not isinstance(interviews, list):
        raise FieldError(FieldMessage.BAD_FILE, detail="'interviews' is not a list")
    report = ImportReport()
    for number, payload in enumerate(interviews, start=1):
        label = f"interview {number}"
        if not isinstance(payload, dict):
            report.problems.append(f"{label}: not an object")
            continue
        label = f"interview {number} ({str(payload.get('id', ''))[:36]})"
        try:
            researcher = session.get(User, int(payload.get("researcher_id") or 0))
        except (TypeError, ValueError):
            researcher = None
        if researcher is None or researcher.community_id != community_id:
            report.problems.append(f"{label}: unknown researcher")
            continue
        try:
            with session.begin_nested():
                received = receive_interview(
                    session,
                    researcher_id=researcher.id,
                    community_id=community_id,
                    payload=payload,
                )
        except (FieldError, Conflict) as err:
            report.problems.append(f"{label}: {err}")
            continue
        if received.outcome == "created":
            report.created += 1
        elif received.outcome == "consent_only":
            report.no_consent += 1
        else:
            report.duplicates += 1
    session.add(
        AuditEntry(
            user_id=actor_id,
            action="import_unsent",
            object_type="file",
            detail={
                "created": report.created,
                "duplicates": report.duplicates,
                "problems": len(report.problems),
            },
        )
    )
    session.flush()
    return report


# --- OpenRosa ---------------------------------------------------------------------------------

_DUMMY_HASH = password_hasher().hash("placevoice-no-such-user")


def authenticate_researcher(session: Session, email: str, password: str) -> User | None:
    """The active researcher with these credentials, or None.

    An unknown email costs the same argon2 verification as a wrong password, so response
    times do not reveal which accounts exist.
    """
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    hashed = user.password_hash if user is not None else _DUMMY_HASH
    try:
        ok: bool = password_hasher().verify(hashed, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or not user.active or user.role != "researcher":
        return None
    return user


def odk_versions(session: Session, user_id: int) -> list[InstrumentVersion]:
    """Instrument versions the researcher is assigned in open waves (for the form list)."""
    seen: dict[int, InstrumentVersion] = {}
    for assignment in assignments_for(session, user_id):
        if assignment.wave_status != "open" or assignment.version_id is None:
            continue
        version = session.get(InstrumentVersion, assignment.version_id)
        if version is not None:
            seen.setdefault(version.id, version)
    return list(seen.values())


def resolve_odk_target(
    session: Session, *, user_id: int, form_id: str, version: str, area: str = ""
) -> tuple[Wave, Site, InstrumentVersion]:
    """The wave, site and version an ODK submission belongs to.

    The newest open wave among the researcher's assignments for the form decides; the
    site is the assigned area whose code or name matches the ``area`` answer, else the
    only assigned area.
    """
    candidates = []
    for assignment in assignments_for(session, user_id):
        if assignment.instrument_id != form_id or assignment.wave_status != "open":
            continue
        if assignment.version_id is None:
            continue
        row = session.get(InstrumentVersion, assignment.version_id)
        if row is None or (version and row.version != version):
            continue
        candidates.append((assignment, row))
    if not candidates:
        raise NotAssigned(FieldMessage.NO_ODK_TARGET, form=form_id, version=version)
    newest_wave = max(a.wave_id for a, _ in candidates)
    in_wave = [(a, v) for a, v in candidates if a.wave_id == newest_wave]
    wanted = area.strip().lower()
    chosen = next(
        (
            (a, v)
            for a, v in in_wave
            if wanted and wanted in (a.site_code.lower(), a.site_name.lower())
        ),
        in_wave[0],
    )
    assignment, row = chosen
    wave = session.get(Wave, assignment.wave_id)
    site = session.get(Site, assignment.site_id)
    if wave is None or site is None:  # pragma: no cover - foreign keys
        raise NotAssigned(FieldMessage.NO_ODK_TARGET, form=form_id, version=version)
    return wave, site, row
