"""The core team's set-up screens."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import (
    AccessCode,
    AuditEntry,
    Response,
    SchoolClass,
    Site,
    User,
    UserSite,
    Wave,
)
from surveys.services import store_response

#: Cheap argon2 parameters for test accounts (the product's are deliberately slow).
FAST = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
PASSWORD = "correct horse battery staple"


@pytest.fixture
def fast_user(session: Session, community: Any) -> Any:
    """fast_user(role, sites=()): a staff account whose password checks quickly."""

    def make(role: str, sites: tuple[Site, ...] = ()) -> User:
        user = User(
            community_id=community.id,
            email=f"{role}-{len(sites)}-{id(sites)}@example.org",
            password_hash=FAST.hash(PASSWORD),
            role=role,
            display_name=role.title(),
        )
        user.sites = [UserSite(site_id=s.id) for s in sites]
        session.add(user)
        session.commit()
        return user

    return make


def signed_in(app: Any, user: User) -> Any:
    """A new test client signed in as ``user``."""
    client = app.test_client()
    reply = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert reply.status_code == 302
    return client


def test_admin_pages_need_an_admin(app: Any, client: Any, fast_user: Any) -> None:
    staff = signed_in(app, fast_user("school_staff"))
    admin = signed_in(app, fast_user("admin"))
    for path in ("/admin/", "/admin/waves", "/admin/sites"):
        anonymous = client.get(path)
        assert anonymous.status_code == 302
        assert "/login" in anonymous.headers["Location"]
        assert staff.get(path).status_code == 403
        assert admin.get(path).status_code == 200


@pytest.fixture
def admin_client(app: Any, fast_user: Any) -> Any:
    """A test client signed in as the core team."""
    return signed_in(app, fast_user("admin"))


def test_create_open_and_close_a_wave(admin_client: Any, session: Session, community: Any) -> None:
    reply = admin_client.post(
        "/admin/waves",
        data={"name": "Autumn 2027", "instruments": ["pupil_perception", "resident_baseline"]},
    )
    assert reply.status_code == 302
    wave = session.scalar(select(Wave).where(Wave.name == "Autumn 2027"))
    assert wave is not None
    assert wave.status == "draft"
    assert sorted(i.instrument_version.instrument_id for i in wave.instruments) == [
        "pupil_perception",
        "resident_baseline",
    ]
    admin_client.post(f"/admin/waves/{wave.id}/status", data={"status": "open"})
    session.rollback()
    assert session.get(Wave, wave.id).status == "open"  # type: ignore[union-attr]
    admin_client.post(f"/admin/waves/{wave.id}/status", data={"status": "closed"})
    session.rollback()
    assert session.get(Wave, wave.id).status == "closed"  # type: ignore[union-attr]
    duplicate = admin_client.post(
        "/admin/waves", data={"name": "Autumn 2027", "instruments": ["pupil_perception"]}
    )
    assert "already exists" in duplicate.get_data(as_text=True)
    missing = admin_client.post("/admin/waves", data={"name": "X"}).get_data(as_text=True)
    assert "Choose at least one questionnaire" in missing
    assert 'class="error-summary"' in missing


def test_sites_by_hand_and_by_csv_with_row_errors(
    admin_client: Any, session: Session, community: Any
) -> None:
    reply = admin_client.post(
        "/admin/sites",
        data={"site-code": "S01", "site-name": "Hill Primary", "site-kind": "school"},
    )
    assert reply.status_code == 302
    bad = (
        b"site_id,name,kind,postcodes\nS02,Oak School,school,\n,No id,area,E8\nA1,Pembury,park,E8\n"
    )
    page = admin_client.post(
        "/admin/sites",
        data={"csv-file": (io.BytesIO(bad), "sites.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "row 3, column site_id: is empty" in page
    assert "row 4, column kind" in page
    session.rollback()
    assert session.scalar(select(func.count(Site.id))) == 1  # nothing from the bad file
    good = b"site_id,name,kind,postcodes,population\nS02,Oak School,school,,180\nA1,Pembury,area,E8 E5,900\n"
    reply = admin_client.post(
        "/admin/sites",
        data={"csv-file": (io.BytesIO(good), "sites.csv")},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 302
    session.rollback()
    area = session.scalar(select(Site).where(Site.code == "A1"))
    assert area is not None
    assert area.postcodes == "E8 E5"
    assert area.population == 900


def test_classes_pins_codes_sheet_and_revoke(
    admin_client: Any, session: Session, make_site: Any, make_wave: Any
) -> None:
    wave = make_wave()
    school = make_site("S01", name="Hill Primary")
    area = make_site("A1", kind="area", name="Pembury", postcodes="E8")
    reply = admin_client.post(
        f"/admin/sites/{school.id}",
        data={"name": "6A", "year_group": "6", "size": "28", "pin": "4821"},
    )
    assert reply.status_code == 302
    bad = admin_client.post(
        f"/admin/sites/{school.id}", data={"name": "6B", "year_group": "6", "pin": "12"}
    )
    assert "The PIN must be 4 to 8 digits" in bad.get_data(as_text=True)
    session.rollback()
    cls = session.scalar(select(SchoolClass).where(SchoolClass.name == "6A"))
    assert cls is not None
    assert cls.teacher_pin_hash.startswith("$argon2")
    pupil_version = next(
        i.instrument_version
        for i in wave.instruments
        if i.instrument_version.instrument_id == "pupil_perception"
    )
    resident_version = next(
        i.instrument_version
        for i in wave.instruments
        if i.instrument_version.instrument_id == "resident_baseline"
    )
    admin_client.post(
        f"/admin/waves/{wave.id}/codes",
        data={"site": str(school.id), "instrument": str(pupil_version.id), "kind": "class"},
    )
    admin_client.post(
        f"/admin/waves/{wave.id}/codes",
        data={"site": str(area.id), "instrument": str(resident_version.id), "kind": "area"},
    )
    admin_client.post(
        f"/admin/waves/{wave.id}/codes",
        data={
            "site": str(area.id),
            "instrument": str(resident_version.id),
            "kind": "token",
            "count": "5",
        },
    )
    session.rollback()
    codes = list(session.scalars(select(AccessCode).where(AccessCode.wave_id == wave.id)))
    assert sorted(c.kind for c in codes) == ["area", "class"] + ["token"] * 5
    class_code = next(c for c in codes if c.kind == "class")
    assert class_code.class_id == cls.id
    assert re.fullmatch(r"[ACDEFGHJKMNPQRTWXY34679]{8}", class_code.code)
    sheet = admin_client.get(f"/admin/waves/{wave.id}/sheet/{school.id}").get_data(as_text=True)
    assert f"{class_code.code[:4]}-{class_code.code[4:]}" in sheet
    assert "Class 6A" in sheet
    # issuing again does not make a second code for the same class
    admin_client.post(
        f"/admin/waves/{wave.id}/codes",
        data={"site": str(school.id), "instrument": str(pupil_version.id), "kind": "class"},
    )
    session.rollback()
    assert session.scalar(select(func.count(AccessCode.id)).where(AccessCode.kind == "class")) == 1
    admin_client.post(f"/admin/codes/{class_code.id}/revoke")
    session.rollback()
    assert session.get(AccessCode, class_code.id).revoked  # type: ignore[union-attr]
    assert (
        session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "code_revoke"))
        == 1
    )


def test_wave_page_shows_counts_and_rates(
    admin_client: Any,
    session: Session,
    make_site: Any,
    make_class: Any,
    make_wave: Any,
) -> None:
    wave = make_wave()
    school = make_site("S01", name="Hill Primary", population=10)
    cls = make_class(school, "6A", 6, 5)
    version = wave.instruments[0].instrument_version
    for n in range(2):
        store_response(
            session,
            response_id=f"00000000-0000-4000-8000-00000000000{n}",
            wave=wave,
            version=version,
            channel="class",
            answers={},
            site=school,
            school_class=cls,
        )
    session.add(
        Response(
            wave_id=wave.id,
            instrument_version_id=version.id,
            channel="class",
            site_id=school.id,
            class_id=cls.id,
            status="draft",
        )
    )
    session.commit()
    page = admin_client.get(f"/admin/waves/{wave.id}").get_data(as_text=True)
    assert re.search(r"Hill Primary</a></th><td class=\"num\">3</td><td class=\"num\">2</td>", page)
    assert "20%" in page  # 2 of 10 on roll
    assert "40%" in page  # 2 of 5 in the class


def test_admin_forms_need_a_csrf_token(
    app_config: dict[str, Any], fast_user: Any, community: Any
) -> None:
    from webapp import create_app

    app_config["WTF_CSRF_ENABLED"] = True
    app = create_app(app_config)
    try:
        user = fast_user("admin")
        client = app.test_client()
        login_page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page)
        assert token
        client.post(
            "/login",
            data={
                "email": user.email,
                "password": "correct horse battery staple",
                "csrf_token": token.group(1),
            },
        )
        forged = client.post(
            "/admin/waves", data={"name": "W", "instruments": ["pupil_perception"]}
        )
        assert forged.status_code == 400
        page = client.get("/admin/waves").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token
        ok = client.post(
            "/admin/waves",
            data={"name": "W", "instruments": ["pupil_perception"], "csrf_token": token.group(1)},
        )
        assert ok.status_code == 302
    finally:
        app.extensions["placevoice.engine"].dispose()
