"""Retention, erasure by receipt code, and the append-only audit log."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from surveys.models import AuditEntry, Response, utcnow
from surveys.models.audit import AuditLogReadOnly, purge_audit_log
from surveys.models.field import CodedUnit, Coding, Theme
from surveys.receipts import receipt_hash
from surveys.services import latest_instrument_version, store_response
from surveys.services.audit import audit
from surveys.services.erasure import erase_by_receipt, run_retention
from tests.security.conftest import World

PUPIL_ANSWERS = {"year_group": "y6"}


def _pupil_responses(session: Session, world: World, n: int, wave: Any = None) -> list[str]:
    version = latest_instrument_version(session, "pupil_perception")
    ids = []
    for i in range(n):
        stored = store_response(
            session,
            response_id=f"00000000-0000-4000-8000-{i:012d}",
            wave=wave or world.wave,
            version=version,
            channel="import",
            answers={},
            site=world.school_a,
            school_class=world.class_a,
        )
        assert stored.response is not None, stored.validated
        ids.append(stored.response.id)
    session.commit()
    return ids


def _close(session: Session, wave: Any, *, days_ago: int, keep: int | None) -> None:
    wave.status = "closed"
    wave.closed_at = utcnow() - dt.timedelta(days=days_ago)
    wave.retention_days = keep
    session.commit()


def _count(session: Session, wave_id: int) -> int:
    session.commit()  # end the read snapshot, so the CLI's writes are seen
    return session.scalar(select(func.count(Response.id)).where(Response.wave_id == wave_id)) or 0


# --- retention ----------------------------------------------------------------------------


def test_retention_deletes_a_closed_waves_responses_after_its_period(
    session: Session, world: World, make_wave: Any, run_cli: Any, tmp_path: Path
) -> None:
    old = world.wave
    _pupil_responses(session, world, 3)
    theme = world.theme
    session.add(
        CodedUnit(
            coder_id=world.users["coder"].id,
            response_id=world.interview.id,
            item="good_for_children",
        )
    )
    session.commit()
    fresh = make_wave("Autumn 2027")
    kept = _pupil_responses(session, world, 0, wave=fresh)
    assert kept == []
    _close(session, old, days_ago=40, keep=30)
    before = _count(session, old.id)
    assert before == 5  # 3 pupils, the draft and the interview

    dry = run_cli("retention", "run", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"would delete {before} responses" in dry.output
    assert _count(session, old.id) == before

    done = run_cli("retention", "run")
    assert done.exit_code == 0, done.output
    assert f"deleted {before} responses" in done.output
    assert _count(session, old.id) == 0
    assert session.scalar(select(func.count()).select_from(Coding)) == 0
    assert session.scalar(select(func.count()).select_from(CodedUnit)) == 0
    assert session.get(Theme, theme.id) is not None  # the codebook is not personal data
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "retention_delete"))
    assert entry is not None and entry.detail["responses"] == before

    again = run_cli("retention", "run")
    assert "no wave is past its retention period" in again.output


def test_retention_keeps_waves_within_their_period_or_without_one(
    session: Session, world: World
) -> None:
    _pupil_responses(session, world, 2)
    _close(session, world.wave, days_ago=10, keep=30)
    assert run_retention(session) == []
    _close(session, world.wave, days_ago=1000, keep=None)
    assert run_retention(session) == []
    world.wave.status = "open"
    world.wave.retention_days = 0
    session.commit()
    assert run_retention(session) == []
    assert _count(session, world.wave.id) == 4


def test_deleted_data_is_gone_from_exports(
    session: Session, world: World, run_cli: Any, tmp_path: Path
) -> None:
    from webapp.cli import cli

    if "export" not in cli.commands:
        pytest.skip("the export command is not installed")
    _pupil_responses(session, world, 4)
    before = run_cli(
        "export", "--wave", world.wave.name, "--format", "csv", "--out", str(tmp_path / "a")
    )
    assert before.exit_code == 0, before.output
    ids_before = _exported_ids(tmp_path / "a")
    assert "00000000-0000-4000-8000-000000000001" in ids_before
    _close(session, world.wave, days_ago=400, keep=365)
    assert run_cli("retention", "run").exit_code == 0
    after = run_cli(
        "export", "--wave", world.wave.name, "--format", "csv", "--out", str(tmp_path / "b")
    )
    assert after.exit_code in (0, 1), after.output
    assert _exported_ids(tmp_path / "b") == set()


def _exported_ids(folder: Path) -> set[str]:
    found: set[str] = set()
    for path in folder.glob("**/*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                found.update(cell for cell in row if cell.startswith("00000000-0000-4000-8000-"))
    return found


def test_the_database_file_holds_no_trace_of_deleted_answers(
    session: Session, world: World, db_url: str, run_cli: Any
) -> None:
    """After retention, the answer text is not in the SQLite file or its WAL at all."""
    if not db_url.startswith("sqlite"):
        pytest.skip("checks the SQLite file itself")
    secret = "Zebra-Unique-Phrase-4417"
    world.interview.answers = {"good_for_children": secret}
    session.commit()
    _close(session, world.wave, days_ago=40, keep=30)
    session.close()
    assert run_cli("retention", "run").exit_code == 0
    path = Path(db_url.removeprefix("sqlite:///"))
    files = [p for p in path.parent.glob(path.name + "*") if p.is_file()]
    assert path in files
    assert all(secret.encode() not in p.read_bytes() for p in files)


# --- erasure --------------------------------------------------------------------------------


def test_erasure_by_receipt_code_deletes_one_response(
    session: Session, world: World, run_cli: Any
) -> None:
    ids = _pupil_responses(session, world, 2)
    target = session.get(Response, ids[0])
    target.receipt_hash = receipt_hash("ABCD-EFGH-JKMN")
    session.commit()
    result = run_cli("erase", "abcd efgh jkmn")
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert session.get(Response, ids[0]) is None
    assert session.get(Response, ids[1]) is not None
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "erasure"))
    assert entry is not None and ids[0] not in str(entry.detail) and entry.object_id == ""
    again = run_cli("erase", "ABCD-EFGH-JKMN")
    assert again.exit_code == 1
    assert "no response has that receipt code" in again.output


def test_erasure_of_an_interview_removes_its_codings_and_marks_consent_withdrawn(
    session: Session, world: World
) -> None:
    world.interview.receipt_hash = receipt_hash("WXYZ-2345-6789")
    session.commit()
    assert erase_by_receipt(session, receipt_code="wxyz-2345-6789")
    session.commit()
    assert session.get(Response, world.interview.id) is None
    assert session.scalar(select(func.count()).select_from(Coding)) == 0
    assert not erase_by_receipt(session, receipt_code="")
    assert not erase_by_receipt(session, receipt_code="----")


def test_one_receipt_hash_for_every_channel() -> None:
    """The field channel issues receipt codes with the same hash erasure looks up."""
    from surveys.services import field

    code = field.new_receipt_code()
    assert field.hash_receipt(code) == receipt_hash(code) == receipt_hash(code.lower())


# --- audit log --------------------------------------------------------------------------------


def test_audit_entries_cannot_be_changed_or_deleted(session: Session, world: World) -> None:
    entry = audit(session, world.users["admin"], "export", "wave", world.wave.id, format="csv")
    session.commit()
    entry.action = "nothing"
    with pytest.raises(AuditLogReadOnly):
        session.flush()
    session.rollback()
    session.delete(session.get(AuditEntry, entry.id))
    with pytest.raises(AuditLogReadOnly):
        session.flush()
    session.rollback()
    with pytest.raises(AuditLogReadOnly):
        session.execute(update(AuditEntry).values(action="x"))
    session.rollback()
    with pytest.raises(AuditLogReadOnly):
        session.execute(delete(AuditEntry))
    session.rollback()
    stored = session.get(AuditEntry, entry.id)
    assert stored is not None and stored.action == "export" and stored.detail == {"format": "csv"}


def test_only_the_logs_own_retention_deletes_old_entries(session: Session, world: World) -> None:
    old = audit(session, None, "login", "user", 1)
    old_id = old.id if old.id else None
    session.flush()
    old_id = old.id
    session.execute(  # simulate an old entry through the retention path's own option
        update(AuditEntry.__table__)
        .where(AuditEntry.__table__.c.id == old_id)
        .values(at=utcnow() - dt.timedelta(days=800))
    )
    new = audit(session, None, "login", "user", 2)
    session.commit()
    assert purge_audit_log(session, before=utcnow() - dt.timedelta(days=730)) == 1
    session.commit()
    session.expire_all()
    assert session.get(AuditEntry, old_id) is None
    assert session.get(AuditEntry, new.id) is not None


def test_audit_page_lists_entries_and_offers_no_way_to_change_them(
    app: Any, world: World, client_as: Any, session: Session
) -> None:
    audit(
        session,
        world.users["admin"],
        "pack_download",
        "site",
        world.school_a.id,
        wave="Spring 2027",
    )
    session.commit()
    client = client_as("admin")
    page = client.get("/audit/").get_data(as_text=True)
    assert "pack_download" in page and world.users["admin"].email in page
    assert 'action="/audit' not in page.replace('action="/audit/"', "")  # GET filter only
    assert page.lower().count('method="post"') == 1  # just the sign-out button
    assert client.get("/audit/?action=pack_download").status_code == 200
    assert "Enter the date as YYYY-MM-DD" in client.get("/audit/?since=yesterday").get_data(
        as_text=True
    )
    assert client.post("/audit/").status_code == 405
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("audit.")]
    assert all(r.methods <= {"GET", "HEAD", "OPTIONS"} for r in rules)


def test_sign_ins_are_audited_and_printed_by_the_cli(
    app: Any, world: World, client_as: Any, run_cli: Any
) -> None:
    client_as("admin")
    result = run_cli("audit", "--action", "login")
    assert result.exit_code == 0
    assert world.users["admin"].email in result.output
    as_json = run_cli("audit", "--json", "--since", "2000-01-01")
    assert '"action": "login"' in as_json.output
    bad = run_cli("audit", "--since", "yesterday")
    assert bad.exit_code == 2 and "use YYYY-MM-DD" in bad.output
