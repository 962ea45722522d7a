"""Correcting mistakes on the command line: delete, move, edit, retire, teacher PINs."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from instruments import load_builtin
from surveys.models import InstrumentVersion, Response, SchoolClass, Site, Wave
from surveys.services import store_response
from surveys.services.drafts import DraftError, check_teacher_pin, find_code

pytestmark = pytest.mark.usefixtures("fast_passwords")


def respond(session: Session, wave: Wave, cls: SchoolClass) -> str:
    version = session.scalar(
        select(InstrumentVersion).where(InstrumentVersion.instrument_id == "pupil_perception")
    )
    item = next(
        i for i in load_builtin("pupil_perception").answerable_items if i.type == "select_one"
    )
    rid = str(uuid.uuid4())
    store_response(
        session,
        response_id=rid,
        wave=wave,
        version=version,
        channel="class",
        answers={item.name: item.choices[0].name},
        site=cls.site,
        school_class=cls,
    )
    session.commit()
    return rid


def _audit(run_cli: Any, action: str) -> list[dict[str, Any]]:
    out = run_cli("audit", "--action", action, "--json").output
    return [json.loads(line) for line in out.splitlines()]


@pytest.fixture
def school(session: Session, make_site: Any, make_class: Any, make_wave: Any) -> Any:
    wave = make_wave()
    s1, s2 = make_site("S1"), make_site("S2")
    return wave, make_class(s1, "6A"), make_class(s2, "6B")


def test_delete_needs_a_reason_and_a_yes_and_is_audited(
    run_cli: Any, session: Session, school: Any
) -> None:
    wave, cls, _ = school
    rid = respond(session, wave, cls)
    assert run_cli("responses", "delete", rid).exit_code == 2  # --reason is required
    result = run_cli("responses", "delete", rid, "--reason", "teacher's test run", input="n\n")
    assert result.exit_code == 1 and "nothing was changed" in result.output
    assert session.get(Response, rid) is not None
    result = run_cli("responses", "delete", rid, "--reason", "teacher's test run", "--yes")
    assert result.exit_code == 0, result.output
    session.rollback()
    session.expire_all()
    assert session.get(Response, rid) is None
    (entry,) = _audit(run_cli, "response_delete")
    assert entry["object_id"] == rid
    assert entry["detail"]["reason"] == "teacher's test run"
    assert entry["detail"]["site"] == "S1"
    result = run_cli("responses", "delete", rid, "--reason", "again", "--yes")
    assert result.exit_code == 1 and "there is no response" in result.output


def test_move_response_to_another_class(run_cli: Any, session: Session, school: Any) -> None:
    wave, cls_a, cls_b = school
    rid = respond(session, wave, cls_a)
    result = run_cli("responses", "move", rid, "--site", "S2", "--class", "6B")
    assert result.exit_code == 0, result.output
    assert "from S1 6A to S2 6B" in result.output
    session.rollback()
    session.expire_all()
    moved = session.get(Response, rid)
    assert (moved.class_id, moved.site_id) == (cls_b.id, cls_b.site_id)
    assert _audit(run_cli, "response_move")[0]["detail"] == {"from": "S1 6A", "to": "S2 6B"}
    result = run_cli("responses", "move", rid, "--site", "S2", "--class", "9Z")
    assert result.exit_code == 1 and "has no class '9Z'" in result.output


def test_retired_class_site_and_wave_leave_code_entry_but_keep_their_data(
    run_cli: Any, session: Session, school: Any, make_code: Any
) -> None:
    wave, cls, _ = school
    rid = respond(session, wave, cls)
    code = make_code(wave, cls.site, cls)
    assert find_code(session, code.code).id == code.id
    for args in (
        ("classes", "retire", "S1", "6A"),
        ("sites", "retire", "S1"),
        ("waves", "retire", "Spring 2027"),
    ):
        result = run_cli(*args, input="n\n")
        assert result.exit_code == 1, args
        result = run_cli(*args, "--yes")
        assert result.exit_code == 0, result.output
        session.rollback()
        session.expire_all()
        with pytest.raises(DraftError, match="withdrawn"):
            find_code(session, code.code)
        assert run_cli(*args, "--undo").exit_code == 0
        session.rollback()
        session.expire_all()
        assert find_code(session, code.code).id == code.id
    run_cli("classes", "retire", "S1", "6A", "--yes")
    session.rollback()
    session.expire_all()
    assert session.get(Response, rid).status == "submitted"  # data stays
    result = run_cli("codes", "issue", "--wave", "Spring 2027", "--site", "S1")
    assert "6A" not in result.output  # no code for a retired class
    run_cli("sites", "retire", "S1", "--yes")
    result = run_cli("codes", "issue", "--wave", "Spring 2027", "--site", "S1")
    assert result.exit_code == 1 and "site 'S1' is retired" in result.output
    actions = [e["action"] for e in _audit(run_cli, "class_retire")]
    assert actions == ["class_retire", "class_retire"]


def test_edit_site_class_and_rename_wave(run_cli: Any, session: Session, school: Any) -> None:
    _wave, cls, _ = school
    result = run_cli("sites", "edit", "S1", "--name", "Hill Primary", "--population", "240")
    assert result.exit_code == 0, result.output
    assert "name School S1 -> Hill Primary" in result.output
    result = run_cli("classes", "edit", "S1", "6A", "--name", "6 Oak", "--year-group", "6")
    assert result.exit_code == 0, result.output
    result = run_cli("classes", "edit", "S1", "6 Oak", "--year-group", "15")
    assert result.exit_code == 1 and "not a year from 1 to 13" in result.output
    assert run_cli("waves", "rename", "Spring 2027", "Spring 2027 (pilot)").exit_code == 0
    session.rollback()
    session.expire_all()
    site = session.scalar(select(Site).where(Site.code == "S1"))
    assert (site.name, site.population) == ("Hill Primary", 240)
    assert session.get(SchoolClass, cls.id).name == "6 Oak"
    assert session.scalar(select(Wave.name)) == "Spring 2027 (pilot)"
    assert _audit(run_cli, "site_edit")[0]["detail"] == {"fields": "name, population"}
    assert _audit(run_cli, "wave_rename")[0]["detail"]["to"] == "Spring 2027 (pilot)"


def test_teacher_pins_in_bulk(run_cli: Any, session: Session, school: Any, tmp_path: Path) -> None:
    _wave, cls_a, cls_b = school
    bad = tmp_path / "pins.csv"
    bad.write_text("site_id,class,pin\nS1,6A,12\nS9,6A,1234\nS2,6B,4321\n")
    result = run_cli("classes", "pins", str(bad))
    assert result.exit_code == 1
    assert "pins.csv: row 2, column pin: use 4 to 8 digits" in result.output
    assert "pins.csv: row 3, column class: there is no site 'S9'" in result.output
    session.rollback()
    session.expire_all()
    assert session.get(SchoolClass, cls_b.id).teacher_pin_hash == ""  # all or nothing
    good = tmp_path / "good.csv"
    good.write_text("site_id,class,pin\nS1,6A,1234\nS2,6B,4321\n")
    assert run_cli("classes", "pins", str(good)).exit_code == 0
    session.rollback()
    session.expire_all()
    assert check_teacher_pin(session.get(SchoolClass, cls_a.id), "1234")
    assert check_teacher_pin(session.get(SchoolClass, cls_b.id), "4321")
    assert _audit(run_cli, "class_pins")[0]["detail"] == {"count": 2}

    imported = tmp_path / "classes.csv"
    imported.write_text("site_id,class,year_group,size,pin\nS1,6A,6,28,9876\nS1,5C,5,25,\n")
    result = run_cli("classes", "import", str(imported))
    assert result.exit_code == 0, result.output
    assert "1 teacher PINs set" in result.output
    session.rollback()
    session.expire_all()
    assert check_teacher_pin(session.get(SchoolClass, cls_a.id), "9876")
    assert session.scalar(select(func.count(SchoolClass.id))) == 3
    imported.write_text("site_id,class,year_group,pin\nS1,6A,6,98x6\n")
    result = run_cli("classes", "import", str(imported))
    assert result.exit_code == 1 and "row 2, column pin" in result.output
