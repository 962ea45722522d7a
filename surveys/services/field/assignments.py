"""Researchers' assignments: which waves, areas and questionnaires each may interview in."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import InstrumentVersion, Site, User, Wave, WaveInstrument
from surveys.models.field import ResearcherAssignment
from surveys.services.audit import audit
from surveys.services.field.common import FieldMessage, NotAssigned
from surveys.services.setup import instrument_of

__all__ = [
    "Assignment",
    "assign_researcher",
    "assignments_for",
    "check_assigned",
    "remove_assignment",
    "wave_version",
]


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

    @classmethod
    def of(
        cls, id: int, wave: Wave, site: Site, instrument_id: str, version_id: int | None
    ) -> Assignment:
        """The assignment ``id`` (0 when implicit) to interview in ``site`` for ``wave``."""
        return cls(
            id=id,
            wave_id=wave.id,
            wave_name=wave.name,
            wave_status=wave.status,
            site_id=site.id,
            site_code=site.code,
            site_name=site.name,
            instrument_id=instrument_id,
            version_id=version_id,
        )


def wave_version(session: Session, wave_id: int, instrument_id: str) -> InstrumentVersion | None:
    """The newest version of ``instrument_id`` the wave uses, or None."""
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
    if wave_version(session, wave.id, instrument_id) is None:
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
    audit(
        session,
        actor_id,
        "assign_researcher",
        "user",
        user.id,
        wave=wave.id,
        site=site.id,
        instrument=instrument_id,
    )
    session.flush()
    return row


def remove_assignment(
    session: Session, *, actor_id: int, community_id: int, assignment_id: int
) -> bool:
    """End an assignment of ``community_id`` (the researcher's interviews stay).

    False when there is no such assignment in that community: another community's
    assignment is left alone, exactly as if it did not exist.
    """
    row = session.scalar(
        select(ResearcherAssignment)
        .join(Wave, Wave.id == ResearcherAssignment.wave_id)
        .where(ResearcherAssignment.id == assignment_id, Wave.community_id == community_id)
    )
    if row is None:
        return False
    session.delete(row)
    audit(session, actor_id, "unassign_researcher", "user", row.user_id)
    session.flush()
    return True


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
        version = wave_version(session, wave.id, assignment.instrument_id)
        seen.add((wave.id, site.id, assignment.instrument_id))
        result.append(
            Assignment.of(
                assignment.id, wave, site, assignment.instrument_id, version.id if version else None
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
                result.append(Assignment.of(0, wave, site, version.instrument_id, version.id))
    return result


def check_assigned(
    session: Session, *, researcher_id: int, wave: Wave, site: Site, instrument_id: str
) -> None:
    """Raise :class:`NotAssigned` unless the researcher may interview there with that form."""
    for assignment in assignments_for(session, researcher_id):
        if (assignment.wave_id, assignment.site_id, assignment.instrument_id) == (
            wave.id,
            site.id,
            instrument_id,
        ):
            return
    raise NotAssigned(FieldMessage.NOT_ASSIGNED)
