"""Submitting a draft: exactly once, validated, holding the write lock as briefly as possible.

A submission is a status transition, ``draft`` -> ``submitted``, with the checks and the
content hash of :func:`surveys.services.store_response`. It is done optimistically:

1. the draft is read in a plain read transaction (on SQLite a ``DEFERRED`` one, which takes
   no lock and never waits for writers in WAL mode), and its answers are validated and
   hashed with no lock held;
2. one conditional ``UPDATE`` commits the transition, only if the draft is still the one
   that was read: still a draft, the same ``updated_at``, language and site, and its wave
   not closed. On SQLite that write is the whole ``BEGIN IMMEDIATE`` transaction, so
   writers queue for the lock for the time of one small update instead of a read, a
   validation and a hash.

If the update changes nothing, something happened in between: a double click or a retry
already submitted it (returned with ``created`` False), the wave was closed
(:class:`~surveys.services.drafts.DraftError`), or a page was saved from another window (read
again). After a few such races the read, validation and write are done together under the
write lock (``SELECT ... FOR UPDATE`` on PostgreSQL), as a plain locked transaction.

On SQLite the two statements run on the pooled DB-API connection (:class:`_SQLiteStore`):
the same Core statements, compiled once by SQLAlchemy with its type conversions, without
its execution layer, which costs several times what SQLite itself does for them. Other
databases use SQLAlchemy Core (:class:`_CoreStore`). Both store identical rows
(``tests/surveys/test_submit.py``).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import weakref
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy import Connection, Engine, Table, bindparam, exists, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from instruments import Instrument
from surveys.db import sqlite_write
from surveys.models import InstrumentVersion, Response, Wave, utcnow
from surveys.services.drafts import DraftError, DraftProblem
from surveys.services.responses import answers_hash
from surveys.services.setup import instrument_of
from surveys.validation import Validated, validate_answers

__all__ = ["OPTIMISTIC_TRIES", "Submitted", "submit_draft"]

#: Optimistic attempts before submitting under the write lock.
OPTIMISTIC_TRIES = 3


@dataclass(frozen=True)
class Submitted:
    """The outcome of a submission: which response, whether this call stored it, errors."""

    response_id: str
    channel: str
    language: str
    created: bool
    validated: Validated | None = None


_RESPONSES = cast(Table, Response.__table__)
_WAVES = cast(Table, Wave.__table__)
_COLUMNS = (
    _RESPONSES.c.status,
    _RESPONSES.c.wave_id,
    _RESPONSES.c.instrument_version_id,
    _RESPONSES.c.site_id,
    _RESPONSES.c.class_id,
    _RESPONSES.c.channel,
    _RESPONSES.c.language,
    _RESPONSES.c.answers,
    _RESPONSES.c.updated_at,
    _WAVES.c.status,
)
#: Built once, in Core (no ORM machinery on the submit path).
_READ = (
    select(*_COLUMNS)
    .select_from(_RESPONSES.join(_WAVES, _WAVES.c.id == _RESPONSES.c.wave_id))
    .where(_RESPONSES.c.id == bindparam("rid"))
)
_READ_LOCKED = _READ.with_for_update(of=_RESPONSES)
_WRITE = (
    update(_RESPONSES)
    .where(
        _RESPONSES.c.id == bindparam("rid"),
        _RESPONSES.c.status == "draft",
        _RESPONSES.c.updated_at == bindparam("seen_updated", type_=_RESPONSES.c.updated_at.type),
        _RESPONSES.c.language == bindparam("seen_language"),
        _RESPONSES.c.site_id.is_not_distinct_from(bindparam("seen_site")),
        ~exists().where(_WAVES.c.id == _RESPONSES.c.wave_id, _WAVES.c.status == "closed"),
    )
    .values(
        status="submitted",
        answers=bindparam("answers", type_=_RESPONSES.c.answers.type),
        content_hash=bindparam("digest"),
        language=bindparam("language"),
        updated_at=bindparam("now", type_=_RESPONSES.c.updated_at.type),
        submitted_at=bindparam("now", type_=_RESPONSES.c.submitted_at.type),
        resume_word=None,
    )
)

_INSTRUMENTS: dict[tuple[str, int], Instrument] = {}


def _instrument_for(engine: Engine, version_id: int) -> Instrument:
    """The parsed instrument of a stored version (versions never change once stored)."""
    key = (str(engine.url), version_id)
    instrument = _INSTRUMENTS.get(key)
    if instrument is None:
        # A read of its own: it may run while this thread holds the write lock.
        with engine.connect() as connection:
            connection.execution_options(sqlite_begin="DEFERRED")
            with Session(bind=connection) as session:
                version = session.get(InstrumentVersion, version_id)
                if version is None:
                    raise DraftError(DraftProblem.NO_DRAFT)
                instrument = instrument_of(version)
        _INSTRUMENTS[key] = instrument
    return instrument


# --- where the draft is read and written ----------------------------------------------------


class _Store(Protocol):
    """The submission's two statements, on one connection."""

    def reading(self) -> AbstractContextManager[None]:
        """A read snapshot."""

    def writing(self) -> AbstractContextManager[None]:
        """A transaction holding the write lock."""

    def read(self, response_id: str, *, lock: bool) -> Sequence[Any] | None:
        """The draft's row (``_COLUMNS``), None if there is none."""

    def write(self, params: dict[str, Any]) -> int:
        """Run ``_WRITE``; the number of rows it changed (0 or 1)."""


