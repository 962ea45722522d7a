"""Uploading a file of interviews a device exported because it could not send them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from surveys.errors import Conflict
from surveys.ids import parse_id
from surveys.models import User
from surveys.services.audit import audit
from surveys.services.field.common import EXPORT_FORMAT, FieldError, FieldMessage
from surveys.services.field.interviews import receive_interview

__all__ = ["ImportReport", "import_unsent"]


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
        researcher_id = parse_id(payload.get("researcher_id"))
        researcher = session.get(User, researcher_id) if researcher_id is not None else None
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
    audit(
        session,
        actor_id,
        "import_unsent",
        "file",
        created=report.created,
        duplicates=report.duplicates,
        problems=len(report.problems),
    )
    session.flush()
    return report
