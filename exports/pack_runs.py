"""Generate every pack of a wave in a detached background process, with its progress stored.

The web app must not render 200 packs inside one request (that outlives any worker
timeout), nor fork its threaded server. Instead:

1. :func:`start_run` records a :class:`~surveys.models.packs.PackRun` (``queued``) for the
   wave, refusing a second one while a run of that wave is queued or running, unless that
   run is stale (:func:`is_stale`: no sign of life for :data:`STALE_AFTER`, or its process
   is gone), in which case the old run is marked ``failed`` and the new one takes over.
2. :func:`launch_run` starts ``python -m exports.pack_runs RUN TOKEN --out DIR --jobs N``
   as a new session (so it outlives the web worker and its signals), with the database
   URL in its environment, never on its command line.
3. That process (:func:`run_job`) claims the run (``running``), calls
   :func:`exports.packs.generate_packs` with a ``progress`` callback that stores
   ``done``/``total`` and a heartbeat after each pack, and finally marks the run ``done``
   (with the sites that failed, if any) or ``failed`` (with the error).

The process only ever writes to the run whose id *and* random token it was given, and only
while that run is still ``running``: a run that was taken over is left alone.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from surveys.db import ENV_VAR, make_engine, make_sessionmaker
from surveys.models import Wave, utcnow
from surveys.models.packs import ACTIVE_STATUSES, PackRun

__all__ = [
    "LOG_NAME",
    "STALE_AFTER",
    "RunInProgress",
    "is_stale",
    "latest_run",
    "launch_run",
    "main",
    "process_alive",
    "run_job",
    "run_processes",
    "start_run",
    "stop_run_processes",
]

log = logging.getLogger(__name__)

#: A queued or running run with no sign of life for this long may be taken over.
STALE_AFTER = dt.timedelta(minutes=10)
#: The background processes' log (their stdout and stderr), kept in the packs folder.
LOG_NAME = "pack-runs.log"


class RunInProgress(Exception):
    """The wave already has a queued or running run that is still alive."""

    def __init__(self, run: PackRun) -> None:
        super().__init__(f"packs for wave {run.wave_id} are already being generated (run {run.id})")
        self.run = run


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; everything here is stored in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine and has not exited (a zombie has)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc here: trust kill(0)
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state not in ("Z", "X")


def last_sign_of_life(run: PackRun) -> dt.datetime:
    """When the run last showed it was alive: its heartbeat, start or creation."""
    return _aware(run.heartbeat_at or run.started_at or run.created_at)


def is_stale(run: PackRun, *, now: dt.datetime | None = None) -> bool:
    """Whether an active run has stopped: silent for :data:`STALE_AFTER`, or its process gone.

    A pid is only checked on the machine that started the run.
    """
    if run.status not in ACTIVE_STATUSES:
        return False
    now = now or utcnow()
    if now - last_sign_of_life(run) > STALE_AFTER:
        return True
    return bool(run.pid and run.host == socket.gethostname() and not process_alive(run.pid))


def latest_run(session: Session, wave_id: int) -> PackRun | None:
    """The wave's newest run, if any."""
    return session.scalar(
        select(PackRun).where(PackRun.wave_id == wave_id).order_by(PackRun.id.desc()).limit(1)
    )


def _active_run(session: Session, wave_id: int) -> PackRun | None:
    return session.scalar(select(PackRun).where(PackRun.active_wave_id == wave_id))


