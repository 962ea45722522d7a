"""Shared pieces of the command line: the error-catching group, --db, progress bars."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any, TypeVar

import click
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from instruments import InstrumentError
from surveys.db import (
    database_url,
    has_schema,
    make_engine,
    make_sessionmaker,
    migrate,
    session_scope,
)
from surveys.errors import RowErrors, ServiceError

__all__ = [
    "PlacevoiceGroup",
    "community_option",
    "db_option",
    "fail",
    "open_db",
    "progress",
    "session_for",
]

T = TypeVar("T")


class PlacevoiceGroup(click.Group):
    """A group that turns user errors into one clear line and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RowErrors as err:
            for line in err.problems[:50]:
                click.echo(f"error: {line}", err=True)
            if len(err.problems) > 50:
                click.echo(f"error: ... and {len(err.problems) - 50} more", err=True)
            ctx.exit(1)
        except (ServiceError, InstrumentError) as err:
            click.echo(f"error: {err}", err=True)
            ctx.exit(1)
        except OperationalError as err:
            click.echo(f"error: the database could not be used: {err.orig}", err=True)
            ctx.exit(1)


def fail(message: str) -> None:
    """Stop with one error line and exit status 1."""
    raise click.ClickException(message)


def db_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--db URL`` (else PLACEVOICE_DATABASE_URL, else sqlite:///placevoice.db)."""
    return click.option(
        "--db",
        "db_url",
        metavar="URL",
        default=None,
        help="Database URL (default: $PLACEVOICE_DATABASE_URL or sqlite:///placevoice.db).",
    )(func)


def community_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--community SLUG``: which community (needed when the database holds several)."""
    return click.option(
        "--community",
        "community_slug",
        metavar="SLUG",
        default=None,
        help="The community's slug (needed when the database holds more than one).",
    )(func)


def open_db(db_url: str | None, *, create: bool = False) -> Engine:
    """An engine on the database; with ``create`` the schema is made/upgraded first.

    The engine's connections are closed when the command ends, whatever the outcome.
    """
    engine = make_engine(database_url(db_url))
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(engine.dispose)
    if create:
        migrate(engine)
    elif not has_schema(engine):
        fail(
            f"the database {engine.url.render_as_string()} is not set up:"
            " run 'placevoice init' first"
        )
    return engine


def session_for(engine: Engine) -> AbstractContextManager[Session]:
    """A session that commits when the block succeeds and rolls back otherwise."""
    return session_scope(make_sessionmaker(engine))


def progress(items: Iterable[T], *, label: str, length: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar on a terminal; silently otherwise."""
    if not sys.stderr.isatty():
        yield from items
        return
    with click.progressbar(items, label=label, length=length, file=sys.stderr) as bar:
        yield from bar
