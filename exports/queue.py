"""The task queue that carries out long jobs (pack runs): Huey, on SQLite or on Redis.

One setting picks the queue's storage, ``PLACEVOICE_QUEUE_URL``:

- ``sqlite:///PATH`` (the default: ``{database}-queue.db`` beside a SQLite database, else
  ``placevoice-queue.db`` in the working directory): Huey's SQLite storage, a file on this
  machine, so a community on one machine needs no other service. ``placevoice serve``
  starts a consumer beside the web server.
- ``redis://HOST:PORT/DB`` (or ``rediss://``, ``unix://``): the same tasks on Redis, for a
  partnership whose packs are rendered by ``placevoice worker`` on several machines.
- ``memory://``: tasks run at once in the process that queues them (tests).

Queued tasks carry no secrets: a worker reads the database from its own ``--db`` or
``PLACEVOICE_DATABASE_URL``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from redis import RedisError
from sqlalchemy.engine import make_url

from surveys.db import database_url

__all__ = [
    "ENV_VAR",
    "QUEUE_ERRORS",
    "QueueConfigError",
    "default_queue_url",
    "make_huey",
    "queue_url",
    "run_consumer",
]

log = logging.getLogger(__name__)

ENV_VAR = "PLACEVOICE_QUEUE_URL"
#: The queue's name inside its storage (a Redis key prefix, a column in SQLite).
NAME = "placevoice"


#: What queueing a task raises when the queue's storage cannot be reached or written.
QUEUE_ERRORS: tuple[type[Exception], ...] = (OSError, RedisError, sqlite3.Error)


class QueueConfigError(ValueError):
    """The queue URL names no storage placevoice can use."""


def default_queue_url(db_url: str | None = None) -> str:
    """``{database}-queue.db`` beside a SQLite database file, else one in the working folder.

    >>> default_queue_url("sqlite:////srv/pv/placevoice.db")
    'sqlite:////srv/pv/placevoice-queue.db'
    """
    url = make_url(database_url(db_url))
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(str(url.database)).resolve()
        return f"sqlite:///{path.with_name(path.stem + '-queue.db')}"
    return f"sqlite:///{Path('placevoice-queue.db').resolve()}"


def queue_url(explicit: str | None = None, *, db_url: str | None = None) -> str:
    """``explicit`` if given, else ``PLACEVOICE_QUEUE_URL``, else :func:`default_queue_url`."""
    return explicit or os.environ.get(ENV_VAR) or default_queue_url(db_url)


def make_huey(url: str) -> Huey:
    """A Huey instance on the storage ``url`` names (see the module docstring)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise QueueConfigError(
            f"{ENV_VAR} must be sqlite:///PATH or redis://HOST:PORT/DB, not {url!r}"
        )
    if scheme == "sqlite":
        path = rest[1:] if rest.startswith("/") else rest
        if not path:
            raise QueueConfigError(f"{ENV_VAR} {url!r} names no file (sqlite:///PATH)")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(NAME, filename=path, results=False, timeout=30)
    if scheme in ("redis", "rediss", "unix"):
        return RedisHuey(NAME, url=url, results=False)
    if scheme == "memory":
        return MemoryHuey(NAME, results=False, immediate=True)
    raise QueueConfigError(
        f"{ENV_VAR} must be sqlite:///PATH or redis://HOST:PORT/DB, not {scheme}://..."
    )


def run_consumer(huey: Huey, *, workers: int, **options: Any) -> None:
    """Carry out queued tasks with ``workers`` processes until SIGINT or SIGTERM."""
    if workers < 1:
        raise QueueConfigError(f"--workers must be 1 or more, not {workers}")
    consumer = huey.create_consumer(
        workers=workers, worker_type="process", check_worker_health=True, **options
    )
    log.info("queue consumer: %d worker process(es) on %s", workers, type(huey).__name__)
    consumer.run()