def start_run(
    session: Session, *, wave: Wave, actor: int | None, now: dt.datetime | None = None
) -> tuple[PackRun, PackRun | None]:
    """Record a new queued run of ``wave``; returns it and the stale run it replaced, if any.

    Raises :class:`RunInProgress` if the wave has an active run that is not stale. Flushes;
    the caller commits, then calls :func:`launch_run`.
    """
    now = now or utcnow()
    replaced = _active_run(session, wave.id)
    if replaced is not None:
        if not is_stale(replaced, now=now):
            raise RunInProgress(replaced)
        replaced.status = "failed"
        replaced.active_wave_id = None
        replaced.finished_at = now
        replaced.error = (
            "stopped responding (no progress since"
            f" {last_sign_of_life(replaced):%d %b %Y %H:%M} UTC); a new run took over"
        )
        session.flush()
    run = PackRun(
        wave_id=wave.id,
        active_wave_id=wave.id,
        requested_by=actor,
        status="queued",
        token=secrets.token_hex(16),
        failed_sites=[],
        host=socket.gethostname(),
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(run)
    except IntegrityError:  # another worker started one between our read and our write
        current = _active_run(session, wave.id)
        if current is None:
            raise
        raise RunInProgress(current) from None
    return run, replaced


def launch_run(
    session: Session,
    run: PackRun,
    *,
    db_url: str,
    out_dir: str | Path,
    jobs: int = 2,
    popen: Callable[..., subprocess.Popen[bytes]] | None = None,
) -> int:
    """Start the detached process for a committed ``run``; record and return its pid.

    On failure to start, the run is marked ``failed`` and the ``OSError`` re-raised. The
    caller commits either way. ``popen`` stands in for :class:`subprocess.Popen` (tests).
    """
    popen = popen or subprocess.Popen
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with open(out / LOG_NAME, "ab") as log_file:
            process = popen(
                [
                    sys.executable,
                    "-m",
                    "exports.pack_runs",
                    str(run.id),
                    run.token,
                    "--out",
                    str(out),
                    "--jobs",
                    str(jobs),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env={**os.environ, ENV_VAR: db_url},
                start_new_session=True,
                close_fds=True,
            )
    except OSError as err:
        finish_failed(session, run, f"could not start: {type(err).__name__}: {err}")
        raise
    # Reap it when it ends, so a finished run never lingers as a zombie that looks alive.
    threading.Thread(target=process.wait, name=f"pack-run-{run.id}", daemon=True).start()
    run.pid = process.pid
    session.flush()
    return process.pid


def run_processes(run: PackRun, *, proc: Path = Path("/proc")) -> list[int]:
    """Processes on this machine carrying out ``run``: its process and its pack workers.

    Found by their command line (``exports.pack_runs RUN TOKEN``, which the workers
    inherit), so a reused pid is never mistaken for the run's.
    """
    wanted = [b"exports.pack_runs", str(run.id).encode(), run.token.encode()]
    found = []
    for entry in proc.glob("[0-9]*"):
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(args[i : i + 3] == wanted for i in range(len(args) - 2)):
            found.append(int(entry.name))
    return sorted(found)


def stop_run_processes(run: PackRun) -> int:
    """Stop what is left of a run that was taken over (SIGTERM); returns how many.

    A stale run's process may hang rather than have died, and a process killed outright
    leaves its pack workers behind; either would hold memory for good.
    """
    if run.host != socket.gethostname():
        return 0
    stopped = 0
    for pid in run_processes(run):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
            stopped += 1
    return stopped


def finish_failed(session: Session, run: PackRun, error: str) -> None:
    """Mark ``run`` failed now with ``error`` (flushes)."""
    run.status = "failed"
    run.active_wave_id = None
    run.finished_at = utcnow()
    run.error = error
    session.flush()


# --- the background process ---------------------------------------------------------------


def _mine(run_id: int, token: str) -> Any:
    return (PackRun.id == run_id) & (PackRun.token == token) & (PackRun.status == "running")


def _claim(factory: sessionmaker[Session], run_id: int, token: str) -> tuple[int, str] | None:
    """Mark the run running (if it is still queued and ours); its wave's id and name."""
    now = utcnow()
    with factory.begin() as session:
        wave_id = session.scalar(
            update(PackRun)
            .where(PackRun.id == run_id, PackRun.token == token, PackRun.status == "queued")
            .values(status="running", started_at=now, heartbeat_at=now, pid=os.getpid())
            .returning(PackRun.wave_id)
        )
        name = session.scalar(select(Wave.name).where(Wave.id == wave_id)) if wave_id else None
    return (int(wave_id), str(name)) if wave_id and name is not None else None


def _progress(
    factory: sessionmaker[Session], run_id: int, token: str, done: int, total: int
) -> None:
    try:
        with factory.begin() as session:
            session.execute(
                update(PackRun)
                .where(_mine(run_id, token))
                .values(done=done, total=total, heartbeat_at=utcnow())
            )
    except SQLAlchemyError:  # a missed update is not worth losing the batch for
        log.exception("run %s: could not record progress", run_id)


def _finish(factory: sessionmaker[Session], run_id: int, token: str, **values: Any) -> None:
    now = utcnow()
    with factory.begin() as session:
        session.execute(
            update(PackRun)
            .where(_mine(run_id, token))
            .values(active_wave_id=None, finished_at=now, heartbeat_at=now, **values)
        )


def run_job(run_id: int, token: str, *, db_url: str, out_dir: str | Path, jobs: int = 2) -> int:
    """Carry out one run (in the background process); returns the exit status."""
    from exports.packs import generate_packs  # heavy (pandas, WeasyPrint): only here

    engine = make_engine(db_url)
    try:
        factory = make_sessionmaker(engine)
        claimed = _claim(factory, run_id, token)
        if claimed is None:
            log.warning("run %s is not queued under this token any more; nothing to do", run_id)
            return 0
        wave_id, wave_name = claimed
        log.info("run %s: generating packs for wave %r into %s", run_id, wave_name, out_dir)

        def progress(done: int, total: int) -> None:
            _progress(factory, run_id, token, done, total)

        try:
            result = generate_packs(
                db_url=db_url, wave=wave_id, out_dir=out_dir, jobs=jobs, progress=progress
            )
        except Exception as err:
            log.exception("run %s failed", run_id)
            _finish(factory, run_id, token, status="failed", error=f"{type(err).__name__}: {err}")
            return 1
        failed = [{"site": f.site, "error": f.error} for f in result.failed]
        for failure in failed:
            log.error("run %s: pack for %s failed: %s", run_id, failure["site"], failure["error"])
        finished = len(result.written) + len(failed)
        _finish(
            factory,
            run_id,
            token,
            status="done",
            total=finished,
            done=finished,
            written=len(result.written),
            notes=len(result.notes),
            failed_sites=failed,
        )
        log.info(
            "run %s: %d written, %d failed, %d without a pack",
            run_id,
            len(result.written),
            len(failed),
            len(result.notes),
        )
        return 0
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m exports.pack_runs RUN TOKEN --out DIR [--jobs N]`` (database from the env)."""
    parser = argparse.ArgumentParser(
        prog="python -m exports.pack_runs", description="Carry out one background pack run."
    )
    parser.add_argument("run_id", type=int)
    parser.add_argument("token")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format=f"%(asctime)s pack-run {args.run_id} pid {os.getpid()} %(levelname)s %(message)s",
    )
    db_url = os.environ.get(ENV_VAR)
    if not db_url:
        log.error("%s is not set", ENV_VAR)
        return 2
    return run_job(args.run_id, args.token, db_url=db_url, out_dir=args.out, jobs=args.jobs)


if __name__ == "__main__":
    sys.exit(main())
