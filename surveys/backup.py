"""Backups and restores of a SQLite database, safe while the server runs.

Copying ``placevoice.db`` with ``cp`` while the app is running misses whatever is still in
the write-ahead log (``placevoice.db-wal``) and can catch a page half written. These
functions use SQLite's online backup API instead: the copy is one consistent snapshot of
the database, WAL included, taken while writers carry on (in WAL mode a reader never blocks
them). Every file is written under a temporary name, checked with ``PRAGMA
integrity_check`` and renamed into place, so an interrupted backup leaves nothing behind
that looks like a backup.

:func:`restore_sqlite` checks that a file is a placevoice database whose schema this
version knows, keeps a consistent copy of the database it replaces beside it, and writes
the backup into the live file through the same API (so a server still connected sees the
restored data, and no stale ``-wal`` file is left to be replayed over it).

PostgreSQL is backed up with its own tools (``pg_dump``/``pg_restore``);
:func:`pg_dump_command` and :func:`pg_restore_command` build those commands.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Mapping
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, make_url

__all__ = [
    "BackupError",
    "BackupInfo",
    "backup_sqlite",
    "check_backup",
    "pg_dump_command",
    "pg_environment",
    "pg_restore_command",
    "restore_sqlite",
    "sqlite_file",
]

_HEADER = b"SQLite format 3\x00"
_MIGRATIONS = Path(__file__).with_name("migrations")
#: Tables every placevoice database has; a file without them is something else.
_TABLES = ("alembic_version", "communities", "responses", "waves")


class BackupError(ValueError):
    """A backup or restore that cannot be done, with a message the user can act on."""


@dataclass(frozen=True)
class BackupInfo:
    """What a checked backup file holds."""

    path: Path
    revision: str
    communities: int
    responses: int
    size: int


def sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for another database (or in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if not database or database == ":memory:":
        return None
    return Path(database)


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    connection.execute("PRAGMA busy_timeout=30000")
    return connection


def _known_revisions() -> set[str]:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    return {revision.revision for revision in script.walk_revisions()}


def _inspect(connection: sqlite3.Connection, path: Path) -> BackupInfo:
    """Integrity, schema and counts of an open database; raises BackupError if unfit."""
    try:
        result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as err:
        raise BackupError(f"{path}: is not a usable SQLite database ({err})") from None
    if result != ["ok"]:
        raise BackupError(f"{path}: failed its integrity check: {'; '.join(result[:3])}")
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    missing = [name for name in _TABLES if name not in tables]
    if missing:
        raise BackupError(f"{path}: is not a placevoice database (no {', '.join(missing)} table)")
    revisions = [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
    if len(revisions) != 1:
        raise BackupError(f"{path}: has no single schema revision; it cannot be restored")
    revision = revisions[0]
    if revision not in _known_revisions():
        raise BackupError(
            f"{path}: has schema revision {revision}, which this version of placevoice does"
            " not know (a backup from a newer placevoice?): upgrade placevoice first"
        )
    communities = connection.execute("SELECT count(*) FROM communities").fetchone()[0]
    responses = connection.execute("SELECT count(*) FROM responses").fetchone()[0]
    return BackupInfo(path, revision, int(communities), int(responses), path.stat().st_size)


def check_backup(path: Path) -> BackupInfo:
    """Check that ``path`` is a sound placevoice database of a schema this version knows."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    with path.open("rb") as handle:
        if handle.read(len(_HEADER)) != _HEADER:
            raise BackupError(f"{path}: is not a SQLite database (not a placevoice backup)")
    # Read-only and immutable: checking a file never changes it or creates -wal/-shm files.
    uri = f"file:{path.resolve()}?mode=ro&immutable=1"
    with closing(sqlite3.connect(uri, uri=True)) as connection:
        return _inspect(connection, path)


