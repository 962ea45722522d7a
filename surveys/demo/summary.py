"""What a demo database holds, read back from the database (so a rebuilt and an existing
demo are described the same way)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.demo.spec import DEMO_PASSWORD, DEMO_PIN
from surveys.models import (
    AccessCode,
    Community,
    InstrumentVersion,
    Response,
    SchoolClass,
    Site,
    User,
    Wave,
)
from surveys.services import format_code

__all__ = ["DemoSummary", "summarise"]


@dataclass(frozen=True)
class DemoSummary:
    """Counts and logins of a demo community."""

    community: str
    schools: int
    classes: int
    areas: int
    #: (wave, instrument id, status) -> responses.
    responses: dict[tuple[str, str, str], int] = field(default_factory=dict)
    #: (email, role, the sites the account is bound to, as "Name (code)").
    logins: tuple[tuple[str, str, str], ...] = ()
    #: A few class codes of the open wave: (school, class, code as printed).
    class_codes: tuple[tuple[str, str, str], ...] = ()
    #: The resident link code of each area in the open wave: (area, code as printed).
    area_codes: tuple[tuple[str, str], ...] = ()
    codes_issued: int = 0
    password: str = DEMO_PASSWORD
    pin: str = DEMO_PIN
    waves: tuple[tuple[str, str], ...] = ()

    def count(
        self, *, wave: str | None = None, instrument: str | None = None, status: str | None = None
    ) -> int:
        """Responses matching the given wave, instrument and status (None = any)."""
        return sum(
            n
            for (w, i, s), n in self.responses.items()
            if (wave is None or w == wave)
            and (instrument is None or i == instrument)
            and (status is None or s == status)
        )

    def completed(self, *, wave: str | None = None, instrument: str | None = None) -> int:
        """Submitted and approved responses (drafts and rejected ones left out)."""
        return self.count(wave=wave, instrument=instrument, status="submitted") + self.count(
            wave=wave, instrument=instrument, status="approved"
        )


def summarise(session: Session, community: Community, *, sample_codes: int = 5) -> DemoSummary:
    """Count what ``community`` holds."""
    sites = session.execute(
        select(Site.kind, func.count()).where(Site.community_id == community.id).group_by(Site.kind)
    ).all()
    kinds = {kind: int(n) for kind, n in sites}
    classes = session.scalar(
        select(func.count())
        .select_from(SchoolClass)
        .join(Site)
        .where(Site.community_id == community.id)
    )
    rows = session.execute(
        select(Wave.name, InstrumentVersion.instrument_id, Response.status, func.count())
        .join(Wave, Response.wave_id == Wave.id)
        .join(InstrumentVersion, Response.instrument_version_id == InstrumentVersion.id)
        .where(Wave.community_id == community.id)
        .group_by(Wave.name, InstrumentVersion.instrument_id, Response.status)
    ).all()
    responses = {(w, i, s): int(n) for w, i, s, n in rows}
    users = session.scalars(
        select(User).where(User.community_id == community.id).order_by(User.id)
    ).all()
    names = {
        s.id: (s.code, s.name)
        for s in session.scalars(select(Site).where(Site.community_id == community.id))
    }
    logins = tuple(
        (u.email, u.role, ", ".join(f"{n} ({c})" for c, n in sorted(names[i] for i in u.site_ids)))
        for u in users
    )
    waves = session.scalars(
        select(Wave).where(Wave.community_id == community.id).order_by(Wave.id)
    ).all()
    open_wave = next((w for w in waves if w.status == "open"), None)
    class_codes: list[tuple[str, str, str]] = []
    area_codes: list[tuple[str, str]] = []
    issued = 0
    if open_wave is not None:
        issued = int(
            session.scalar(
                select(func.count())
                .select_from(AccessCode)
                .where(AccessCode.wave_id == open_wave.id)
            )
            or 0
        )
        for site_name, class_name, code in session.execute(
            select(Site.name, SchoolClass.name, AccessCode.code)
            .join(SchoolClass, AccessCode.class_id == SchoolClass.id)
            .join(Site, AccessCode.site_id == Site.id)
            .where(AccessCode.wave_id == open_wave.id, AccessCode.kind == "class")
            .order_by(Site.code, SchoolClass.year_group, SchoolClass.name)
            .limit(sample_codes)
        ):
            class_codes.append((site_name, class_name, format_code(code)))
        for site_name, code in session.execute(
            select(Site.name, AccessCode.code)
            .join(Site, AccessCode.site_id == Site.id)
            .where(AccessCode.wave_id == open_wave.id, AccessCode.kind == "area")
            .order_by(Site.code)
        ):
            area_codes.append((site_name, format_code(code)))
    return DemoSummary(
        community=community.name,
        schools=kinds.get("school", 0),
        classes=int(classes or 0),
        areas=kinds.get("area", 0),
        responses=responses,
        logins=logins,
        class_codes=tuple(class_codes),
        area_codes=tuple(area_codes),
        codes_issued=issued,
        waves=tuple((w.name, w.status) for w in waves),
    )
