"""Results → wave → "Generate all packs": a background run, its progress on the page.

The slow tests start the real background process and poll its run row; the others stand
a fake in for :class:`subprocess.Popen` so that nothing is started.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import exports.pack_runs
from exports.packs import pack_filename
from surveys.models import AuditEntry, Site, Wave, utcnow
from surveys.models.packs import ACTIVE_STATUSES, PackRun
from tests.conftest import PASSWORD
from tests.exports.community import build_community

SMALL = (
    ("S01", "Riverside Primary School", 25),
    ("S02", "Hillcrest Academy", 22),
    ("S03", "Tiny Meadow School", 6),
)


@pytest.fixture
def packs(tmp_path: Path) -> Path:
    return tmp_path / "packs"


@pytest.fixture
def app_config(app_config: dict[str, Any], packs: Path) -> dict[str, Any]:
    return {**app_config, "PACKS_DIR": str(packs), "PACK_JOBS": 1}


@pytest.fixture
def wave(session: Session, community: Any) -> Wave:
    built = build_community(
        session, schools=SMALL, areas=(), previous_wave=False, slug=community.slug
    )
    found = session.scalar(select(Wave).where(Wave.name == built.wave))
    assert found is not None
    return found


@pytest.fixture
def admin(client: Any, login: Any, make_user: Any) -> Any:
    user = make_user("admin")
    login(user)
    return user


@pytest.fixture
def fake_popen(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record what would be started instead of starting it."""
    started: list[dict[str, Any]] = []

    class Process:
        pid = os.getpid()  # alive for as long as the test runs

        def __init__(self, args: list[str], **kwargs: Any) -> None:
            started.append({"args": args, **kwargs})

        def wait(self) -> int:
            return 0

    monkeypatch.setattr(exports.pack_runs.subprocess, "Popen", Process)
    return started


def _runs(session: Session) -> list[PackRun]:
    session.rollback()  # a fresh snapshot: the app and the process write elsewhere
    session.expire_all()
    return list(session.scalars(select(PackRun).order_by(PackRun.id)))


def _wait(session: Session, run_id: int, timeout: float = 120) -> PackRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        session.rollback()
        run = session.get(PackRun, run_id, populate_existing=True)
        assert run is not None
        if run.status not in ACTIVE_STATUSES:
            return run
        time.sleep(0.2)
    pytest.fail(f"run {run_id} did not finish in {timeout} s: {run.status}, {run.done}/{run.total}")


def _active_run(session: Session, wave: Wave, **values: Any) -> PackRun:
    run = PackRun(
        wave_id=wave.id,
        active_wave_id=wave.id,
        status="running",
        token="t",
        failed_sites=[],
        host=socket.gethostname(),
        pid=os.getpid(),
        started_at=utcnow(),
        heartbeat_at=utcnow(),
        total=200,
        done=37,
    )
    for key, value in values.items():
        setattr(run, key, value)
    session.add(run)
    session.commit()
    return run


@pytest.mark.slow
def test_generate_returns_at_once_and_the_process_makes_the_packs(
    client: Any, admin: Any, session: Session, wave: Wave, packs: Path
) -> None:
    reply = client.post(f"/results/{wave.id}/packs")
    assert reply.status_code == 302
    assert reply.headers["Location"].endswith(f"/results/{wave.id}/#packs")
    (run,) = _runs(session)
    assert run.status in ACTIVE_STATUSES and run.pid and run.requested_by == admin.id
    page = client.get(f"/results/{wave.id}/").get_data(as_text=True)
    assert "Generating every pack of the wave in the background" in page
    assert "Generating packs: " in page and "Refresh the page" in page

    run = _wait(session, run.id)
    assert (run.status, run.written, run.notes, run.failed_sites) == ("done", 2, 1, [])
    made = sorted(p.name for p in (packs / f"wave-{wave.id}").glob("*.pdf"))
    assert made == [pack_filename(wave.name, "S01"), pack_filename(wave.name, "S02")]
    page = client.get(f"/results/{wave.id}/").get_data(as_text=True)
    assert "Last generated" in page and ": 2 packs, 0 failed." in page
    assert "Refresh the page" not in page and "(made when first downloaded)" not in page
    pdf = client.get(f"/results/{wave.id}/packs/S01.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "packs_generate"))
    assert entry is not None and entry.user_id == admin.id and entry.detail == {"run": run.id}


@pytest.mark.slow
def test_a_failing_site_is_recorded_and_shown(
    client: Any, admin: Any, session: Session, wave: Wave, packs: Path
) -> None:
    (packs / f"wave-{wave.id}" / pack_filename(wave.name, "S02")).mkdir(parents=True)
    assert client.post(f"/results/{wave.id}/packs").status_code == 302
    run = _wait(session, _runs(session)[-1].id)
    assert run.status == "done" and [f["site"] for f in run.failed_sites] == ["S02"]
    page = client.get(f"/results/{wave.id}/").get_data(as_text=True)
    assert ": 1 pack, 1 failed: S02." in page and "IsADirectoryError" in page


def test_a_second_run_is_refused_while_one_is_running(
    client: Any, admin: Any, session: Session, wave: Wave, fake_popen: list[Any]
) -> None:
    running = _active_run(session, wave)
    page = client.post(f"/results/{wave.id}/packs", follow_redirects=True).get_data(as_text=True)
    assert "already being generated (37 of 200 done)" in page
    assert fake_popen == [] and [r.id for r in _runs(session)] == [running.id]
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "packs_generate")) is None
    assert "Generating packs: 37 of 200 done." in page


