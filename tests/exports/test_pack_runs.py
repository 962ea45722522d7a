"""Pack runs on the task queue (exports.pack_runs): one active run a wave, one task per pack,
a failing site, cancel, retry, tasks carried out twice, and tasks lost with a killed worker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from exports.pack_runs import (
    PackQueue,
    RunInProgress,
    cancel_run,
    latest_run,
    retry_failed,
    start_run,
)
from exports.packs import pack_filename
from exports.queue import QueueConfigError, default_queue_url, make_huey
from surveys.models import Wave
from surveys.models.packs import PackRun, PackRunItem
from tests.exports.community import build_community

SMALL = (
    ("S01", "Riverside Primary School", 25),
    ("S02", "Hillcrest Academy", 22),
    ("S03", "Tiny Meadow School", 6),
)


@pytest.fixture
def wave(session: Session, make_wave: Any) -> Wave:
    return make_wave()


@pytest.fixture
def small(session: Session, community: Any) -> Wave:
    built = build_community(
        session, schools=SMALL, areas=(), previous_wave=False, slug=community.slug
    )
    found = session.scalar(select(Wave).where(Wave.name == built.wave))
    assert found is not None
    return found


@pytest.fixture
def queue(db_url: str, queue_url: str) -> PackQueue:
    """The pack tasks on the test's SQLite queue file; :func:`drain` carries them out."""
    packs = PackQueue(make_huey(queue_url), db_url)
    yield packs
    packs.dispose()


def drain(queue: PackQueue, *, drop: set[str] = frozenset()) -> list[str]:
    """Carry out every queued task in this process, as a worker would; their names.

    ``drop``: sites whose render task is taken off the queue and lost (a killed worker).
    """
    done = []
    while (task := queue.huey.dequeue()) is not None:
        name = type(task).__name__
        if name == "render_site" and task.args[1] in drop:
            drop = drop - {task.args[1]}
            done.append(f"lost {task.args[1]}")
            continue
        queue.huey.execute(task)
        done.append(f"{name} {task.args[1]}" if name == "render_site" else name)
    return done


def _items(session: Session, run: PackRun) -> dict[str, tuple[str, str]]:
    session.expire_all()
    return {
        i.site: (i.status, i.detail)
        for i in session.scalars(select(PackRunItem).where(PackRunItem.run_id == run.id))
    }


def _fresh(session: Session, run: PackRun) -> None:
    session.rollback()  # a new snapshot: the tasks wrote through their own connections
    session.refresh(run)


def _start(session: Session, wave: Wave, out: Path) -> PackRun:
    run = start_run(session, wave=wave, actor=None, out_dir=out)
    session.commit()
    return run


def test_a_wave_has_one_active_run(session: Session, wave: Wave, tmp_path: Path) -> None:
    run = _start(session, wave, tmp_path)
    assert (run.status, run.active_wave_id, run.out_dir) == ("queued", wave.id, str(tmp_path))
    with pytest.raises(RunInProgress) as refused:
        start_run(session, wave=wave, actor=None, out_dir=tmp_path)
    assert refused.value.run.id == run.id
    assert latest_run(session, wave.id) is run


def test_the_database_refuses_a_second_active_run(session: Session, wave: Wave) -> None:
    session.add(PackRun(wave_id=wave.id, active_wave_id=wave.id, failed_sites=[]))
    session.commit()
    session.add(PackRun(wave_id=wave.id, active_wave_id=wave.id, failed_sites=[]))
    with pytest.raises(IntegrityError):
        session.commit()


def test_a_cancelled_run_frees_its_wave(session: Session, wave: Wave, tmp_path: Path) -> None:
    run = _start(session, wave, tmp_path)
    assert cancel_run(session, run) is True
    session.commit()
    assert (run.status, run.active_wave_id) == ("cancelled", None) and run.finished_at
    assert cancel_run(session, run) is False
    assert _start(session, wave, tmp_path).id != run.id


@pytest.mark.slow
def test_one_task_per_pack_makes_the_packs_and_records_a_failing_site(
    session: Session, small: Wave, queue: PackQueue, tmp_path: Path
) -> None:
    out = tmp_path / "packs"
    (out / pack_filename(small.name, "S02")).mkdir(parents=True)  # S02's pack cannot be written
    run = _start(session, small, out)
    queue.enqueue(run.id)
    assert drain(queue) == ["schedule_run", "render_site S01", "render_site S02", "render_site S03"]
    _fresh(session, run)
    assert (run.status, run.active_wave_id) == ("done", None)
    # The small school gets a short pack: written, and not counted as a site without one.
    assert (run.total, run.done, run.written, run.notes) == (3, 3, 2, 0)
    assert [f["site"] for f in run.failed_sites] == ["S02"]
    assert "IsADirectoryError" in run.failed_sites[0]["error"]
    assert run.started_at and run.finished_at
    items = _items(session, run)
    assert items["S01"] == ("done", "") and items["S02"][0] == "failed"
    assert items["S03"] == ("done", "")  # the small school's short pack
    assert (out / pack_filename(small.name, "S01")).read_bytes().startswith(b"%PDF")
    report = (out / f"{pack_filename(small.name, 'packs-report')[:-4]}.txt").read_text()
    assert "written\t" + pack_filename(small.name, "S01") in report
    assert "written\t" + pack_filename(small.name, "S03") in report
    assert "FAILED\tS02\tIsADirectoryError" in report and "no pack" not in report

    # Retrying the failed pack once its cause is gone makes it, and the run is done again.
    (out / pack_filename(small.name, "S02")).rmdir()
    assert retry_failed(session, run) == 1
    session.commit()
    assert (run.status, run.done, run.failed_sites) == ("running", 2, [])
    queue.enqueue(run.id)
    assert drain(queue) == ["schedule_run", "render_site S02"]
    _fresh(session, run)
    assert (run.status, run.done, run.written, run.failed_sites) == ("done", 3, 3, [])
    assert (out / pack_filename(small.name, "S02")).read_bytes().startswith(b"%PDF")
    assert retry_failed(session, run) == 0


