"""Generate every pack of a wave on the task queue, one task per pack, with progress stored.

The web app must not render 200 packs inside one request (that outlives any worker
timeout). Instead:

1. :func:`start_run` records a :class:`~surveys.models.packs.PackRun` (``queued``) for the
   wave, refusing a second while one of that wave is queued or running (the database's
   unique ``active_wave_id`` decides, however many app workers ask at once). The caller
   commits, then calls :meth:`PackQueue.enqueue`.
2. The ``schedule_run`` task analyses the wave once, adds a
   :class:`~surveys.models.packs.PackRunItem` per pack and queues one ``render_site``
   task per pack that is still to be made, so the workers of every machine share the
   wave's packs.
3. Each ``render_site`` task writes its PDF atomically, marks its item ``done`` or
   ``failed`` and counts the run's finished items; the task that finishes the last one
   marks the run ``done`` and writes the batch report.

A task does nothing for a run that is no longer active (cancelled) or an item that is
already finished, so a task carried out twice changes nothing. The queue loses a task a
worker was carrying out when it was killed; :meth:`PackQueue.resume` (at every worker's
start, and every few minutes) queues ``schedule_run`` again for every active run, which
queues the packs still to be made that are not already waiting in the queue.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from huey import Huey, crontab
from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from surveys.db import make_engine, make_sessionmaker
from surveys.models import Wave, utcnow
from surveys.models.packs import ACTIVE_STATUSES, PackRun, PackRunItem

__all__ = [
    "PackQueue",
    "RunInProgress",
    "cancel_run",
    "latest_run",
    "retry_failed",
    "start_run",
]

log = logging.getLogger(__name__)

#: How often each worker checks for runs whose tasks were lost with a killed worker.
RESUME_EVERY_MINUTES = 5


class RunInProgress(Exception):
    """The wave already has a queued or running run."""

    def __init__(self, run: PackRun) -> None:
        super().__init__(f"packs for wave {run.wave_id} are already being generated (run {run.id})")
        self.run = run


def latest_run(session: Session, wave_id: int) -> PackRun | None:
    """The wave's newest run, if any."""
    return session.scalar(
        select(PackRun).where(PackRun.wave_id == wave_id).order_by(PackRun.id.desc()).limit(1)
    )


def _active_run(session: Session, wave_id: int) -> PackRun | None:
    return session.scalar(select(PackRun).where(PackRun.active_wave_id == wave_id))


def _hold(session: Session, run: PackRun) -> None:
    """Make ``run`` the wave's active run, or raise :class:`RunInProgress`."""
    try:
        with session.begin_nested():
            run.active_wave_id = run.wave_id
            session.add(run)
    except IntegrityError:  # another run holds the wave (perhaps started a moment ago)
        current = _active_run(session, run.wave_id)
        if current is None:
            raise
        raise RunInProgress(current) from None


def start_run(
    session: Session,
    *,
    wave: Wave,
    actor: int | None,
    out_dir: str | Path,
    now: dt.datetime | None = None,
) -> PackRun:
    """Record a new queued run of ``wave`` writing into ``out_dir``.

    Raises :class:`RunInProgress` if the wave has an active run. Flushes; the caller
    commits, then queues it with :meth:`PackQueue.enqueue`.
    """
    current = _active_run(session, wave.id)
    if current is not None:
        raise RunInProgress(current)
    run = PackRun(
        wave_id=wave.id,
        requested_by=actor,
        status="queued",
        out_dir=str(Path(out_dir).resolve()),
        failed_sites=[],
        created_at=now or utcnow(),
    )
    _hold(session, run)
    return run


def cancel_run(session: Session, run: PackRun) -> bool:
    """Stop an active run: packs still queued are skipped, packs made are kept. Flushes.

    Returns False if the run had already finished.
    """
    if run.status not in ACTIVE_STATUSES:
        return False
    run.status = "cancelled"
    run.active_wave_id = None
    run.finished_at = utcnow()
    session.flush()
    return True


