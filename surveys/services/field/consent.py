"""Consent, receipt codes, and a respondent's withdrawal by receipt code."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from instruments import Instrument
from surveys.models import Response, utcnow
from surveys.models.field import (
    CodedUnit,
    Coding,
    ConsentRecord,
    FieldInterview,
    QuoteApproval,
    Reconciliation,
)
from surveys.services.audit import audit

__all__ = ["consent_given", "hash_receipt", "new_receipt_code", "withdraw", "yes_or_none"]

#: Letters a receipt code is made of (no 0/O, 1/I/L, so it reads back safely).
_RECEIPT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


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


def yes_or_none(value: object) -> bool | None:
    """A yes/no answer as a bool; None when it was not given."""
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
    audit(session, None, "withdrawal", "response")
    session.flush()
    return True
