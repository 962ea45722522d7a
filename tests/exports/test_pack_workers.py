"""Real ``placevoice worker`` processes: a worker killed mid-run (SIGKILL) and started again
finishes the run with every pack whole, and workers share a run's packs on Redis."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from exports.pack_runs import PackQueue, start_run
from exports.packs import pack_filename
from exports.queue import make_huey
from surveys.models import Wave
from surveys.models.packs import ACTIVE_STATUSES, PackRun
from tests.conftest import need
from tests.exports.community import build_community

pytestmark = pytest.mark.slow

SCHOOLS = tuple((f"S{i:02d}", f"School {i:02d}", 24) for i in range(1, 7))
REDIS_SERVER = "/usr/bin/redis-server"


@pytest.fixture
def wave(session: Session, community: Any) -> Wave:
    built = build_community(
        session, schools=SCHOOLS, areas=(), previous_wave=False, slug=community.slug
    )
    found = session.scalar(select(Wave).where(Wave.name == built.wave))
    assert found is not None
    return found


def _run(session: Session, run_id: int) -> PackRun:
    session.rollback()
    run = session.get(PackRun, run_id, populate_existing=True)
    assert run is not None
    return run


def _wait(session: Session, run_id: int, until: Any, timeout: float = 180) -> PackRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = _run(session, run_id)
        if until(run):
            return run
        time.sleep(0.1)
    pytest.fail(f"run {run_id}: {run.status}, {run.done} of {run.total} after {timeout} s")


def _queue_run(session: Session, wave: Wave, out: Path, queue: str, db_url: str) -> int:
    run = start_run(session, wave=wave, actor=None, out_dir=out)
    session.commit()
    packs = PackQueue(make_huey(queue), db_url)
    packs.enqueue(run.id)
    packs.dispose()
    return run.id


def _check_packs(out: Path, wave: Wave) -> None:
    made = sorted(p.name for p in out.glob("*.pdf"))
    assert made == sorted(pack_filename(wave.name, code) for code, _, _ in SCHOOLS)
    for path in out.glob("*.pdf"):
        assert len(PdfReader(path).pages) >= 2, path.name  # whole: it parses to the end


def test_a_worker_killed_mid_run_finishes_it_after_a_restart(
    session: Session, wave: Wave, db_url: str, queue_url: str, start_worker: Any, tmp_path: Path
) -> None:
    out = tmp_path / "packs"
    run_id = _queue_run(session, wave, out, queue_url, db_url)
    first = start_worker(workers=1)
    _wait(session, run_id, lambda r: r.status == "running" and 1 <= r.done < r.total - 1)
    os.killpg(first.pid, signal.SIGKILL)  # the consumer and its worker process, mid-pack
    first.wait()
    stopped = _run(session, run_id)
    assert stopped.status == "running" and stopped.done < stopped.total

    start_worker(workers=1)
    run = _wait(session, run_id, lambda r: r.status not in ACTIVE_STATUSES)
    assert (run.status, run.total, run.done, run.written, run.failed_sites) == (
        "done",
        6,
        6,
        6,
        [],
    )
    _check_packs(out, wave)


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A redis-server of the test's own on a free loopback port, in a temporary folder."""
    need(
        Path(REDIS_SERVER).exists() or bool(shutil.which("redis-server")),
        "redis-server is not installed (apt-get install redis-server)",
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [
            shutil.which("redis-server") or REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(tmp_path),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    client.close()
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(10)


@pytest.mark.redis
def test_workers_share_a_runs_packs_on_redis(
    session: Session, wave: Wave, db_url: str, redis_url: str, start_worker: Any, tmp_path: Path
) -> None:
    workers = [start_worker(workers=1, queue=redis_url) for _ in range(2)]
    logs = [tmp_path / f"worker-{i}.log" for i in range(2)]
    deadline = time.monotonic() + 60
    while not all("placevoice worker:" in log.read_text() for log in logs):
        assert time.monotonic() < deadline, "the workers did not start"
        assert all(w.poll() is None for w in workers)
        time.sleep(0.1)

    out = tmp_path / "packs"
    run_id = _queue_run(session, wave, out, redis_url, db_url)
    run = _wait(session, run_id, lambda r: r.status not in ACTIVE_STATUSES)
    assert (run.status, run.written, run.failed_sites) == ("done", 6, [])
    _check_packs(out, wave)
    shares = [log.read_text().count("render_site") for log in logs]
    assert all(shares), f"each worker should have made some of the packs: {shares}"
