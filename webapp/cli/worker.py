"""``placevoice worker``: carry out queued pack runs (the Huey consumer), and the one that
``placevoice serve`` starts beside the web server."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from exports.pack_runs import PackQueue
from exports.queue import QueueConfigError, make_huey, queue_url, run_consumer
from surveys.db import ENV_VAR as DB_ENV_VAR
from webapp.cli.common import db_option, fail, open_db

__all__ = ["consumer_beside", "describe_queue", "register"]

#: Seconds a worker started beside the server gets to finish its packs when it stops.
STOP_TIMEOUT = 30


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(worker)


def describe_queue(url: str) -> str:
    """The queue URL without any password, for messages.

    >>> describe_queue("redis://:secret@queue.internal:6379/0")
    'redis://queue.internal:6379/0'
    """
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"


@click.command()
@db_option
@click.option(
    "--queue",
    "queue",
    metavar="URL",
    default=None,
    help="Queue URL (default: $PLACEVOICE_QUEUE_URL, else a SQLite file beside the database).",
)
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=int,
    help="Worker processes: packs made at once on this machine.",
)
def worker(db_url: str | None, queue: str | None, workers: int) -> None:
    """Make queued packs until stopped (Ctrl+C lets the packs in hand finish)."""
    if workers < 1:
        fail(f"--workers must be 1 or more, not {workers}")
    engine = open_db(db_url)
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    where = queue_url(queue, db_url=url)
    try:
        packs = PackQueue(make_huey(where), url)
        resumed = packs.resume()  # runs whose tasks were lost when a worker was killed
    except QueueConfigError as err:
        fail(str(err))
    packs.dispose()  # the worker processes open their own connections
    click.echo(
        f"placevoice worker: {workers} worker process(es) on {describe_queue(where)};"
        f" {resumed} pack run(s) in progress",
        err=True,
    )
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(asctime)s %(name)s %(message)s"
    )
    for name in ("huey", "exports"):  # what was done; not WeasyPrint's every step
        logging.getLogger(name).setLevel(logging.INFO)
    run_consumer(packs.huey, workers=workers)


@contextmanager
def consumer_beside(*, db_url: str, workers: int) -> Iterator[subprocess.Popen[bytes] | None]:
    """Run ``placevoice worker`` in a child process while the block runs (none if 0 workers).

    The database URL goes through the environment, never the command line.
    """
    if workers < 1:
        yield None
        return
    process = subprocess.Popen(  # noqa: S603 (our own command line, no shell)
        [sys.executable, "-m", "webapp.cli", "worker", "--workers", str(workers)],
        env={**os.environ, DB_ENV_VAR: db_url},
        stdin=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # let the packs in hand finish
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