def _fsync_dir(directory: Path) -> None:
    with suppress(OSError):  # not every file system lets a directory be opened
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _snapshot(source: sqlite3.Connection, dest: Path) -> BackupInfo:
    """Copy ``source`` into a temporary file beside ``dest``, check it, rename it."""
    temporary = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    temporary.unlink(missing_ok=True)
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        with closing(sqlite3.connect(str(temporary), isolation_level=None)) as target:
            # One step: a single read transaction on the source, so the copy is one
            # consistent snapshot; in WAL mode writers carry on meanwhile.
            source.backup(target, pages=-1)
            # A backup is one self-contained file: no WAL beside it.
            target.execute("PRAGMA journal_mode=DELETE")
            info = _inspect(target, temporary)
        with temporary.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, dest)
        _fsync_dir(dest.parent)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return BackupInfo(dest, info.revision, info.communities, info.responses, dest.stat().st_size)


def backup_sqlite(source: Path, dest: Path, *, overwrite: bool = False) -> BackupInfo:
    """Write a consistent, checked copy of the database ``source`` to ``dest``.

    Safe while the app is writing: the copy holds every transaction committed before it
    began. The file is readable by its owner only (it holds survey answers).
    """
    if not source.is_file():
        raise BackupError(f"{source}: no such database file")
    if dest.is_dir():
        raise BackupError(f"{dest}: is a folder; give the backup's file name")
    if dest.exists() and not overwrite:
        raise BackupError(f"{dest}: already exists; choose a new name or pass --overwrite")
    if not dest.parent.is_dir():
        raise BackupError(f"{dest.parent}: no such folder")
    if dest.resolve() == source.resolve():
        raise BackupError(f"{dest}: is the database itself")
    with closing(_connect(source)) as connection:
        _inspect(connection, source)
        return _snapshot(connection, dest)


def restore_sqlite(
    backup: Path, target: Path, *, now: dt.datetime | None = None
) -> tuple[BackupInfo, Path | None]:
    """Replace the database ``target`` with the checked backup ``backup``.

    Returns the backup's description and where the replaced database was kept (None when
    there was no database yet). The kept copy is a consistent snapshot, WAL included,
    named ``{target}.before-restore-YYYYmmddTHHMMSSZ``.
    """
    info = check_backup(backup)
    if target.exists() and backup.resolve() == target.resolve():
        raise BackupError(f"{backup}: is the database itself")
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    kept: Path | None = None
    source_uri = f"file:{backup.resolve()}?mode=ro&immutable=1"
    if not target.exists():
        with closing(sqlite3.connect(source_uri, uri=True)) as source:
            _snapshot(source, target)
        return info, None
    kept = target.with_name(f"{target.name}.before-restore-{stamp}")
    if kept.exists():
        raise BackupError(f"{kept}: already exists; wait a second and try again")
    with closing(_connect(target)) as live:
        _snapshot(live, kept)
        with closing(sqlite3.connect(source_uri, uri=True)) as source:
            # Written page by page into the live file under an exclusive lock, through the
            # live file's own WAL: connected servers see the restored database next time
            # they read, and nothing stale is replayed over it.
            source.backup(live, pages=-1)
        live.execute("PRAGMA journal_mode=WAL")
        _inspect(live, target)
    return info, kept


def pg_environment(url: str) -> tuple[URL, Mapping[str, str]]:
    """The URL without its password, and the environment that passes the password.

    A password on the command line would show in the process list; ``PGPASSWORD`` does not.
    """
    parsed = make_url(url)
    env: dict[str, str] = {}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    # URL.set() ignores None, so the password is dropped by building the URL again.
    bare = URL.create(
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )
    return bare, env


def pg_dump_command(url: str, dest: Path) -> list[str]:
    """``pg_dump`` in custom format (compressed, restorable table by table) to ``dest``."""
    bare, _env = pg_environment(url)
    return [
        "pg_dump",
        "--format=custom",
        "--no-owner",
        f"--file={dest}",
        f"--dbname={bare.render_as_string(hide_password=False)}",
    ]


def pg_restore_command(url: str, backup: Path) -> list[str]:
    """``pg_restore`` that replaces the objects of the database at ``url`` with the dump's."""
    bare, _env = pg_environment(url)
    return [
        "pg_restore",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        f"--dbname={bare.render_as_string(hide_password=False)}",
        str(backup),
    ]
