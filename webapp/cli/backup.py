"""``placevoice backup`` and ``placevoice restore``.

SQLite databases are copied with SQLite's online backup API (safe while the server runs);
PostgreSQL databases with ``pg_dump`` / ``pg_restore``, whose commands are printed (and, for
a backup, run with ``--run``). See docs/backups.md.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import click

from surveys.backup import (
    BackupError,
    backup_sqlite,
    check_backup,
    pg_dump_command,
    pg_environment,
    pg_restore_command,
    restore_sqlite,
    sqlite_file,
)
from surveys.db import database_url, make_engine, migrate
from surveys.services.audit import audit
from webapp.cli.common import db_option, fail, open_db, session_for

__all__ = ["backup", "restore"]


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(backup)
    cli.add_command(restore)


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")


def _record(db_url: str | None, action: str, **detail: object) -> None:
    engine = open_db(db_url)
    with session_for(engine) as session:
        audit(session, None, action, "database", "", **detail)
    engine.dispose()


@click.command()
@click.argument("dest", type=click.Path(path_type=Path))
@db_option
@click.option("--overwrite", is_flag=True, help="Replace DEST if it exists.")
@click.option("--run", "run_pg", is_flag=True, help="PostgreSQL: run pg_dump (else print it).")
def backup(dest: Path, db_url: str | None, overwrite: bool, run_pg: bool) -> None:
    """Write a consistent, checked copy of the database to DEST (a file, or a folder).

    Safe while the server runs. Given a folder, the file is named
    placevoice-YYYYmmdd-HHMMSS.db (.dump on PostgreSQL).
    """
    url = database_url(db_url)
    path = sqlite_file(url)
    if path is None:
        _backup_postgres(url, dest, run_pg=run_pg, overwrite=overwrite)
        return
    open_db(db_url).dispose()  # refuses a database that is not set up
    if dest.is_dir():
        dest = dest / f"placevoice-{_stamp()}.db"
    try:
        info = backup_sqlite(path, dest, overwrite=overwrite)
    except BackupError as err:
        fail(str(err))
        return
    _record(db_url, "backup", file=info.path.name, responses=info.responses)
    click.echo(
        f"backup: {info.path} ({info.size / 1_048_576:.1f} MB, {info.responses} responses,"
        f" schema {info.revision}, integrity ok)"
    )


def _backup_postgres(url: str, dest: Path, *, run_pg: bool, overwrite: bool) -> None:
    if dest.is_dir():
        dest = dest / f"placevoice-{_stamp()}.dump"
    command = pg_dump_command(url, dest)
    shown = shlex.join(command)
    if not run_pg:
        click.echo("This is a PostgreSQL database: back it up with pg_dump, for example")
        click.echo(f"  PGPASSWORD=... {shown}")
        click.echo("or run 'placevoice backup --run DEST' to have it run for you.")
        return
    if dest.exists() and not overwrite:
        fail(f"{dest}: already exists; choose a new name or pass --overwrite")
    if shutil.which("pg_dump") is None:
        fail("pg_dump is not installed (Debian: apt install postgresql-client)")
    _bare, extra = pg_environment(url)
    partial = dest.with_name(f".{dest.name}.partial")
    command = pg_dump_command(url, partial)
    env = {**os.environ, **extra}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode == 0:
        check = subprocess.run(  # noqa: S603
            ["pg_restore", "--list", str(partial)],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
        if check.returncode != 0:
            done = check
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        message = (done.stderr or "").strip().splitlines()
        fail(f"pg_dump failed: {message[-1] if message else done.returncode}")
    partial.chmod(0o600)
    os.replace(partial, dest)
    _record(url, "backup", file=dest.name)
    click.echo(f"backup: {dest} ({dest.stat().st_size / 1_048_576:.1f} MB, pg_dump custom format)")


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@db_option
@click.option("--yes", is_flag=True, help="Replace the database without asking.")
def restore(source: Path, db_url: str | None, yes: bool) -> None:
    """Replace the database with the backup SOURCE (the old database is kept aside).

    Stop the server first. SOURCE must be a placevoice database whose schema this version
    knows; an older schema is upgraded after the restore.
    """
    url = database_url(db_url)
    target = sqlite_file(url)
    if target is None:
        click.echo("This is a PostgreSQL database: restore a pg_dump file with, for example")
        click.echo(f"  PGPASSWORD=... {shlex.join(pg_restore_command(url, source))}")
        fail("placevoice restore only restores SQLite files; nothing was changed")
        return
    try:
        info = check_backup(source)
    except BackupError as err:
        fail(str(err))
        return
    if target.exists() and not yes:
        click.echo(
            f"{source}: {info.responses} responses, schema {info.revision}."
            f" This replaces every record in {target}; the current database is kept beside it."
        )
        try:
            agreed = click.confirm("Replace the database?", default=False)
        except click.Abort:  # no answer (end of input)
            agreed = False
        if not agreed:
            fail(f"nothing was changed; pass --yes to replace {target}")
    try:
        info, kept = restore_sqlite(source, target)
    except BackupError as err:
        fail(str(err))
        return
    engine = make_engine(url)
    migrate(engine)  # a backup of an older schema is upgraded
    engine.dispose()
    _record(db_url, "restore", file=source.name, kept=kept.name if kept else "")
    click.echo(f"restored: {target} from {source} ({info.responses} responses)")
    if kept is not None:
        click.echo(f"kept: the database it replaced is {kept}")
