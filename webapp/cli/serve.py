"""``placevoice serve``: the app behind gunicorn, a production WSGI server."""

from __future__ import annotations

import os
import secrets
from typing import Any

import click
from flask import Flask
from gunicorn.app.base import BaseApplication

from webapp.cli.common import db_option, open_db
from webapp.cli.worker import consumer_beside

#: Threads per worker. Synchronous workers (one thread) submit fastest: with 2 cores,
#: 4 workers x 1 thread took 956-964 submits/s where 4 x 4 took 552-807 and 2 x 4 took
#: 583-594 (bench/bench_pages.py), as threads of one worker contend for the GIL while one
#: of them holds the SQLite write lock. Serve behind a buffering reverse proxy (nginx),
#: as synchronous workers are then not held up by slow clients.
DEFAULT_THREADS = 1


def default_workers() -> int:
    """Worker processes by default: two per core, at most four."""
    return min(4, (os.cpu_count() or 1) * 2)


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(serve)


class _Server(BaseApplication):  # type: ignore[misc]
    """gunicorn running an already-built app factory in each worker."""

    def __init__(self, options: dict[str, Any], config: dict[str, Any]) -> None:
        self.options = options
        self.app_config = config
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from webapp import create_app

        return create_app(self.app_config)


def run_server(
    *,
    db_url: str,
    host: str,
    port: int,
    workers: int,
    threads: int,
    secret_key: str | None = None,
    extra: dict[str, Any] | None = None,
    queue_workers: int = 0,
) -> None:
    """Serve the app until interrupted, with ``queue_workers`` pack workers beside it."""
    config: dict[str, Any] = {"DATABASE_URL": db_url, **(extra or {})}
    if secret_key:
        config["SECRET_KEY"] = secret_key
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "timeout": 60,
        "graceful_timeout": 20,
        "accesslog": None,  # no request log: URLs can hold access codes
        "errorlog": "-",
        "loglevel": "warning",
        "preload_app": False,
    }
    with consumer_beside(db_url=db_url, workers=queue_workers):
        _Server(options, config).run()


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=default_workers,
    type=int,
    help="Worker processes.",
)
@click.option(
    "--threads",
    default=DEFAULT_THREADS,
    show_default=True,
    type=int,
    help="Threads per worker (1: synchronous workers, the fastest for submits).",
)
@click.option(
    "--queue-workers",
    default=lambda: int(os.environ.get("PLACEVOICE_PACK_JOBS", "2")),
    show_default="$PLACEVOICE_PACK_JOBS or 2",
    type=click.IntRange(min=0),
    help="Pack workers started beside the server (placevoice worker); 0 when other"
    " machines run them.",
)
def serve(
    db_url: str | None, host: str, port: int, workers: int, threads: int, queue_workers: int
) -> None:
    """Serve the app on the current database with gunicorn."""
    engine = open_db(db_url)
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    if not os.environ.get("PLACEVOICE_SECRET_KEY"):
        click.echo(
            "warning: PLACEVOICE_SECRET_KEY is not set; using a random key for this run"
            " (sign-ins end when the server restarts)",
            err=True,
        )
        secret = secrets.token_urlsafe(48)
    else:
        secret = None
    click.echo(
        f"placevoice serving on http://{host}:{port}/ ({workers} workers,"
        f" {queue_workers} pack workers)"
    )
    run_server(
        db_url=url,
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        secret_key=secret,
        queue_workers=queue_workers,
    )
