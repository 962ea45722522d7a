"""Write the demo community into a database: sites, classes, waves, accounts, codes, responses.

:func:`build_demo` runs inside the caller's session and transaction (the caller commits),
so a failure leaves nothing behind. Responses are validated one by one and inserted in
bulk. The same seed gives the same response ids, answers and timestamps; access codes
and password hashes are random, as in real use.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from instruments.model import Instrument
from surveys.demo.coding import code_pupil_answers
from surveys.demo.panel import DEMO_CODE_SECRET, DemoPanel, PanelCheck, plant_panel
from surveys.demo.partnership import add_partnership
from surveys.demo.responses import (
    INTERVIEW_INSTRUMENT,
    PARTNERSHIP_INSTRUMENT,
    PUPIL_INSTRUMENT,
    RESIDENT_INSTRUMENT,
    ResponseWriter,
    fixed_time,
)
from surveys.demo.spec import (
    AREAS,
    COMMUNITY_NAME,
    COMMUNITY_SLUG,
    CURRENT_WAVE,
    DEFAULT_SEED,
    DEMO_PASSWORD,
    DEMO_PIN,
    PREVIOUS_WAVE,
    SCHOOLS,
    USERS,
    WaveSpec,
    demo_margins,
)
from surveys.demo.summary import DemoSummary, summarise
from surveys.models import (
    AccessCode,
    AuditEntry,
    Community,
    SchoolClass,
    Site,
    User,
    UserSite,
    Wave,
)
from surveys.models.margins import PopulationMargin
from surveys.services import (
    create_wave,
    ensure_builtin_instruments,
    instrument_of,
    issue_code,
)
from surveys.services.boundaries import read_boundaries, store_boundaries, synthetic_boundaries
from surveys.services.setup import password_hasher

__all__ = ["DemoError", "DemoResult", "build_demo", "demo_exists"]


class DemoError(ValueError):
    """The demo cannot be built in this database (it holds another community)."""


@dataclass(frozen=True)
class DemoResult:
    """What :func:`build_demo` did."""

    built: bool
    seed: int | None
    summary: DemoSummary
    #: The planted panel checked against the links made (only when built now).
    panel: PanelCheck | None = None


def demo_exists(session: Session) -> Community | None:
    """The demo community, if this database already has it."""
    return session.scalar(select(Community).where(Community.slug == COMMUNITY_SLUG))


def _built_seed(session: Session, community: Community) -> int | None:
    entry = session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "demo_built", AuditEntry.object_id == str(community.id))
        .limit(1)
    )
    seed = entry.detail.get("seed") if entry is not None else None
    return int(seed) if isinstance(seed, int) else None


def build_demo(
    session: Session,
    *,
    seed: int = DEFAULT_SEED,
    on_step: Callable[[str], None] | None = None,
    code_secret: str | None = None,
) -> DemoResult:
    """Build the demo community in ``session`` unless it is already there.

    Pupils' identification codes are stored under a key derived from ``code_secret``
    (the app's secret key; a fixed demo value when not given).

    Raises :class:`DemoError` when the database holds another community (placevoice
    serves one community per database).
    """
    step = on_step or (lambda _label: None)
    secret = code_secret or DEMO_CODE_SECRET
    existing = demo_exists(session)
    if existing is not None:
        return DemoResult(False, _built_seed(session, existing), summarise(session, existing))
    other = session.scalar(select(Community).order_by(Community.id).limit(1))
    if other is not None:
        raise DemoError(
            f"the database already holds the community '{other.name}'; build the demo in a"
            " new database, e.g. --db sqlite:///demo.db"
        )
    builder = _Builder(session, seed, step)
    builder.code_secret = secret
    community = builder.run()
    return DemoResult(True, seed, summarise(session, community), builder.panel_check)


class _Builder(ResponseWriter):
    def __init__(self, session: Session, seed: int, step: Callable[[str], None]) -> None:
        self.session = session
        self.seed = seed
        self.step = step
        self.rows: list[dict[str, Any]] = []
        self.code_uses: Counter[int] = Counter()
        self.code_secret = DEMO_CODE_SECRET
        self.panel_check: PanelCheck | None = None

    def run(self) -> Community:
        session = self.session
        self.step("community, sites and classes")
        community = Community(slug=COMMUNITY_SLUG, name=COMMUNITY_NAME)
        session.add(community)
        session.flush()
        ensure_builtin_instruments(session)
        pin_hash = password_hasher().hash(DEMO_PIN)
        self.schools: dict[str, Site] = {}
        self.classes: dict[tuple[str, str], SchoolClass] = {}
        for school in SCHOOLS:
            site = Site(
                community=community,
                code=school.code,
                name=school.name,
                kind="school",
                population=school.population,
                phase=school.phase,
            )
            session.add(site)
            self.schools[school.code] = site
            for cls in school.classes:
                row = SchoolClass(
                    site=site,
                    name=cls.name,
                    year_group=cls.year_group,
                    size=cls.size,
                    teacher_pin_hash=pin_hash,
                )
                session.add(row)
                self.classes[(school.code, cls.name)] = row
        self.areas: dict[str, Site] = {}
        for area in AREAS:
            site = Site(
                community=community,
                code=area.code,
                name=area.name,
                kind="area",
                postcodes=" ".join(area.postcodes),
                population=area.households,
            )
            session.add(site)
            self.areas[area.code] = site
        session.add_all(
            PopulationMargin(
                community_id=community.id,
                area=str(row["area"]),
                variable=str(row["variable"]),
                category=str(row["category"]),
                proportion=float(row["proportion"]),  # type: ignore[arg-type]
            )
            for row in demo_margins()
        )
        session.flush()
        # Made-up neighbouring boundaries, stored the way an uploaded file is.
        shapes = synthetic_boundaries([a.code for a in AREAS], seed=self.seed)
        store_boundaries(
            session, community.id, read_boundaries(session, community.id, json.dumps(shapes))
        )

        self.step("waves and accounts")
        ids = (PUPIL_INSTRUMENT, RESIDENT_INSTRUMENT, INTERVIEW_INSTRUMENT, PARTNERSHIP_INSTRUMENT)
        waves: list[tuple[Wave, WaveSpec]] = []
        for wave_spec in (PREVIOUS_WAVE, CURRENT_WAVE):
            wave = create_wave(
                session,
                community=community,
                name=wave_spec.name,
                instrument_ids=ids,
                previous=wave_spec.previous,
            )
            start = fixed_time(wave_spec.start, 0, 0)
            wave.status = wave_spec.status
            wave.created_at = start - dt.timedelta(days=21)
            wave.opened_at = start - dt.timedelta(days=7)
            wave.closed_at = start + dt.timedelta(days=40) if wave_spec.status == "closed" else None
            waves.append((wave, wave_spec))
        session.flush()
        self.versions = {
            link.instrument_version.instrument_id: link.instrument_version
            for link in waves[-1][0].instruments
        }
        self.instruments: dict[str, Instrument] = {
            key: instrument_of(version) for key, version in self.versions.items()
        }
        # One argon2 hash for every demo account (they share the published demo password):
        # hashing is deliberately slow, and the accounts are fixed.
        password_hash = password_hasher().hash(DEMO_PASSWORD)
        self.users: dict[str, User] = {}
        sites = {**self.schools, **self.areas}
        for spec_user in USERS:
            user = User(
                community_id=community.id,
                email=spec_user.email,
                display_name=spec_user.name,
                password_hash=password_hash,
                role=spec_user.role,
            )
            user.sites = [UserSite(site_id=sites[c].id) for c in spec_user.sites]
            session.add(user)
            self.users[spec_user.email] = user
        session.flush()

        self.panel = DemoPanel(self.instruments[PUPIL_INSTRUMENT])
        self.step("access codes")
        current = waves[-1][0]
        self.class_codes = self._issue_codes(current)

        for index, (wave, wave_spec) in enumerate(waves):
            self.step(f"pupil responses, {wave_spec.name}")
            self._pupils(wave, wave_spec, index)
            self.step(f"resident responses, {wave_spec.name}")
            self._residents(wave, wave_spec, index)
        self.step("partner organisations and their partnership responses")
        add_partnership(
            session,
            community=community,
            waves=[wave for wave, _ in waves],
            version=self.versions[PARTNERSHIP_INSTRUMENT],
            seed=self.seed,
            starts=[fixed_time(spec.start, 1, 0) for _, spec in waves],
        )
        self.step("peer interviews and drafts")
        self._interviews(current, CURRENT_WAVE)
        self._drafts(current, CURRENT_WAVE)
        self._flush_rows()
        self.step("panel: codes and links")
        self.panel_check = plant_panel(
            session, community, self.panel, [w for w, _ in waves], self.code_secret
        )
        self.step("coded pupil answers")
        code_pupil_answers(
            session,
            community=community,
            wave=current,
            admin=self.users[USERS[0].email],
            coder=next(self.users[u.email] for u in USERS if u.role == "coder"),
        )
        for code in self.class_codes.values():
            code.uses = self.code_uses[code.id]
        session.add(
            AuditEntry(
                action="demo_built",
                object_type="community",
                object_id=str(community.id),
                detail={"seed": self.seed},
            )
        )
        session.flush()
        return community

    def _issue_codes(self, wave: Wave) -> dict[tuple[str, str], AccessCode]:
        codes: dict[tuple[str, str], AccessCode] = {}
        pupil = self.versions[PUPIL_INSTRUMENT]
        resident = self.versions[RESIDENT_INSTRUMENT]
        for (school, name), cls in self.classes.items():
            codes[(school, name)] = issue_code(
                self.session,
                wave=wave,
                version=pupil,
                kind="class",
                site=self.schools[school],
                school_class=cls,
            )
        for code, site in self.areas.items():
            codes[(code, "")] = issue_code(
                self.session, wave=wave, version=resident, kind="area", site=site
            )
            for _ in range(3):
                issue_code(self.session, wave=wave, version=resident, kind="token", site=site)
        return codes

    # --- responses ---------------------------------------------------------------------
