"""Write the demo community into a database: sites, classes, waves, accounts, codes, responses.

:func:`build_demo` runs inside the caller's session and transaction (the caller commits),
so a failure leaves nothing behind. Responses are validated one by one and inserted in
bulk. The same seed gives the same response ids, answers and timestamps; access codes
and password hashes are random, as in real use.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from instruments.model import Instrument
from surveys.data_models import PopulationMargin
from surveys.field_models import FieldInterview
from surveys.models import (
    AccessCode,
    AuditEntry,
    Community,
    Response,
    SchoolClass,
    Site,
    User,
    UserSite,
    Wave,
)
from surveys.services import (
    answers_hash,
    create_wave,
    ensure_builtin_instruments,
    instrument_of,
    issue_code,
)
from surveys.services.drafts import WORDS_A, WORDS_B
from surveys.services.field import assign_researcher, record_interview, review_interview
from surveys.services.setup import password_hasher
from webapp.demo import people
from webapp.demo.answers import Simulator
from webapp.demo.spec import (
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
from webapp.demo.summary import DemoSummary, summarise
from webapp.demo.texts import interview_texts, pupil_texts

__all__ = ["DemoError", "DemoResult", "build_demo", "demo_exists"]

#: Namespace of the demo's response ids (uuid5 of seed, wave, site and position).
DEMO_NAMESPACE = uuid.UUID("6f1c9c1e-3d1a-5b7e-9a55-7269766572ab")
CHUNK = 1000
PUPIL_INSTRUMENT = "pupil_perception"
RESIDENT_INSTRUMENT = "resident_baseline"
INTERVIEW_INSTRUMENT = "peer_interview"
#: In-progress pupil drafts in the open wave.
DRAFTS = 12
#: Peer interviews where the person said no (kept so refusals can be counted).
REFUSALS = 2


class DemoError(ValueError):
    """The demo cannot be built in this database (it holds another community)."""


@dataclass(frozen=True)
class DemoResult:
    """What :func:`build_demo` did."""

    built: bool
    seed: int | None
    summary: DemoSummary


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
) -> DemoResult:
    """Build the demo community in ``session`` unless it is already there.

    Raises :class:`DemoError` when the database holds another community (placevoice
    serves one community per database).
    """
    step = on_step or (lambda _label: None)
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
    community = builder.run()
    return DemoResult(True, seed, summarise(session, community))


def _at(day: str, offset_days: int, seconds: float) -> dt.datetime:
    """A fixed UTC time: ``offset_days`` school days after ``day``, plus ``seconds``."""
    start = dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)
    weeks, weekday = divmod(offset_days, 5)
    return start + dt.timedelta(days=7 * weeks + weekday, seconds=float(seconds))


class _Builder:
    def __init__(self, session: Session, seed: int, step: Callable[[str], None]) -> None:
        self.session = session
        self.seed = seed
        self.step = step
        self.rows: list[dict[str, Any]] = []
        self.code_uses: Counter[int] = Counter()

    def rng(self, *parts: int) -> np.random.Generator:
        """An independent generator for one part of the demo (stable if others change)."""
        return np.random.default_rng([self.seed, *parts])

    def uid(self, *parts: object) -> str:
        return str(uuid.uuid5(DEMO_NAMESPACE, "/".join(str(p) for p in (self.seed, *parts))))

    # --- structure ---------------------------------------------------------------------

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

        self.step("waves and accounts")
        ids = (PUPIL_INSTRUMENT, RESIDENT_INSTRUMENT, INTERVIEW_INSTRUMENT)
        waves: list[tuple[Wave, WaveSpec]] = []
        for wave_spec in (PREVIOUS_WAVE, CURRENT_WAVE):
            wave = create_wave(
                session,
                community=community,
                name=wave_spec.name,
                instrument_ids=ids,
                previous=wave_spec.previous,
            )
            start = _at(wave_spec.start, 0, 0)
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

        self.step("access codes")
        current = waves[-1][0]
        self.class_codes = self._issue_codes(current)

        for index, (wave, wave_spec) in enumerate(waves):
            self.step(f"pupil responses, {wave_spec.name}")
            self._pupils(wave, wave_spec, index)
            self.step(f"resident responses, {wave_spec.name}")
            self._residents(wave, wave_spec, index)
        self.step("peer interviews and drafts")
        self._interviews(current, CURRENT_WAVE)
        self._drafts(current, CURRENT_WAVE)
        self._flush_rows()
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

    def _add(
        self,
        *,
        response_id: str,
        wave: Wave,
        instrument_id: str,
        answers: dict[str, Any],
        site: Site,
        channel: str,
        started: dt.datetime,
        submitted: dt.datetime | None,
        status: str = "submitted",
        school_class: SchoolClass | None = None,
        language: str = "en",
        code: AccessCode | None = None,
        researcher_id: int | None = None,
        resume_word: str | None = None,
    ) -> None:
        version = self.versions[instrument_id]
        class_id = school_class.id if school_class is not None else None
        digest = ""
        if status != "draft":
            digest = answers_hash(
                {
                    "answers": answers,
                    "wave": wave.id,
                    "version": version.id,
                    "site": site.id,
                    "class": class_id,
                }
            )
        self.rows.append(
            {
                "id": response_id,
                "wave_id": wave.id,
                "site_id": site.id,
                "class_id": class_id,
                "instrument_version_id": version.id,
                "channel": channel,
                "status": status,
                "language": language,
                "answers": answers,
                "content_hash": digest,
                "access_code_id": code.id if code is not None else None,
                "researcher_id": researcher_id,
                "resume_word": resume_word,
                "started_at": started,
                "updated_at": submitted or started,
                "submitted_at": submitted,
            }
        )
        if code is not None:
            self.code_uses[code.id] += 1
        if len(self.rows) >= CHUNK:
            self._flush_rows()

    def _flush_rows(self) -> None:
        if self.rows:
            self.session.execute(insert(Response), self.rows)
            self.rows = []

    def _languages(self, rng: np.random.Generator, instrument: Instrument, n: int) -> list[str]:
        others = [code for code in instrument.languages if code != instrument.default_language]
        result = []
        for _ in range(n):
            if others and rng.random() < 0.08:
                result.append(others[int(rng.integers(len(others)))])
            else:
                result.append(instrument.default_language)
        return result

    def _pupils(self, wave: Wave, spec: WaveSpec, wave_index: int) -> None:
        instrument = self.instruments[PUPIL_INSTRUMENT]
        simulator = Simulator(instrument)
        current = spec is CURRENT_WAVE
        pii_done = 0
        for school_index, school in enumerate(SCHOOLS):
            rate = school.response_rate - (0.0 if current else 0.02)
            for class_index, cls in enumerate(school.classes):
                rng = self.rng(1, wave_index, school_index, class_index)
                n = int(rng.binomial(cls.size, rate))
                latent, fixed = people.pupils(
                    rng, instrument, school, cls.year_group, n, current=current
                )
                pii = {0: pii_done} if current and class_index == 1 and pii_done < 2 else {}
                pii_done += len(pii)
                texts = {"area_better": pupil_texts(pii_rows=pii)}
                answers = simulator.answers(rng, n, latent=latent, fixed=fixed, texts=texts)
                day = int(rng.integers(0, 25))
                lesson = 9 * 3600 + int(rng.integers(0, 6)) * 3600
                languages = self._languages(rng, instrument, n)
                code = self.class_codes.get((school.code, cls.name)) if current else None
                for i, row in enumerate(answers):
                    started = _at(spec.start, day, lesson + rng.uniform(0, 300))
                    took = dt.timedelta(seconds=float(rng.uniform(360, 1300)))
                    self._add(
                        response_id=self.uid(wave.name, school.code, cls.name, i),
                        wave=wave,
                        instrument_id=PUPIL_INSTRUMENT,
                        answers=row,
                        site=self.schools[school.code],
                        school_class=self.classes[(school.code, cls.name)],
                        channel="class",
                        started=started,
                        submitted=started + took,
                        language=languages[i],
                        code=code,
                    )

    def _residents(self, wave: Wave, spec: WaveSpec, wave_index: int) -> None:
        instrument = self.instruments[RESIDENT_INSTRUMENT]
        simulator = Simulator(instrument)
        current = spec is CURRENT_WAVE
        for area_index, area in enumerate(AREAS):
            rng = self.rng(2, wave_index, area_index)
            n = round(area.residents * (1.0 if current else 0.95))
            latent, fixed = people.residents(rng, instrument, area, n)
            answers = simulator.answers(
                rng, n, latent=latent, fixed=fixed, skip_rate=0.035, missing_rate=0.05
            )
            languages = self._languages(rng, instrument, n)
            code = self.class_codes.get((area.code, "")) if current else None
            for i, row in enumerate(answers):
                web = rng.random() < 0.8
                started = _at(
                    spec.start, int(rng.integers(0, 25)), rng.uniform(8 * 3600, 21 * 3600)
                )
                took = dt.timedelta(seconds=float(rng.uniform(420, 1500)))
                self._add(
                    response_id=self.uid(wave.name, area.code, "resident", i),
                    wave=wave,
                    instrument_id=RESIDENT_INSTRUMENT,
                    answers=row,
                    site=self.areas[area.code],
                    channel="web" if web else "import",
                    started=started,
                    submitted=started + took,
                    language=languages[i],
                    code=code if web else None,
                )

    def _interviews(self, wave: Wave, spec: WaveSpec) -> None:
        """Peer interviews through the field service, as field mode would send them."""
        instrument = self.instruments[INTERVIEW_INSTRUMENT]
        version = self.versions[INTERVIEW_INSTRUMENT]
        simulator = Simulator(instrument)
        admin = self.users[USERS[0].email]
        researchers = {
            code: self.users[user.email]
            for user in USERS
            if user.role == "researcher"
            for code in user.sites
        }
        for code, user in researchers.items():
            assign_researcher(
                self.session,
                actor_id=admin.id,
                user=user,
                wave=wave,
                site=self.areas[code],
                instrument_id=INTERVIEW_INSTRUMENT,
            )
        pii_next = 0
        for area_index, area in enumerate(AREAS):
            rng = self.rng(3, area_index)
            refused = REFUSALS if area_index == 0 else 0
            n = area.interviews + refused
            latent, _fixed = people.residents(rng, instrument, area, n, with_demographics=False)
            under16 = rng.random(n) < 0.08
            fixed: dict[str, list[Any]] = {
                "area": [area.name] * n,
                "consent": ["no" if i < refused else "yes" for i in range(n)],
                "respondent_under16": ["yes" if u else "no" for u in under16],
                "parent_consent": ["yes"] * n,
            }
            fixed = {k: v for k, v in fixed.items() if instrument.has_item(k)}
            pii_rows: dict[int, int] = {}
            if area_index < 4:
                pii_rows[refused + 1] = pii_next
                pii_next += 1
            answers = simulator.answers(
                rng,
                n,
                latent=latent,
                fixed=fixed,
                texts=interview_texts(pii_rows),
                skip_rate=0.02,
                missing_rate=0.03,
                breakoff_rate=0.0,
            )
            researcher = researchers[area.code]
            for i, row in enumerate(answers):
                started = _at(
                    spec.start, int(rng.integers(3, 25)), rng.uniform(10 * 3600, 19 * 3600)
                )
                saved = started + dt.timedelta(seconds=float(rng.uniform(900, 2100)))
                approve = rng.random() < 0.6
                response_id = self.uid(wave.name, area.code, "interview", i)
                received = record_interview(
                    self.session,
                    researcher_id=researcher.id,
                    response_id=response_id,
                    wave=wave,
                    site=self.areas[area.code],
                    version=version,
                    answers=row,
                    channel="field",
                    device_id=f"demo-device-{researcher.id}",
                    started_at=started,
                    saved_at=saved,
                )
                if received.outcome != "created":
                    continue
                action = "flag" if i in pii_rows else "approve" if approve else ""
                if action:
                    review_interview(
                        self.session,
                        reviewer_id=admin.id,
                        community_id=wave.community_id,
                        response_id=response_id,
                        action=action,
                        note="contains personal details" if action == "flag" else "",
                    )
                    reviewed = saved + dt.timedelta(days=2)
                    meta = self.session.get(FieldInterview, response_id)
                    if meta is not None:
                        meta.reviewed_at = reviewed
                    response = self.session.get(Response, response_id)
                    if response is not None:
                        response.updated_at = reviewed

    def _drafts(self, wave: Wave, spec: WaveSpec) -> None:
        instrument = self.instruments[PUPIL_INSTRUMENT]
        simulator = Simulator(instrument)
        rng = self.rng(4)
        school = next(s for s in SCHOOLS if s.code == "S12")
        cls = school.classes[-1]
        latent, fixed = people.pupils(rng, instrument, school, cls.year_group, DRAFTS, current=True)
        answers = simulator.answers(rng, DRAFTS, latent=latent, fixed=fixed)
        for i, row in enumerate(answers):
            keep = int(rng.integers(3, 14))
            partial = simulator.validated(dict(list(row.items())[:keep]))
            word = f"{WORDS_A[int(rng.integers(len(WORDS_A)))]}-"
            word += f"{WORDS_B[int(rng.integers(len(WORDS_B)))]}-{10 + i}"
            started = _at(spec.start, 24, 14 * 3600 + rng.uniform(0, 600))
            self._add(
                response_id=self.uid(wave.name, school.code, cls.name, "draft", i),
                wave=wave,
                instrument_id=PUPIL_INSTRUMENT,
                answers=partial,
                site=self.schools[school.code],
                school_class=self.classes[(school.code, cls.name)],
                channel="class",
                status="draft",
                started=started,
                submitted=None,
                code=self.class_codes.get((school.code, cls.name)),
                resume_word=word,
            )
