"""What ODK Collect and KoboCollect need: researcher log-in, form list, submission target."""

from __future__ import annotations

from collections.abc import Iterator

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import InstrumentVersion, Site, User, Wave
from surveys.services.field.assignments import Assignment, assignments_for
from surveys.services.field.common import FieldMessage, NotAssigned
from surveys.services.setup import password_hasher

__all__ = ["authenticate_researcher", "odk_versions", "resolve_odk_target"]


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


def _open_assignments(
    session: Session, user_id: int, form_id: str | None = None
) -> Iterator[tuple[Assignment, InstrumentVersion]]:
    """The researcher's assignments in open waves (to ``form_id`` if given), with versions."""
    for assignment in assignments_for(session, user_id):
        if assignment.wave_status != "open" or assignment.version_id is None:
            continue
        if form_id is not None and assignment.instrument_id != form_id:
            continue
        version = session.get(InstrumentVersion, assignment.version_id)
        if version is not None:
            yield assignment, version


def odk_versions(session: Session, user_id: int) -> list[InstrumentVersion]:
    """Instrument versions the researcher is assigned in open waves (for the form list)."""
    seen: dict[int, InstrumentVersion] = {}
    for _, version in _open_assignments(session, user_id):
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
    candidates = [
        (assignment, row)
        for assignment, row in _open_assignments(session, user_id, form_id)
        if not version or row.version == version
    ]
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
