"""Setting up a community: instruments, sites, waves and staff accounts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from instruments import Instrument, load_builtin, load_instrument
from instruments.builtin import BUILTIN_IDS
from surveys.csvfiles import csv_rows
from surveys.errors import NotFound, RowErrors, ServiceError, ServiceMessage
from surveys.models import (
    ROLES,
    Community,
    InstrumentVersion,
    Site,
    User,
    UserSite,
    Wave,
    WaveInstrument,
    utcnow,
)

__all__ = [
    "SiteRow",
    "create_user",
    "create_wave",
    "ensure_builtin_instruments",
    "get_community",
    "get_or_create_community",
    "get_wave",
    "import_sites",
    "instrument_of",
    "latest_instrument_version",
    "parse_sites_csv",
    "password_hasher",
    "register_instrument",
    "set_wave_status",
    "verify_password",
    "visible_to",
]

SITE_KINDS = ("school", "area")


def password_hasher() -> PasswordHasher:
    """argon2id with the library's recommended parameters (RFC 9106 low-memory profile)."""
    return _HASHER


_HASHER = PasswordHasher()


def verify_password(user: User, password: str) -> bool:
    """Whether ``password`` is the user's; never raises for a wrong or damaged hash."""
    try:
        return _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def get_or_create_community(session: Session, *, slug: str, name: str) -> Community:
    """The community with ``slug``, made if it does not exist."""
    community = session.scalar(select(Community).where(Community.slug == slug))
    if community is None:
        community = Community(slug=slug, name=name)
        session.add(community)
        session.flush()
    return community


def get_community(session: Session, slug: str | None = None) -> Community:
    """The community called ``slug``; without one, the database's only community.

    A database holding several communities needs the slug: codes are never issued, nor
    responses imported, into whichever community happens to come first.
    """
    if slug:
        community = session.scalar(select(Community).where(Community.slug == slug.strip()))
        if community is None:
            slugs = ", ".join(session.scalars(select(Community.slug).order_by(Community.slug)))
            raise NotFound(ServiceMessage.NO_SUCH_COMMUNITY, slug=slug, slugs=slugs or "none")
        return community
    communities = list(session.scalars(select(Community).order_by(Community.slug)))
    if not communities:
        raise NotFound(ServiceMessage.NO_COMMUNITY)
    if len(communities) > 1:
        raise ServiceError(
            ServiceMessage.SEVERAL_COMMUNITIES,
            count=len(communities),
            slugs=", ".join(c.slug for c in communities),
        )
    return communities[0]


#: What a community slug may be.
SLUG_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?")


def slug_for(name: str) -> str:
    """A community slug made from a name.

    >>> slug_for("Pembury Children's Community")
    'pembury-children-s-community'
    """
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60].strip("-") or "community"


def create_community(
    session: Session, *, slug: str, name: str, suppression_k: int | None = None
) -> Community:
    """A new community; its slug is checked and must be new."""
    slug = slug.strip()
    if not SLUG_PATTERN.fullmatch(slug):
        raise ServiceError(ServiceMessage.BAD_SLUG, slug=slug)
    if session.scalar(select(Community.id).where(Community.slug == slug)) is not None:
        raise ServiceError(ServiceMessage.COMMUNITY_EXISTS, slug=slug)
    community = Community(slug=slug, name=name.strip() or slug)
    if suppression_k is not None:
        community.suppression_k = suppression_k
    session.add(community)
    session.flush()
    return community


def visible_to(community_id: int) -> ColumnElement[bool]:
    """Instrument versions a community may see and use: its own and the built-in ones."""
    return or_(
        InstrumentVersion.community_id.is_(None), InstrumentVersion.community_id == community_id
    )


