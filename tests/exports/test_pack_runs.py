"""Background pack runs (exports.pack_runs): one active run a wave, stale runs taken over,
the background job's progress, failures and token checks."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from exports.pack_runs import (
    STALE_AFTER,
    RunInProgress,
    is_stale,
    latest_run,
    launch_run,
    process_alive,
    run_job,
    run_processes,
    start_run,
    stop_run_processes,
)
from exports.packs import pack_filename
from surveys.models import Wave, utcnow
from surveys.models.packs import PackRun
from tests.exports.community import build_community

SMALL = (
    ("S01", "Riverside Primary School", 25),
    ("S02", "Hillcrest Academy", 22),
    ("S03", "Tiny Meadow School", 6),
)


@pytest.fixture
def wave(session: Session, make_wave: Any) -> Wave:
    return make_wave()


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_wave_has_one_active_run(session: Session, wave: Wave) -> None:
    run, replaced = start_run(session, wave=wave, actor=None)
    session.commit()
    assert (run.status, run.active_wave_id, replaced) == ("queued", wave.id, None)
    with pytest.raises(RunInProgress) as refused:
        start_run(session, wave=wave, actor=None)
    assert refused.value.run.id == run.id
    assert session.scalars(select(PackRun)).all() == [run]


def test_the_database_refuses_a_second_active_run(session: Session, wave: Wave) -> None:
    """Two app workers reading "no active run" at once: the unique slot stops the second."""
    first, _ = start_run(session, wave=wave, actor=None)
    session.commit()
    session.add(PackRun(wave_id=wave.id, active_wave_id=wave.id, token="x", failed_sites=[]))
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        session.flush()
    session.rollback()
    assert [r.id for r in session.scalars(select(PackRun))] == [first.id]


def test_a_finished_run_does_not_hold_the_wave(session: Session, wave: Wave) -> None:
    first, _ = start_run(session, wave=wave, actor=None)
    first.status, first.active_wave_id = "done", None
    session.commit()
    second, replaced = start_run(session, wave=wave, actor=None)
    session.commit()
    assert replaced is None and latest_run(session, wave.id) == second


@pytest.mark.parametrize("how", ["silent", "process_gone"])
def test_a_stale_run_is_taken_over(session: Session, wave: Wave, how: str) -> None:
    old, _ = start_run(session, wave=wave, actor=None)
    old.status = "running"
    if how == "silent":
        old.heartbeat_at = utcnow() - STALE_AFTER - dt.timedelta(minutes=1)
    else:
        old.heartbeat_at = utcnow()
        old.pid, old.host = _dead_pid(), socket.gethostname()
    session.commit()
    assert is_stale(old)
    new, replaced = start_run(session, wave=wave, actor=None)
    session.commit()
    assert replaced is not None and replaced.id == old.id
    assert (old.status, old.active_wave_id) == ("failed", None)
    assert "stopped responding" in old.error and old.finished_at is not None
    assert (new.status, new.active_wave_id) == ("queued", wave.id)


def test_a_live_run_is_not_stale(session: Session, wave: Wave) -> None:
    run, _ = start_run(session, wave=wave, actor=None)
    run.status, run.heartbeat_at = "running", utcnow() - STALE_AFTER + dt.timedelta(minutes=1)
    run.pid, run.host = os.getpid(), socket.gethostname()
    assert not is_stale(run)
    run.host = "another-machine"  # a pid on another machine is not checked here
    run.pid = _dead_pid()
    assert not is_stale(run)


def test_process_alive() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    assert not process_alive(process.pid)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert process_alive(sleeper.pid)
        sleeper.kill()
        deadline = time.monotonic() + 5
        while process_alive(sleeper.pid) and time.monotonic() < deadline:  # a zombie is gone
            time.sleep(0.01)
        assert not process_alive(sleeper.pid)
    finally:
        sleeper.kill()
        sleeper.wait()


class _FakeProcess:
    pid = 4242

    def wait(self) -> int:
        return 0


def test_launch_starts_a_detached_process_with_the_url_in_its_environment(
    session: Session, wave: Wave, tmp_path: Path
) -> None:
    run, _ = start_run(session, wave=wave, actor=None)
    session.commit()
    calls: list[tuple[list[str], dict[str, Any]]] = []

    def popen(args: list[str], **kwargs: Any) -> _FakeProcess:
        calls.append((args, kwargs))
        return _FakeProcess()

    url = "postgresql+psycopg://user:secret@db/placevoice"
    pid = launch_run(session, run, db_url=url, out_dir=tmp_path / "out", jobs=3, popen=popen)
    session.commit()
    ((args, kwargs),) = calls
    assert pid == run.pid == 4242
    assert args[:3] == [sys.executable, "-m", "exports.pack_runs"]
    assert args[3:] == [str(run.id), run.token, "--out", str(tmp_path / "out"), "--jobs", "3"]
    assert not any("secret" in a for a in args)  # never on the command line (ps shows it)
    assert kwargs["env"]["PLACEVOICE_DATABASE_URL"] == url
    assert kwargs["start_new_session"] is True and kwargs["stdin"] == subprocess.DEVNULL
    assert (tmp_path / "out" / "pack-runs.log").exists()


def test_launch_failure_fails_the_run(session: Session, wave: Wave, tmp_path: Path) -> None:
    run, _ = start_run(session, wave=wave, actor=None)
    session.commit()

    def popen(*_args: Any, **_kwargs: Any) -> Any:
        raise PermissionError("not allowed")

    with pytest.raises(OSError):
        launch_run(session, run, db_url="sqlite://", out_dir=tmp_path, popen=popen)
    session.commit()
    assert (run.status, run.active_wave_id) == ("failed", None)
    assert "could not start" in run.error
    start_run(session, wave=wave, actor=None)  # the wave is free again


def test_job_ignores_a_run_that_is_not_queued_under_its_token(
    session: Session, db_url: str, wave: Wave, tmp_path: Path
) -> None:
    run, _ = start_run(session, wave=wave, actor=None)
    session.commit()
    out = tmp_path / "packs"
    assert run_job(run.id, "not-the-token", db_url=db_url, out_dir=out) == 0
    session.refresh(run)
    assert (run.status, run.pid) == ("queued", None)
    assert not out.exists()


@pytest.mark.slow
def test_job_makes_the_packs_and_records_a_failing_site(
    session: Session, db_url: str, community: Any, tmp_path: Path
) -> None:
    built = build_community(
        session, schools=SMALL, areas=(), previous_wave=False, slug=community.slug
    )
    wave = session.scalar(select(Wave).where(Wave.name == built.wave))
    run, _ = start_run(session, wave=wave, actor=None)
    session.commit()
    out = tmp_path / "packs"
    (out / pack_filename(wave.name, "S02")).mkdir(parents=True)  # S02's pack cannot be written
    assert run_job(run.id, run.token, db_url=db_url, out_dir=out, jobs=1) == 0
    session.refresh(run)
    assert (run.status, run.active_wave_id) == ("done", None)
    assert (run.total, run.done, run.written, run.notes) == (2, 2, 1, 1)
    assert [f["site"] for f in run.failed_sites] == ["S02"]
    assert "IsADirectoryError" in run.failed_sites[0]["error"]
    assert run.started_at and run.finished_at and run.heartbeat_at and run.pid
    assert (out / pack_filename(wave.name, "S01")).read_bytes().startswith(b"%PDF")


def test_job_records_an_error_that_stops_the_run(
    session: Session, db_url: str, wave: Wave, tmp_path: Path
) -> None:
    run, _ = start_run(session, wave=wave, actor=None)
    session.commit()
    blocked = tmp_path / "a-file"
    blocked.write_text("the packs folder cannot be made here")
    assert run_job(run.id, run.token, db_url=db_url, out_dir=blocked / "packs", jobs=1) == 1
    session.refresh(run)
    assert (run.status, run.active_wave_id) == ("failed", None)
    assert run.error.startswith(("FileExistsError", "NotADirectoryError"))


def test_what_is_left_of_a_taken_over_run_is_stopped(session: Session, wave: Wave) -> None:
    run, _ = start_run(session, wave=wave, actor=None)
    session.commit()
    sleep = "import time; time.sleep(60)"
    # Stand-ins for a hung run process and its worker: same command-line tail.
    leftovers = [
        subprocess.Popen([sys.executable, "-c", sleep, "exports.pack_runs", str(run.id), run.token])
        for _ in range(2)
    ]
    other = subprocess.Popen([sys.executable, "-c", sleep, "exports.pack_runs", str(run.id), "x"])
    try:
        assert run_processes(run) == sorted(p.pid for p in leftovers)
        run.host = "another-machine"
        assert stop_run_processes(run) == 0  # pids elsewhere mean nothing here
        run.host = socket.gethostname()
        assert stop_run_processes(run) == 2
        assert [p.wait(timeout=10) for p in leftovers] == [-15, -15]
        assert other.poll() is None
    finally:
        for process in (*leftovers, other):
            process.kill()
            process.wait()
