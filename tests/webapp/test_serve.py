"""`placevoice serve` runs the app under gunicorn (a production server)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_serve_answers_the_landing_page_with_gunicorn(
    db_url: str, queue_url: str, run_cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("init", "--community", "Wallsend Children's Community").exit_code == 0
    port = _free_port()
    env = {
        **os.environ,
        "PLACEVOICE_DATABASE_URL": db_url,
        "PLACEVOICE_QUEUE_URL": queue_url,
        "PLACEVOICE_SECRET_KEY": "s" * 48,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "webapp.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        body = b""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as reply:
                    assert reply.status == 200
                    assert "gunicorn" in reply.headers.get("Server", "")
                    body = reply.read()
                    break
            except OSError:
                time.sleep(0.1)
        assert b"Wallsend Children" in body
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        out, err = server.communicate(timeout=20)
    assert b"serving on http://127.0.0.1" in out and b"2 pack workers" in out
    assert b"Traceback" not in err


@pytest.mark.slow
def test_serve_makes_queued_packs_with_no_worker_started_by_hand(  # type: ignore[no-untyped-def]
    db_url: str, queue_url: str, session, community, tmp_path: Path
) -> None:
    from sqlalchemy import select

    from exports.pack_runs import PackQueue, start_run
    from exports.queue import make_huey
    from surveys.models import Wave
    from surveys.models.packs import PackRun
    from tests.exports.community import build_community

    schools = (("S01", "Riverside Primary School", 25), ("S02", "Hillcrest Academy", 22))
    built = build_community(
        session, schools=schools, areas=(), previous_wave=False, slug=community.slug
    )
    wave = session.scalar(select(Wave).where(Wave.name == built.wave))
    env = {
        **os.environ,
        "PLACEVOICE_DATABASE_URL": db_url,
        "PLACEVOICE_QUEUE_URL": queue_url,
        "PLACEVOICE_SECRET_KEY": "s" * 48,
    }
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "webapp.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        run = start_run(session, wave=wave, actor=None, out_dir=tmp_path / "packs")
        session.commit()
        PackQueue(make_huey(queue_url), db_url).enqueue(run.id)
        deadline = time.monotonic() + 120
        while run.status in ("queued", "running"):
            assert time.monotonic() < deadline, f"{run.status}: {run.done} of {run.total}"
            time.sleep(0.2)
            session.rollback()
            run = session.get_one(PackRun, run.id, populate_existing=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    assert (run.status, run.written) == ("done", 2)
    assert len(list((tmp_path / "packs").glob("*.pdf"))) == 2