def register_instrument(
    session: Session, instrument: Instrument, *, community_id: int | None = None
) -> InstrumentVersion:
    """Store an instrument version for ``community_id`` (None: a public, built-in one).

    The same id+version with other content is refused, and so is an instrument id that
    another community's versions already use.
    """
    owners = set(
        session.scalars(
            select(InstrumentVersion.community_id).where(
                InstrumentVersion.instrument_id == instrument.id
            )
        )
    )
    if owners - {None, community_id}:
        raise ServiceError(ServiceMessage.INSTRUMENT_OWNED, id=instrument.id)
    row = session.scalar(
        select(InstrumentVersion).where(
            InstrumentVersion.instrument_id == instrument.id,
            InstrumentVersion.version == instrument.version,
        )
    )
    if row is not None:
        if row.source != instrument.source_bytes:
            raise ServiceError(
                ServiceMessage.INSTRUMENT_CHANGED, id=instrument.id, version=instrument.version
            )
        return row
    row = InstrumentVersion(
        instrument_id=instrument.id,
        version=instrument.version,
        title=instrument.title(instrument.default_language)[:200],
        source=instrument.source_bytes,
        source_format=instrument.source_format,
        community_id=community_id,
    )
    session.add(row)
    session.flush()
    return row


def ensure_builtin_instruments(session: Session) -> list[InstrumentVersion]:
    """Register the shipped instruments (idempotent)."""
    return [register_instrument(session, load_builtin(i)) for i in BUILTIN_IDS]


def latest_instrument_version(
    session: Session, instrument_id: str, *, community_id: int | None = None
) -> InstrumentVersion:
    """The newest stored version of an instrument (of those ``community_id`` may use)."""
    query = select(InstrumentVersion).where(InstrumentVersion.instrument_id == instrument_id)
    if community_id is not None:
        query = query.where(visible_to(community_id))
    row = session.scalar(
        query.order_by(InstrumentVersion.created_at.desc(), InstrumentVersion.id.desc()).limit(1)
    )
    if row is None:
        raise NotFound(ServiceMessage.NO_INSTRUMENT, id=instrument_id)
    return row


def instrument_of(version: InstrumentVersion) -> Instrument:
    """The parsed instrument a stored version holds (parsed once per process)."""
    return _parse(version.instrument_id, version.version, version.source, version.source_format)


@lru_cache(maxsize=64)
def _parse(instrument_id: str, version: str, source: bytes, fmt: str) -> Instrument:
    return load_instrument(source, file_type=fmt, name=f"{instrument_id} {version}")


def get_wave(session: Session, community: Community, name: str) -> Wave:
    """The community's wave called ``name``."""
    wave = session.scalar(select(Wave).where(Wave.community_id == community.id, Wave.name == name))
    if wave is None:
        raise NotFound(ServiceMessage.NO_WAVE, name=name)
    return wave


def create_wave(
    session: Session,
    *,
    community: Community,
    name: str,
    instrument_ids: Sequence[str],
    previous: str | None = None,
    retention_days: int | None = None,
) -> Wave:
    """A new wave using the newest version of each instrument."""
    name = name.strip()
    exists = session.scalar(
        select(Wave.id).where(Wave.community_id == community.id, Wave.name == name)
    )
    if exists is not None:
        raise ServiceError(ServiceMessage.WAVE_EXISTS, name=name)
    previous_wave = get_wave(session, community, previous) if previous else None
    versions = [
        latest_instrument_version(session, instrument_id, community_id=community.id)
        for instrument_id in dict.fromkeys(instrument_ids)
    ]
    wave = Wave(
        community=community,
        name=name,
        previous=previous_wave,
        retention_days=retention_days,
    )
    session.add(wave)
    for version in versions:
        wave.instruments.append(WaveInstrument(instrument_version=version))
    session.flush()
    return wave


def set_wave_status(wave: Wave, status: str) -> None:
    """Open or close a wave."""
    if status not in ("draft", "open", "closed"):
        raise ValueError(f"unknown wave status {status!r}")
    wave.status = status
    if status == "open" and wave.opened_at is None:
        wave.opened_at = utcnow()
    if status == "closed":
        wave.closed_at = utcnow()


