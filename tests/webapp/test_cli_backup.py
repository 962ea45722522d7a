"""``placevoice backup`` and ``placevoice restore`` (SQLite online backup; pg_dump guidance)."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from instruments import load_builtin
from surveys.backup import BackupError, check_backup
from surveys.db import make_engine, make_sessionmaker, migrate
from surveys.models import InstrumentVersion, Site
from surveys.services import (
    create_wave,
    ensure_builtin_instruments,
    get_or_create_community,
    set_wave_status,
    store_response,
)
from webapp.cli import cli


def _run(url: str, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(
        cli, [*args, "--db", url], input=input, env={"PLACEVOICE_DATABASE_URL": ""}
    )


def _ids(path: Path) -> set[str]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM responses")}


@pytest.fixture
def live(tmp_path: Path) -> tuple[str, Path, Callable[[], str]]:
    """A SQLite database with a community and an open wave; ``submit()`` stores a response."""
    path = tmp_path / "placevoice.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate(engine)
    factory = make_sessionmaker(engine)
    with factory() as session:
        community = get_or_create_community(session, slug="community", name="C")
        ensure_builtin_instruments(session)
        wave = create_wave(
            session, community=community, name="Spring 2027", instrument_ids=("pupil_perception",)
        )
        set_wave_status(wave, "open")
        session.add(Site(community=community, code="S1", name="School 1", kind="school"))
        session.commit()
    instrument = load_builtin("pupil_perception")
    item = next(i for i in instrument.answerable_items if i.type == "select_one")

    def submit() -> str:
        rid = str(uuid.uuid4())
        with factory() as session:
            version = session.scalars(select(InstrumentVersion)).first()
            site = session.scalars(select(Site)).one()
            wave_ = session.get(type(wave), wave.id)
            assert version is not None and wave_ is not None
            stored = store_response(
                session,
                response_id=rid,
                wave=wave_,
                version=version,
                channel="import",
                answers={item.name: item.choices[0].name},
                site=site,
                instrument=instrument,
            )
            assert stored.created
            session.commit()  # acknowledged once this returns
        return rid

    yield url, path, submit
    engine.dispose()


def test_backup_under_concurrent_writes_restores_every_acknowledged_response(
    live: tuple[str, Path, Callable[[], str]], tmp_path: Path
) -> None:
    url, path, submit = live
    for _ in range(60):  # answers still in the WAL: a file copy would miss them
        submit()
    acknowledged: list[tuple[float, str]] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            while not stop.is_set():
                rid = submit()
                acknowledged.append((time.monotonic(), rid))
        except BaseException as err:
            errors.append(err)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(acknowledged) < 20:  # the writer is going
            time.sleep(0.01)
        started = time.monotonic()
        result = _run(url, "backup", str(tmp_path / "backup.db"))
        finished = time.monotonic()
        while len([t for t, _ in acknowledged if t > finished]) < 5:  # ...and went on
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert result.exit_code == 0, result.output
    assert "integrity ok" in result.output
    backup = tmp_path / "backup.db"
    assert (backup.stat().st_mode & 0o777) == 0o600
    in_backup = _ids(backup)
    everything = {rid for _, rid in acknowledged}
    before = {rid for t, rid in acknowledged if t < started}
    assert before <= in_backup  # every response acknowledged before the backup began
    assert everything - in_backup  # later ones came after the snapshot
    assert not list(tmp_path.glob(".*partial"))
    assert not Path(f"{backup}-wal").exists()  # one self-contained file

    assert "backup.db" in _run(url, "audit", "--action", "backup").output
    live_ids = _ids(path)
    result = _run(url, "restore", str(backup), "--yes")
    assert result.exit_code == 0, result.output
    assert _ids(path) == in_backup
    kept = list(tmp_path.glob("placevoice.db.before-restore-*"))
    assert len(kept) == 1 and _ids(kept[0]) == live_ids  # the replaced database, WAL and all
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    submit()  # the restored database takes new responses
    log = _run(url, "audit", "--action", "restore")
    assert "restore" in log.output and "backup.db" in log.output


def test_restore_refuses_without_yes_and_keeps_the_database(
    live: tuple[str, Path, Callable[[], str]], tmp_path: Path
) -> None:
    url, path, submit = live
    first = submit()
    assert _run(url, "backup", str(tmp_path)).exit_code == 0
    backup = next(tmp_path.glob("placevoice-*.db"))
    second = submit()
    result = _run(url, "restore", str(backup), input="n\n")
    assert result.exit_code == 1
    assert "nothing was changed" in result.output
    assert _ids(path) == {first, second}
    result = _run(url, "restore", str(backup), input="y\n")
    assert result.exit_code == 0, result.output
    assert _ids(path) == {first}


def test_restore_refuses_files_that_are_not_placevoice_databases(
    live: tuple[str, Path, Callable[[], str]], tmp_path: Path
) -> None:
    url, path, submit = live
    submit()
    text = tmp_path / "notes.db"
    text.write_text("not a database")
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as connection:
        connection.execute("CREATE TABLE t (x)")
    newer = tmp_path / "newer.db"
    assert _run(url, "backup", str(newer)).exit_code == 0
    with closing(sqlite3.connect(newer)) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'ffff9999'")
        connection.commit()
    before = _ids(path)
    for file, message in [
        (text, "is not a SQLite database"),
        (other, "is not a placevoice database"),
        (newer, "schema revision ffff9999"),
        (tmp_path / "missing.db", "no such file"),
    ]:
        result = _run(url, "restore", str(file), "--yes")
        assert result.exit_code == 1
        assert message in result.output
    assert _ids(path) == before
    assert not list(tmp_path.glob("placevoice.db.before-restore-*"))


def test_backup_refuses_to_overwrite_and_to_back_up_nothing(
    live: tuple[str, Path, Callable[[], str]], tmp_path: Path
) -> None:
    url, _path, _submit = live
    dest = tmp_path / "b.db"
    dest.write_text("precious")
    result = _run(url, "backup", str(dest))
    assert result.exit_code == 1 and "already exists" in result.output
    assert dest.read_text() == "precious"
    assert _run(url, "backup", str(dest), "--overwrite").exit_code == 0
    assert check_backup(dest).communities == 1
    empty = f"sqlite:///{tmp_path / 'none.db'}"
    result = _run(empty, "backup", str(tmp_path / "c.db"))
    assert result.exit_code == 1 and "not set up" in result.output


def test_check_backup_names_a_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    data = bytearray(path.read_bytes())
    data[4096 * 2 : 4096 * 2 + 200] = b"\xff" * 200
    path.write_bytes(bytes(data))
    with pytest.raises(BackupError, match=r"x\.db"):
        check_backup(path)


def test_postgres_backup_prints_pg_dump_without_the_password(tmp_path: Path) -> None:
    url = "postgresql://pv:s3cret@db.internal:5432/placevoice"
    result = _run(url, "backup", str(tmp_path / "pv.dump"))
    assert result.exit_code == 0
    assert "pg_dump --format=custom" in result.output
    assert "s3cret" not in result.output
    result = _run(url, "restore", str(tmp_path / "pv.dump"), "--yes")
    assert result.exit_code == 1
    assert "pg_restore --clean" in result.output and "s3cret" not in result.output