@pytest.mark.parametrize("how", ["silent", "process_gone"])
def test_a_stale_run_is_taken_over(
    client: Any, admin: Any, session: Session, wave: Wave, fake_popen: list[Any], how: str
) -> None:
    values: dict[str, Any] = {"heartbeat_at": utcnow() - dt.timedelta(minutes=11)}
    if how == "process_gone":
        values = {"pid": 2**22 + 1}  # above Linux's pid_max: no such process
    stale = _active_run(session, wave, **values)
    page = client.get(f"/results/{wave.id}/").get_data(as_text=True)
    assert "The last run stopped responding." in page
    assert client.post(f"/results/{wave.id}/packs").status_code == 302
    old, new = _runs(session)
    assert old.id == stale.id and (old.status, old.active_wave_id) == ("failed", None)
    assert (new.status, new.active_wave_id, new.pid) == ("queued", wave.id, os.getpid())
    (started,) = fake_popen
    assert started["args"][3:5] == [str(new.id), new.token]
    assert started["start_new_session"] is True
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "packs_generate"))
    assert entry is not None and entry.detail == {"run": new.id, "replaced_run": old.id}


def test_run_state_as_json(client: Any, admin: Any, session: Session, wave: Wave) -> None:
    empty = client.get(f"/results/{wave.id}/packs/run").get_json()
    assert empty["status"] is None and empty["active"] is False
    assert "No packs have been generated" in empty["html"]
    run = _active_run(session, wave)
    reply = client.get(f"/results/{wave.id}/packs/run")
    assert reply.headers["Cache-Control"] == "no-store"
    data = reply.get_json()
    assert (data["status"], data["active"], data["done"], data["total"]) == (
        "running",
        True,
        37,
        200,
    )
    assert "Generating packs: 37 of 200 done." in data["html"]
    run.status, run.active_wave_id, run.finished_at = "failed", None, utcnow()
    run.error = "MemoryError: out of memory"
    session.commit()
    data = client.get(f"/results/{wave.id}/packs/run").get_json()
    assert data["active"] is False and "MemoryError: out of memory" in data["html"]


def test_the_wave_page_without_a_run_and_after_a_run_that_failed(
    client: Any, admin: Any, session: Session, wave: Wave
) -> None:
    page = client.get(f"/results/{wave.id}/").get_data(as_text=True)
    assert "No packs have been generated for this wave yet." in page
    assert 'role="status"' in page and "results-packs.js" in page
    _active_run(session, wave, status="failed", active_wave_id=None, error="ExportError: boom")
    page = client.get(f"/results/{wave.id}/").get_data(as_text=True)
    assert "The last run failed" in page and "ExportError: boom" in page


@pytest.mark.parametrize("role", ["school_staff", "researcher", "coder"])
def test_only_admins_generate_packs(
    client: Any, login: Any, make_user: Any, session: Session, wave: Wave, role: str
) -> None:
    school = session.scalar(select(Site).where(Site.code == "S01"))
    login(make_user(role, sites=(school,) if role == "school_staff" else ()))
    assert client.post(f"/results/{wave.id}/packs").status_code == 403
    assert client.get(f"/results/{wave.id}/packs/run").status_code == 403
    assert _runs(session) == []


def test_generate_needs_csrf(
    app_config: dict[str, Any], make_user: Any, session: Session, wave: Wave, fake_popen: Any
) -> None:
    from webapp import create_app

    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    client = app.test_client()
    user = make_user("admin")
    login_page = client.get("/login").get_data(as_text=True)
    token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert client.post(f"/results/{wave.id}/packs").status_code == 400
    assert _runs(session) == []
    page = client.get(f"/results/{wave.id}/").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post(f"/results/{wave.id}/packs", data={"csrf_token": token}).status_code == 302
    assert len(_runs(session)) == 1 and len(fake_popen) == 1
    app.extensions["placevoice.engine"].dispose()