@pytest.mark.slow
def test_tasks_lost_with_a_killed_worker_are_queued_again_and_nothing_twice(
    session: Session, small: Wave, queue: PackQueue, tmp_path: Path
) -> None:
    run = _start(session, small, tmp_path)
    queue.enqueue(run.id)
    assert drain(queue, drop={"S02"}) == [
        "schedule_run",
        "render_site S01",
        "lost S02",
        "render_site S03",
    ]
    _fresh(session, run)
    assert (run.status, run.done, run.total) == ("running", 2, 3)
    made = (tmp_path / pack_filename(small.name, "S01")).stat().st_mtime_ns

    assert queue.resume() == 1  # what every worker does when it starts
    assert queue.resume() == 1  # twice (two machines starting): still queued once
    assert drain(queue) == ["schedule_run", "render_site S02"]
    _fresh(session, run)
    assert (run.status, run.done, run.written) == ("done", 3, 3)
    assert (tmp_path / pack_filename(small.name, "S01")).stat().st_mtime_ns == made

    # A task carried out again after the run finished changes nothing.
    queue.render_site(run.id, "S01", {"site": "S01"}, str(tmp_path / "x.pdf"))
    assert drain(queue) == ["render_site S01"]
    assert not (tmp_path / "x.pdf").exists()
    assert queue.resume() == 0


def test_queued_packs_of_a_cancelled_run_are_skipped(
    session: Session, small: Wave, queue: PackQueue, tmp_path: Path
) -> None:
    run = _start(session, small, tmp_path)
    queue.enqueue(run.id)
    task = queue.huey.dequeue()
    queue.huey.execute(task)  # the wave analysed; two pack tasks wait in the queue
    assert queue.pending_sites(run.id) == {"S01", "S02", "S03"}
    cancel_run(session, run)
    session.commit()
    assert drain(queue) == ["render_site S01", "render_site S02", "render_site S03"]
    assert list(tmp_path.glob("*.pdf")) == []
    _fresh(session, run)
    assert (run.status, run.done) == ("cancelled", 0)


def test_a_wave_that_cannot_be_analysed_fails_the_run(
    session: Session, wave: Wave, queue: PackQueue, tmp_path: Path, monkeypatch: Any
) -> None:
    import exports.packs

    def broken(*_args: Any, **_kw: Any) -> Any:
        raise ValueError("the wave has no instrument")

    monkeypatch.setattr(exports.packs, "build_contexts", broken)
    run = _start(session, wave, tmp_path)
    queue.enqueue(run.id)
    assert drain(queue) == ["schedule_run"]
    _fresh(session, run)
    assert (run.status, run.active_wave_id) == ("failed", None)
    assert run.error == "ValueError: the wave has no instrument"


def test_queue_urls(tmp_path: Path) -> None:
    assert default_queue_url(f"sqlite:///{tmp_path}/pv.db") == f"sqlite:///{tmp_path}/pv-queue.db"
    assert type(make_huey(f"sqlite:///{tmp_path}/q/queue.db")).__name__ == "SqliteHuey"
    assert (tmp_path / "q").is_dir()
    assert type(make_huey("redis://127.0.0.1:1/0")).__name__ == "RedisHuey"
    for bad in ("queue.db", "amqp://broker/", "sqlite://"):
        with pytest.raises(QueueConfigError, match="PLACEVOICE_QUEUE_URL"):
            make_huey(bad)


def test_the_queue_migration_fails_runs_left_by_the_old_background_process(
    tmp_path: Path,
) -> None:
    from alembic import command
    from sqlalchemy import inspect, text

    from surveys.db import alembic_config, make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(engine), "0001")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO communities (slug, name, suppression_k, created_at)"
                " VALUES ('c', 'C', 10, '2026-11-24')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO waves (community_id, name, status, created_at)"
                " VALUES (1, 'Spring', 'open', '2026-11-24')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO pack_runs (wave_id, active_wave_id, status, token, total, done,"
                " written, failed_sites, notes, pid, host, created_at, error)"
                " VALUES (1, 1, 'running', 't', 9, 3, 3, '[]', 0, 123, 'h', '2026-11-24', '')"
            )
        )
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert migrate(engine) == head
    with engine.connect() as conn:
        row = conn.execute(text("SELECT status, active_wave_id, out_dir FROM pack_runs")).one()
    assert tuple(row) == ("failed", None, "")
    columns = {c["name"] for c in inspect(engine).get_columns("pack_runs")}
    assert not columns & {"token", "pid", "host", "heartbeat_at"}
    engine.dispose()
