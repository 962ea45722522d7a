"""Engines, sessions and migrations.

SQLite (the default) runs in WAL mode with a busy timeout, and every transaction starts
with ``BEGIN IMMEDIATE`` so concurrent writers queue for the lock instead of failing with
"database is locked" half way through. PostgreSQL is used through a database URL.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, exc, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "DEFAULT_URL",
    "ENV_VAR",
    "alembic_config",
    "database_url",
    "make_engine",
    "make_sessionmaker",
    "migrate",
    "session_scope",
    "sqlite_write",
]

ENV_VAR = "PLACEVOICE_DATABASE_URL"
DEFAULT_URL = "sqlite:///placevoice.db"
#: Milliseconds a SQLite writer waits for the lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000
MIGRATIONS = Path(__file__).with_name("migrations")
#: How a SQLite transaction begins (execution option ``sqlite_begin``): IMMEDIATE takes
#: the write lock at once (the default), DEFERRED is for read-only transactions.
_BEGIN = {"IMMEDIATE": "BEGIN IMMEDIATE", "DEFERRED": "BEGIN DEFERRED"}


def database_url(explicit: str | None = None) -> str:
    """``--db`` if given, else ``PLACEVOICE_DATABASE_URL``, else a SQLite file here."""
    url = explicit or os.environ.get(ENV_VAR) or DEFAULT_URL
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (see :func:`database_url`), with the SQLite settings applied."""
    url = database_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would defer it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    database = make_url(url).database or ""
    gate = _WriterGate(database) if database and database != ":memory:" else None
    if gate is not None:
        _install_writer_gate(engine, gate)
        _GATES[engine] = gate

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        statement = _BEGIN[mode]
        # Straight to the driver: BEGIN needs none of SQLAlchemy's statement handling, and
        # every transaction pays for it. Errors are wrapped as SQLAlchemy's would be.
        try:
            connection.connection.dbapi_connection.execute(statement)
        except sqlite3.Error as err:
            if gate is not None:  # no transaction began, so no COMMIT or ROLLBACK opens it
                gate.release(_owner(connection.connection))
            raise exc.DBAPIError.instance(statement, (), err, sqlite3.Error) from err

    return engine


@contextmanager
def sqlite_write(engine: Engine, dbapi_connection: Any) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` on a DB-API connection from ``engine``'s pool.

    For the few statements that skip SQLAlchemy's execution layer (see
    :mod:`surveys.services.submit`): the transaction queues at the writer gate like every
    other, rolls back on any error, and driver errors are raised as SQLAlchemy's.
    """
    gate = _GATES.get(engine)
    owner = _owner(dbapi_connection)
    if gate is not None:
        gate.acquire(owner)
    try:
        try:
            dbapi_connection.execute(_BEGIN["IMMEDIATE"])
        except sqlite3.Error as err:
            raise exc.DBAPIError.instance(_BEGIN["IMMEDIATE"], (), err, sqlite3.Error) from err
        try:
            yield
            dbapi_connection.execute("COMMIT")
        except BaseException as err:
            with suppress(sqlite3.Error):  # the failed COMMIT may have ended it already
                dbapi_connection.execute("ROLLBACK")
            if isinstance(err, sqlite3.Error):
                raise exc.DBAPIError.instance("COMMIT", (), err, sqlite3.Error) from err
            raise
    finally:
        if gate is not None:
            gate.release(owner)


#: The writer gate of each SQLite engine with a file.
_GATES: weakref.WeakKeyDictionary[Engine, _WriterGate] = weakref.WeakKeyDictionary()


class _WriterGate:
    """Queues this machine's writers to one SQLite file in the kernel, first come first served.

    SQLite's own busy handler waits for a lock by sleeping and retrying (1, 2, 5, 10 ... ms),
    so under many concurrent writers most of the time goes to sleeping while the lock is
    free. Taking an exclusive ``flock`` on a file beside the database (and a thread lock
    within the process) before ``BEGIN IMMEDIATE`` hands the lock over the moment it is
    released. SQLite's own locking still guards the data: the gate only orders the queue,
    and a process that dies releases its ``flock`` with it.
    """

    def __init__(self, database: str) -> None:
        self.path = f"{database}-writers.lock"
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0
        self.owner: int | None = None

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # reopen after a fork
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def acquire(self, owner: int) -> None:
        if not self._thread_lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            return  # give up queueing; SQLite's busy timeout still applies
        try:
            fcntl.flock(self._file(), fcntl.LOCK_EX)
        except OSError:
            self._thread_lock.release()
            return
        self.owner = owner

    def release(self, owner: int) -> None:
        if self.owner != owner:
            return
        self.owner = None
        try:
            fcntl.flock(self._file(), fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


def _owner(connection: Any) -> int:
    """The identity of the DB-API connection behind ``connection`` (a pool proxy or not)."""
    return id(getattr(connection, "dbapi_connection", connection))


def _install_writer_gate(engine: Engine, gate: _WriterGate) -> None:
    """Take the gate before BEGIN IMMEDIATE; give it back after COMMIT or ROLLBACK."""
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    @event.listens_for(engine, "begin")
    def _take(connection: Any) -> None:
        if connection.get_execution_options().get("sqlite_begin", "IMMEDIATE") == "IMMEDIATE":
            gate.acquire(_owner(connection.connection))

    # SQLAlchemy hands these the pool's proxy of the DB-API connection, and the pool's
    # events the DB-API connection itself: the gate's owner is always the latter.
    def do_commit(dbapi_connection: Any) -> None:
        try:
            commit(dbapi_connection)
        finally:
            gate.release(_owner(dbapi_connection))

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            gate.release(_owner(dbapi_connection))

    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]

    @event.listens_for(engine.pool, "checkin")
    def _checkin(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None:
            gate.release(id(dbapi_connection))

    @event.listens_for(engine.pool, "invalidate")
    def _invalidate(dbapi_connection: Any, _record: Any, _exc: Any) -> None:
        gate.release(id(dbapi_connection))


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration that runs the bundled migrations on ``engine``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> str:
    """Create or upgrade the database schema to the newest migration; returns the revision."""
    config = alembic_config(engine)
    command.upgrade(config, "head")
    with engine.connect() as connection:
        from alembic.runtime.migration import MigrationContext

        revision = MigrationContext.configure(connection).get_current_revision()
    return revision or ""


def has_schema(engine: Engine) -> bool:
    """Whether the database has been initialised."""
    return inspect(engine).has_table("alembic_version")
