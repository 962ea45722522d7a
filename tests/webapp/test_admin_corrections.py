"""Correcting mistakes on the core team's screens: confirm pages, audit, retired objects."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.frames import load_responses
from surveys.models import AuditEntry, Response, SchoolClass, Site, Wave
from tests.webapp.test_cli_corrections import respond

pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture
def setup(
    session: Session, make_site: Any, make_class: Any, make_wave: Any, make_user: Any, login: Any
) -> Any:
    wave = make_wave()
    s1, s2 = make_site("S1"), make_site("S2")
    cls_a, cls_b = make_class(s1, "6A"), make_class(s2, "6B")
    rid = respond(session, wave, cls_a)
    login(make_user("admin"))
    return wave, cls_a, cls_b, rid


def _fresh(session: Session) -> None:
    session.rollback()
    session.expire_all()


def _actions(session: Session) -> list[str]:
    return [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_find_then_delete_a_test_run_with_a_reason(
    client: Any, session: Session, setup: Any
) -> None:
    _wave, _a, _b, rid = setup
    page = client.get(f"/admin/responses?id={rid.upper()}").get_data(as_text=True)
    assert rid in page and f"/admin/responses/{rid}/delete" in page
    missing = client.get(f"/admin/responses?id={uuid.uuid4()}").get_data(as_text=True)
    assert "No response of your community has that id" in missing
    confirm = client.get(f"/admin/responses/{rid}/delete").get_data(as_text=True)
    assert "for good" in confirm and 'name="reason"' in confirm
    _fresh(session)
    assert session.get(Response, rid) is not None  # the confirm page changed nothing
    reply = client.post(f"/admin/responses/{rid}/delete", data={"reason": ""})
    assert reply.status_code == 200 and "Say why" in reply.get_data(as_text=True)
    _fresh(session)
    assert session.get(Response, rid) is not None
    reply = client.post(f"/admin/responses/{rid}/delete", data={"reason": "test run"})
    assert reply.status_code == 302
    _fresh(session)
    assert session.get(Response, rid) is None
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "response_delete"))
    assert entry.detail["reason"] == "test run" and entry.object_id == rid
    assert client.get(f"/admin/responses/{rid}/delete").status_code == 404


def test_move_a_response_to_another_class(client: Any, session: Session, setup: Any) -> None:
    _wave, _cls_a, cls_b, rid = setup
    page = client.get(f"/admin/responses/{rid}/move").get_data(as_text=True)
    assert "School S2: 6B" in page
    reply = client.post(f"/admin/responses/{rid}/move", data={"to": str(cls_b.id)})
    assert reply.status_code == 302
    _fresh(session)
    response = session.get(Response, rid)
    assert (response.class_id, response.site_id) == (cls_b.id, cls_b.site_id)
    assert "response_move" in _actions(session)


def test_edit_site_class_and_wave(client: Any, session: Session, setup: Any) -> None:
    wave, cls_a, _b, _rid = setup
    site_id = cls_a.site_id
    assert "School S1" in client.get(f"/admin/sites/{site_id}/edit").get_data(as_text=True)
    client.post(f"/admin/sites/{site_id}/edit", data={"name": "Hill Primary", "population": 90})
    client.post(f"/admin/classes/{cls_a.id}/edit", data={"name": "6 Oak", "year_group": 6})
    reply = client.post(f"/admin/classes/{cls_a.id}/edit", data={"name": "6 Oak", "year_group": 14})
    assert "from 1 to 13" in reply.get_data(as_text=True)
    reply = client.post(f"/admin/waves/{wave.id}/edit", data={"name": "Spring 2027 pilot"})
    assert reply.status_code == 302
    _fresh(session)
    assert session.get(Site, site_id).name == "Hill Primary"
    assert session.get(SchoolClass, cls_a.id).name == "6 Oak"
    assert session.get(Wave, wave.id).name == "Spring 2027 pilot"
    assert {"site_edit", "class_edit", "wave_rename"} <= set(_actions(session))


def test_retire_needs_the_confirm_page_and_keeps_data_in_analysis(
    client: Any, session: Session, setup: Any, make_code: Any
) -> None:
    wave, cls_a, _b, rid = setup
    code = make_code(wave, cls_a.site, cls_a)
    confirm = client.get(f"/admin/classes/{cls_a.id}/retire").get_data(as_text=True)
    assert "keeps every answer" in confirm
    _fresh(session)
    assert session.get(SchoolClass, cls_a.id).retired_at is None
    assert client.post(f"/admin/classes/{cls_a.id}/retire").status_code == 302
    _fresh(session)
    assert session.get(SchoolClass, cls_a.id).retired_at is not None
    # code entry refuses it...
    reply = client.post("/start", data={"code": code.code}, follow_redirects=True)
    assert "withdrawn" in reply.get_data(as_text=True)
    # ...the codes page no longer issues for it...
    page = client.get(f"/admin/sites/{cls_a.site_id}").get_data(as_text=True)
    assert "retired" in page and "Bring back" in page
    # ...and its answers still count
    frame = load_responses(
        session, wave=session.get(Wave, wave.id), instrument_id="pupil_perception"
    )
    assert rid in set(frame["response_id"])
    assert client.post(f"/admin/classes/{cls_a.id}/retire", data={"undo": "1"}).status_code == 302
    _fresh(session)
    assert session.get(SchoolClass, cls_a.id).retired_at is None
    assert _actions(session)[-2:] == ["class_retire", "class_restore"]


def test_retired_sites_and_waves_leave_the_pickers(
    client: Any, session: Session, setup: Any
) -> None:
    wave, cls_a, _b, _rid = setup
    client.post(f"/admin/sites/{cls_a.site_id}/retire")
    client.post(f"/admin/waves/{wave.id}/retire")
    codes = client.get(f"/admin/waves/{wave.id}/codes").get_data(as_text=True)
    assert "School S1 (school)" not in codes and "School S2 (school)" in codes
    waves = client.get("/admin/waves").get_data(as_text=True)
    assert f'value="{wave.name}"' not in waves