def retry_failed(session: Session, run: PackRun, *, site: str | None = None) -> int:
    """Queue a finished run's failed packs (or the one of ``site``) again; how many. Flushes.

    The run becomes active again (:class:`RunInProgress` if another run holds the wave);
    the caller commits, then queues it with :meth:`PackQueue.enqueue`.
    """
    if run.status != "done":
        return 0
    failed = session.scalars(
        select(PackRunItem).where(PackRunItem.run_id == run.id, PackRunItem.status == "failed")
    ).all()
    items = [item for item in failed if site is None or item.site == site]
    if not items:
        return 0
    _hold(session, run)
    for item in items:
        item.status, item.detail, item.finished_at = "queued", "", None
    run.status = "running"
    run.finished_at = None
    run.done -= len(items)
    run.failed_sites = [f for f in run.failed_sites if f["site"] not in {i.site for i in items}]
    session.flush()
    return len(items)


def _finish(session: Session, run: PackRun) -> None:
    """Mark a run whose every pack is finished ``done`` and write its batch report."""
    from exports.packs import write_report

    items = session.scalars(
        select(PackRunItem).where(PackRunItem.run_id == run.id).order_by(PackRunItem.site)
    ).all()
    run.status = "done"
    run.active_wave_id = None
    run.finished_at = utcnow()
    run.written = sum(item.status == "done" for item in items)
    run.failed_sites = [
        {"site": item.site, "error": item.detail} for item in items if item.status == "failed"
    ]
    wave = session.get_one(Wave, run.wave_id)
    write_report(
        Path(run.out_dir),
        wave.name,
        written=[item.site for item in items if item.status == "done"],
        notes=[(item.site, item.detail) for item in items if item.status == "skipped"],
        failed=[(item.site, item.detail) for item in items if item.status == "failed"],
    )


