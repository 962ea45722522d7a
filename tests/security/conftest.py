"""Fixtures for the security tests: a small world of two schools, an area and every role.

Password hashing uses cheap argon2 parameters here so that signing in as six roles per
test stays fast; the production parameters are tested in tests/webapp.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy.orm import Session

from surveys.models import AccessCode, Response, SchoolClass, Site, User, Wave
from surveys.models.field import Coding, ResearcherAssignment, Theme
from surveys.services import latest_instrument_version
from surveys.services.drafts import start_draft
from tests.conftest import PASSWORD

#: Every role the matrix checks; "school_staff" is split into own/other school.
ROLES = ("anonymous", "admin", "staff_own", "staff_other", "researcher", "coder")


@pytest.fixture(autouse=True)
def _cheap_password_hashes(fast_passwords: None) -> None:
    """Every security test signs accounts in: cheap hashes (tests/conftest.py)."""


@dataclass
class World:
    """Objects of school A (the "own" school), school B, an area, and one user per role."""

    wave: Wave
    school_a: Site
    school_b: Site
    area: Site
    class_a: SchoolClass
    class_b: SchoolClass
    code_a: AccessCode
    code_b: AccessCode
    area_code: AccessCode
    draft: Response
    interview: Response
    assignment: ResearcherAssignment
    theme: Theme
    coding: Coding
    users: dict[str, User] = field(default_factory=dict)

    def params(self) -> dict[str, Any]:
        """A value for every URL variable in the route table (objects of school A)."""
        return {
            "site_id": self.school_a.id,
            "class_id": self.class_a.id,
            "wave_id": self.wave.id,
            "wave": self.wave.name,
            "code_id": self.code_a.id,
            "code": self.area_code.code,
            "rid": self.draft.id,
            "key": "1",
            "response_id": self.interview.id,
            "assignment_id": self.assignment.id,
            "filename": "site.css",
            "version_id": self.interview.instrument_version_id,
            "theme_id": self.theme.id,
            "coding_id": self.coding.id,
            "item": "good_for_children",
            "site_code": self.school_a.code,
            "domain": "belonging",
            "fmt": "csv",
            "instrument": "pupil_perception",
        }


@pytest.fixture
def world(
    session: Session,
    make_site: Callable[..., Site],
    make_class: Callable[..., SchoolClass],
    make_wave: Callable[..., Wave],
    make_user: Callable[..., User],
    make_code: Callable[..., AccessCode],
) -> World:
    wave = make_wave()
    school_a, school_b = make_site("SA"), make_site("SB")
    area = make_site("AX", kind="area", postcodes="E8 1")
    class_a, class_b = make_class(school_a, "6A"), make_class(school_b, "6B")
    code_a, code_b = make_code(wave, school_a, class_a), make_code(wave, school_b, class_b)
    area_code = make_code(wave, area, kind="area", instrument="resident_baseline")
    draft = start_draft(session, code=code_a)
    users = {
        "admin": make_user("admin"),
        "staff_own": make_user("school_staff", sites=(school_a,)),
        "staff_other": make_user("school_staff", sites=(school_b,)),
        "researcher": make_user("researcher", sites=(area,)),
        "coder": make_user("coder"),
    }
    other_researcher = make_user("researcher", sites=(area,))
    assignment = ResearcherAssignment(
        user_id=users["researcher"].id,
        wave_id=wave.id,
        site_id=area.id,
        instrument_id="peer_interview",
    )
    session.add(assignment)
    version = latest_instrument_version(session, "peer_interview")
    # An interview by another researcher: the matrix's researcher must not see it.
    interview = Response(
        wave_id=wave.id,
        site_id=area.id,
        instrument_version_id=version.id,
        channel="field",
        status="approved",
        answers={"good_for_children": "The park by the library, and the youth club."},
        researcher_id=other_researcher.id,
    )
    session.add(interview)
    session.flush()
    theme = Theme(community_id=wave.community_id, name="Places to play")
    session.add(theme)
    session.flush()
    coding = Coding(
        coder_id=users["coder"].id,
        response_id=interview.id,
        item="good_for_children",
        theme_id=theme.id,
    )
    session.add(coding)
    session.commit()
    return World(
        wave,
        school_a,
        school_b,
        area,
        class_a,
        class_b,
        code_a,
        code_b,
        area_code,
        draft,
        interview,
        assignment,
        theme,
        coding,
        users,
    )


@pytest.fixture
def client_as(app: Any, world: World) -> Iterator[Callable[[str], Any]]:
    """client_as(role): a fresh test client signed in as that role (or anonymous)."""

    def make(role: str) -> Any:
        client = app.test_client()
        if role != "anonymous":
            reply = client.post(
                "/login", data={"email": world.users[role].email, "password": PASSWORD}
            )
            assert reply.status_code == 302, reply.data[:300]
        return client

    yield make