class _CoreStore:
    """Any database, through SQLAlchemy Core."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    @contextmanager
    def reading(self) -> Iterator[None]:
        self.connection.execution_options(sqlite_begin="DEFERRED")
        with self.connection.begin():
            yield

    @contextmanager
    def writing(self) -> Iterator[None]:
        self.connection.execution_options(sqlite_begin="IMMEDIATE")
        with self.connection.begin():
            yield

    def read(self, response_id: str, *, lock: bool) -> Sequence[Any] | None:
        statement = _READ_LOCKED if lock else _READ
        return self.connection.execute(statement, {"rid": response_id}).one_or_none()

    def write(self, params: dict[str, Any]) -> int:
        return int(self.connection.execute(_WRITE, params).rowcount)


class _Prepared:
    """A statement compiled once for SQLite, with SQLAlchemy's own type conversions."""

    def __init__(self, statement: Any, dialect: Any, result_types: Sequence[Any] = ()) -> None:
        compiled = statement.compile(dialect=dialect)
        self.compiled = compiled
        self.sql = str(compiled)
        self.order = tuple(compiled.positiontup or ())
        self.to_db = {
            name: compiled.binds[name].type.bind_processor(dialect) for name in self.order
        }
        self.from_db = [t.result_processor(dialect, None) for t in result_types]

    def params(self, values: dict[str, Any]) -> tuple[Any, ...]:
        given = self.compiled.construct_params(values)
        out = []
        for name in self.order:
            value, convert = given[name], self.to_db[name]
            out.append(value if convert is None or value is None else convert(value))
        return tuple(out)

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if convert is None or value is None else convert(value)
            for convert, value in zip(self.from_db, raw, strict=True)
        )


class _SQLiteStore:
    """SQLite, on the pooled DB-API connection.

    A submit is two small statements, and on SQLite SQLAlchemy's execution layer costs
    several times what SQLite itself does for them; under many workers that difference
    is most of a submit's cost. The statements are the same Core ones, compiled by
    SQLAlchemy, with its type conversions; the write transaction queues at the same
    writer gate (:func:`surveys.db.sqlite_write`); the read is one statement in
    SQLite's own snapshot; driver errors surface as SQLAlchemy's.
    """

    def __init__(self, engine: Engine, dbapi_connection: Any) -> None:
        self.engine = engine
        self.dbapi = dbapi_connection
        self.read_sql, self.write_sql = _sqlite_statements(engine)

    @contextmanager
    def reading(self) -> Iterator[None]:
        yield  # one SELECT: it is its own read transaction

    def writing(self) -> AbstractContextManager[None]:
        return sqlite_write(self.engine, self.dbapi)

    def read(self, response_id: str, *, lock: bool) -> Sequence[Any] | None:
        params = self.read_sql.params({"rid": response_id})
        raw = self._run(self.read_sql.sql, params).fetchone()
        return None if raw is None else self.read_sql.row(raw)

    def write(self, params: dict[str, Any]) -> int:
        return int(self._run(self.write_sql.sql, self.write_sql.params(params)).rowcount)

    def _run(self, sql: str, params: tuple[Any, ...]) -> Any:
        try:
            return self.dbapi.execute(sql, params)
        except sqlite3.Error as err:
            raise DBAPIError.instance(sql, params, err, sqlite3.Error) from err