class PackQueue:
    """The pack-run tasks registered on one Huey instance, carried out on one database.

    The web app makes one to queue runs (its tasks run in its own process only when the
    queue is ``memory://``); ``placevoice worker`` makes one to carry them out.
    """

    def __init__(self, huey: Huey, db_url: str) -> None:
        self.huey = huey
        self.db_url = db_url
        self._engine: Engine | None = None
        self._factory: sessionmaker[Session] | None = None
        self.schedule_run = huey.task(name="schedule_run")(self._schedule_run)
        self.render_site = huey.task(name="render_site")(self._render_site)
        self.resume_task = huey.periodic_task(
            crontab(minute=f"*/{RESUME_EVERY_MINUTES}"), name="resume_runs"
        )(self.resume)

    def _sessions(self) -> sessionmaker[Session]:
        """Sessions on the queue's database (made on first use, in the worker process)."""
        if self._factory is None:
            self._engine = make_engine(self.db_url)
            self._factory = make_sessionmaker(self._engine)
        return self._factory

    def dispose(self) -> None:
        """Close the database connections of this process (before a worker forks)."""
        if self._engine is not None:
            self._engine.dispose()
        self._engine = self._factory = None

    def enqueue(self, run_id: int) -> None:
        """Queue the (committed) run: its wave is analysed and its packs queued."""
        self.schedule_run(run_id)

    def pending_sites(self, run_id: int) -> set[str]:
        """Sites of ``run_id`` whose ``render_site`` task is waiting in the queue."""
        return {
            task.args[1]
            for task in self.huey.pending()
            if type(task).__name__ == "render_site" and task.args[0] == run_id
        }

    def resume(self) -> int:
        """Queue ``schedule_run`` again for every active run; how many (see the module doc)."""
        with self._sessions()() as session:
            runs = session.scalars(
                select(PackRun.id).where(PackRun.status.in_(ACTIVE_STATUSES))
            ).all()
        waiting = {
            task.args[0] for task in self.huey.pending() if type(task).__name__ == "schedule_run"
        }
        for run_id in runs:
            if run_id not in waiting:
                log.info("pack run %s: queued again to make the packs still to be made", run_id)
                self.schedule_run(run_id)
        return len(runs)

    # --- the tasks ----------------------------------------------------------------------

    def _schedule_run(self, run_id: int) -> None:
        from exports.packs import build_contexts, pack_filename

        factory = self._sessions()
        with factory() as session:
            run = session.get(PackRun, run_id)
            if run is None or run.status not in ACTIVE_STATUSES:
                return
            wave = session.get_one(Wave, run.wave_id)
            try:
                contexts, notes = build_contexts(session, wave)
            except Exception as err:  # the run itself fails; its wave is free again
                log.exception("pack run %s: the wave could not be analysed", run_id)
                session.rollback()
                with factory.begin() as write:
                    write.execute(
                        update(PackRun)
                        .where(PackRun.id == run_id, PackRun.status.in_(ACTIVE_STATUSES))
                        .values(
                            status="failed",
                            active_wave_id=None,
                            finished_at=utcnow(),
                            error=f"{type(err).__name__}: {err}",
                        )
                    )
                return
            wave_name, out_dir = wave.name, Path(run.out_dir)
        with factory.begin() as session:
            run = session.get(PackRun, run_id, with_for_update=True)
            if run is None or run.status not in ACTIVE_STATUSES:
                return
            items = {
                item.site: item
                for item in session.scalars(select(PackRunItem).where(PackRunItem.run_id == run_id))
            }
            for ctx in contexts:
                if ctx["site"] not in items:
                    items[ctx["site"]] = PackRunItem(run_id=run_id, site=ctx["site"])
                    session.add(items[ctx["site"]])
            for note in notes:
                if note["site"] not in items:
                    detail = f"{note['site_name']}\t{note['reason']}"
                    items[note["site"]] = PackRunItem(
                        run_id=run_id, site=note["site"], status="skipped", detail=detail
                    )
                    session.add(items[note["site"]])
            run.status = "running"
            run.started_at = run.started_at or utcnow()
            run.total = sum(item.status != "skipped" for item in items.values())
            run.notes = sum(1 for note in notes if not note.get("short"))
            run.done = sum(item.status in ("done", "failed") for item in items.values())
            session.flush()
            to_make = [c for c in contexts if items[c["site"]].status == "queued"]
            if not to_make and run.done >= run.total:
                _finish(session, run)
        waiting = self.pending_sites(run_id)
        for ctx in to_make:
            if ctx["site"] not in waiting:
                path = out_dir / pack_filename(wave_name, ctx["site"])
                self.render_site(run_id, ctx["site"], ctx, str(path))

    def _render_site(self, run_id: int, site: str, context: dict[str, Any], path: str) -> None:
        from exports.packs import render_pack

        factory = self._sessions()
        with factory() as session:
            wanted = session.execute(
                select(PackRun.status, PackRunItem.status)
                .join(PackRunItem, PackRunItem.run_id == PackRun.id)
                .where(PackRun.id == run_id, PackRunItem.site == site)
            ).first()
        if wanted is None or wanted[0] != "running" or wanted[1] != "queued":
            return  # cancelled, finished, or made already by an earlier copy of this task
        try:
            render_pack(context, path)
            status, detail = "done", ""
        except Exception as err:  # a failing site is recorded; the others carry on
            log.exception("pack run %s: the pack for %s failed", run_id, site)
            status, detail = "failed", f"{type(err).__name__}: {err}"
        with factory.begin() as session:
            run = session.get(PackRun, run_id, with_for_update=True)
            if run is None or run.status != "running":
                return
            finished = session.execute(
                update(PackRunItem)
                .where(
                    PackRunItem.run_id == run_id,
                    PackRunItem.site == site,
                    PackRunItem.status == "queued",
                )
                .values(status=status, detail=detail, finished_at=utcnow())
            )
            if not finished.rowcount:  # type: ignore[attr-defined]
                return
            run.done = (
                session.scalar(
                    select(func.count(PackRunItem.id)).where(
                        PackRunItem.run_id == run_id, PackRunItem.status.in_(("done", "failed"))
                    )
                )
                or 0
            )
            if run.done >= run.total:
                _finish(session, run)