@dataclass(frozen=True)
class SiteRow:
    """One valid row of a sites CSV."""

    code: str
    name: str
    kind: str
    postcodes: str
    population: int | None
    #: Schools: phase ("primary", "secondary"...) and free-school-meal band; "" if absent.
    phase: str = ""
    fsm_band: str = ""


def parse_sites_csv(data: bytes, *, source: str = "sites.csv") -> list[SiteRow]:
    """Parse and check a sites CSV; every bad row is reported, nothing partial returned.

    Columns: ``site_id, name, kind`` (school | area), optional ``postcodes``
    (space-separated postcode prefixes, for areas), ``population``, and for schools
    ``phase`` (primary, secondary...) and ``fsm_band`` (the school record's
    free-school-meal band), which group similar schools.
    """
    table = csv_rows(data, source=source, required=("site_id", "name", "kind"))
    problems: list[str] = []
    rows: list[SiteRow] = []
    seen: set[str] = set()
    for number, row in table:
        code, name, kind = row.get("site_id", ""), row.get("name", ""), row.get("kind", "").lower()

        def bad(column: str, detail: str, number: int = number) -> None:
            problems.append(
                ServiceMessage.CSV_ROW.format(
                    source=source, row=number, column=column, detail=detail
                )
            )

        if not code:
            bad("site_id", "is empty")
        elif code in seen:
            bad("site_id", f"'{code}' appears twice")
        if not name:
            bad("name", "is empty")
        if kind not in SITE_KINDS:
            bad("kind", f"'{kind}' must be school or area")
        population: int | None = None
        if row.get("population"):
            try:
                population = int(row["population"])
                if population < 0:
                    raise ValueError
            except ValueError:
                bad("population", f"'{row['population']}' is not a whole number")
        postcodes = " ".join(p.upper() for p in row.get("postcodes", "").split())
        phase = " ".join(row.get("phase", "").lower().split())
        fsm_band = " ".join(row.get("fsm_band", "").split())
        for column, value in (("phase", phase), ("fsm_band", fsm_band)):
            if len(value) > 20:
                bad(column, f"'{value[:30]}' is longer than 20 characters")
        seen.add(code)
        rows.append(SiteRow(code, name[:200], kind, postcodes, population, phase, fsm_band))
    if problems:
        raise RowErrors(problems)
    if not rows:
        raise ServiceError(ServiceMessage.CSV_EMPTY, source=source)
    return rows


def import_sites(
    session: Session, community: Community, rows: Iterable[SiteRow]
) -> tuple[int, int]:
    """Insert or update sites by ``site_id``; returns (added, updated)."""
    existing = {s.code: s for s in session.scalars(select(Site).where(Site.community == community))}
    added = updated = 0
    for row in rows:
        site = existing.get(row.code)
        if site is None:
            site = Site(community=community, code=row.code)
            session.add(site)
            existing[row.code] = site
            added += 1
        else:
            updated += 1
        site.name, site.kind, site.postcodes = row.name, row.kind, row.postcodes
        if row.population is not None:
            site.population = row.population
        # Optional columns: a file without them leaves what is stored.
        if row.phase:
            site.phase = row.phase
        if row.fsm_band:
            site.fsm_band = row.fsm_band
    session.flush()
    return added, updated


def create_user(
    session: Session,
    *,
    community: Community,
    email: str,
    password: str,
    role: str,
    display_name: str = "",
    site_ids: Iterable[int] = (),
) -> User:
    """A staff account with an argon2id password hash."""
    email = email.strip().lower()
    if role not in ROLES:
        raise ServiceError(ServiceMessage.BAD_ROLE, role=role, roles=", ".join(ROLES))
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise ServiceError(ServiceMessage.EMAIL_TAKEN, email=email)
    user = User(
        community_id=community.id,
        email=email,
        display_name=display_name,
        password_hash=_HASHER.hash(password),
        role=role,
    )
    user.sites = [UserSite(site_id=i) for i in site_ids]
    session.add(user)
    session.flush()
    return user