_SQLITE_STATEMENTS: weakref.WeakKeyDictionary[Engine, tuple[_Prepared, _Prepared]] = (
    weakref.WeakKeyDictionary()
)


def _sqlite_statements(engine: Engine) -> tuple[_Prepared, _Prepared]:
    prepared = _SQLITE_STATEMENTS.get(engine)
    if prepared is None:
        dialect = engine.dialect
        prepared = _SQLITE_STATEMENTS[engine] = (
            _Prepared(_READ, dialect, [column.type for column in _COLUMNS]),
            _Prepared(_WRITE, dialect),
        )
    return prepared


@contextmanager
def _store(engine: Engine) -> Iterator[_Store]:
    """A store on a connection from ``engine``'s pool, returned afterwards."""
    if engine.dialect.name == "sqlite" and engine.dialect.driver == "pysqlite":
        proxy = engine.raw_connection()
        try:
            yield _SQLiteStore(engine, proxy.dbapi_connection)
        finally:
            proxy.close()
    else:
        with engine.connect() as connection:
            yield _CoreStore(connection)


# --- submitting ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ready:
    """A validated draft, and the values it had when it was read."""

    submitted: Submitted
    params: dict[str, Any]


def _prepare(store: _Store, engine: Engine, response_id: str, *, lock: bool) -> Submitted | _Ready:
    """Read and check the draft; a final outcome, or what to write."""
    row = store.read(response_id, lock=lock)
    if row is None:
        raise DraftError(DraftProblem.NO_DRAFT)
    (status, wave_id, version_id, site_id, class_id, channel, language, answers, updated_at) = row[
        :9
    ]
    if status != "draft":
        return Submitted(response_id, channel, language, False)
    if row[9] == "closed":
        raise DraftError(DraftProblem.WAVE_CLOSED)
    instrument = _instrument_for(engine, version_id)
    validated = validate_answers(instrument, dict(answers or {}), strict_unknown=True)
    if not validated.ok:
        return Submitted(response_id, channel, language, False, validated)
    content = {
        "answers": validated.answers,
        "wave": wave_id,
        "version": version_id,
        "site": site_id,
        "class": class_id,
    }
    return _Ready(
        Submitted(response_id, channel, language, True, validated),
        {
            "rid": response_id,
            "seen_updated": updated_at,
            "seen_language": language,
            "seen_site": site_id,
            "answers": validated.answers,
            "digest": answers_hash(content),
            "language": language or instrument.default_language,
        },
    )


def submit_draft(engine: Engine, response_id: str, *, now: dt.datetime | None = None) -> Submitted:
    """Turn a draft into a submitted response, exactly once (see the module's docstring).

    Returns the outcome: ``created`` True if this call submitted it, False if it had been
    submitted already or its answers do not validate (``validated`` then has the errors).
    Raises :class:`DraftError` if there is no such draft or its wave is closed. Uses its
    own connection and transactions: nothing of the caller's is committed.
    """
    with _store(engine) as store:
        for _ in range(OPTIMISTIC_TRIES):
            with store.reading():
                ready = _prepare(store, engine, response_id, lock=False)
            if isinstance(ready, Submitted):
                return ready
            with store.writing():
                written = store.write({**ready.params, "now": now or utcnow()})
            if written == 1:
                return ready.submitted
        # The draft kept changing between read and write: do it all under the write lock.
        with store.writing():
            ready = _prepare(store, engine, response_id, lock=True)
            if not isinstance(ready, Submitted):
                store.write({**ready.params, "now": now or utcnow()})
                ready = ready.submitted
        return ready
