"""Models, migrations and the SQLite settings, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session

from instruments import load_builtin
from surveys.db import database_url, make_engine, make_sessionmaker, migrate
from surveys.errors import Conflict, NotFound, RowErrors, ServiceError
from surveys.models import Base, Community, InstrumentVersion, Response, Wave
from surveys.services import (
    create_wave,
    get_wave,
    import_sites,
    latest_instrument_version,
    parse_sites_csv,
    register_instrument,
    store_response,
)
from surveys.services.setup import verify_password


def test_database_url_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLACEVOICE_DATABASE_URL", raising=False)
    assert database_url() == "sqlite:///placevoice.db"
    monkeypatch.setenv("PLACEVOICE_DATABASE_URL", "postgres://u:p@h/db")
    assert database_url() == "postgresql+psycopg://u:p@h/db"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_migrations_create_every_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_the_migrations_build_exactly_the_models_schema(engine: Engine) -> None:
    """A model change without its Alembic revision (or the other way round) fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_migrating_twice_is_harmless(engine: Engine) -> None:
    first = migrate(engine)
    assert first and migrate(engine) == first


def test_sqlite_runs_in_wal_mode_with_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_concurrent_sqlite_writers_queue_instead_of_failing(tmp_path: Path) -> None:
    """Read-then-write transactions from many threads: no 'database is locked', no lost rows."""
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    migrate(engine)
    factory = make_sessionmaker(engine)
    with factory() as s:
        s.add(Community(slug="c", name="C"))
        s.commit()
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(15):
                with factory() as s:
                    community = s.scalars(select(Community)).one()  # read first...
                    s.add(Wave(community_id=community.id, name=f"w{n}-{i}"))  # ...then write
                    s.commit()
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with factory() as s:
        assert s.scalar(select(func.count(Wave.id))) == 8 * 15
    engine.dispose()


def test_instrument_versions_are_kept_and_changes_need_a_new_version(
    session: Session, community: Community
) -> None:
    pupil = load_builtin("pupil_perception")
    row = register_instrument(session, pupil)
    assert register_instrument(session, pupil).id == row.id  # idempotent
    changed = dataclasses.replace(pupil, source_bytes=pupil.source_bytes + b"\n")
    with pytest.raises(ServiceError, match="give the changed form a new version"):
        register_instrument(session, changed)
    assert latest_instrument_version(session, "pupil_perception").id == row.id
    with pytest.raises(NotFound):
        latest_instrument_version(session, "nope")


def test_waves_link_instruments_and_previous(session: Session, community: Community) -> None:
    first = create_wave(
        session, community=community, name="Spring 2026", instrument_ids=["pupil_perception"]
    )
    second = create_wave(
        session,
        community=community,
        name="Spring 2027",
        instrument_ids=["pupil_perception", "resident_baseline"],
        previous="Spring 2026",
    )
    session.commit()
    assert second.previous_id == first.id
    assert {wi.instrument_version.instrument_id for wi in second.instruments} == {
        "pupil_perception",
        "resident_baseline",
    }
    assert get_wave(session, community, "Spring 2027").id == second.id
    with pytest.raises(ServiceError, match="already exists"):
        create_wave(session, community=community, name="Spring 2027", instrument_ids=[])
    with pytest.raises(NotFound, match="no wave called 'Autumn'"):
        create_wave(session, community=community, name="X", instrument_ids=[], previous="Autumn")


def test_sites_csv_reports_every_bad_row_and_stores_nothing(
    session: Session, community: Community
) -> None:
    data = (
        b"site_id,name,kind,postcodes,population\n"
        b"S1,Brook Lane Primary,school,,240\n"
        b"S1,Duplicate,school,,\n"
        b",No id,area,E8 1,\n"
        b"A1,Hollins,estate,,\n"
        b"A2,Marsh,area,e8 2 e8 3,lots\n"
    )
    with pytest.raises(RowErrors) as err:
        parse_sites_csv(data, source="sites.csv")
    assert err.value.problems == [
        "sites.csv: row 3, column site_id: 'S1' appears twice",
        "sites.csv: row 4, column site_id: is empty",
        "sites.csv: row 5, column kind: 'estate' must be school or area",
        "sites.csv: row 6, column population: 'lots' is not a whole number",
    ]
    with pytest.raises(ServiceError, match="row 1: missing column"):
        parse_sites_csv(b"id,name\n1,x\n")
    rows = parse_sites_csv(
        b"\xef\xbb\xbfsite_id,name,kind,postcodes\nS1,Brook,school,\nA1,Marsh,area,e8 2  E8 3\n"
    )
    assert import_sites(session, community, rows) == (2, 0)
    assert import_sites(session, community, rows) == (0, 2)
    session.commit()
    area = next(s for s in community.sites if s.code == "A1")
    assert area.postcodes == "E8 2 E8 3"


def test_store_response_is_idempotent_and_refuses_conflicts(
    session: Session,
    community: Community,
    make_wave,
    make_site,  # type: ignore[no-untyped-def]
) -> None:
    wave = make_wave()
    site = make_site("S1")
    version = session.scalar(
        select(InstrumentVersion).where(InstrumentVersion.instrument_id == "pupil_perception")
    )
    assert version is not None
    rid = str(uuid.uuid4())
    instrument = load_builtin("pupil_perception")
    item = next(i for i in instrument.answerable_items if i.type == "select_one")
    answers = {item.name: item.choices[0].name}
    first = store_response(
        session,
        response_id=rid,
        wave=wave,
        version=version,
        channel="import",
        answers=answers,
        site=site,
    )
    assert first.created and first.response is not None
    again = store_response(
        session,
        response_id=rid,
        wave=wave,
        version=version,
        channel="import",
        answers=answers,
        site=site,
    )
    assert not again.created
    with pytest.raises(Conflict, match="different answers"):
        store_response(
            session,
            response_id=rid,
            wave=wave,
            version=version,
            channel="import",
            answers={item.name: item.choices[1].name},
            site=site,
        )
    bad = store_response(
        session,
        response_id=str(uuid.uuid4()),
        wave=wave,
        version=version,
        channel="import",
        answers={item.name: "not-a-choice"},
        site=site,
    )
    assert bad.response is None and not bad.validated.ok
    session.commit()
    assert session.scalar(select(func.count(Response.id))) == 1
    stored = session.get(Response, rid)
    assert stored is not None and stored.instrument_version_id == version.id
    with pytest.raises(ValueError):
        store_response(
            session, response_id="not-a-uuid", wave=wave, version=version, channel="web", answers={}
        )


def test_passwords_are_argon2id(make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("admin", password="a long pass phrase")
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user, "a long pass phrase")
    assert not verify_password(user, "wrong")
    user.password_hash = "garbage"
    assert not verify_password(user, "a long pass phrase")


def test_sqlite_writers_queue_at_the_gate_and_go_the_moment_it_opens(tmp_path: Path) -> None:
    """A second writer waits for the first's COMMIT, then starts at once (no busy sleeps)."""
    import time

    url = f"sqlite:///{tmp_path / 'g.db'}"
    first, second = make_engine(url), make_engine(url)
    migrate(first)
    assert (tmp_path / "g.db-writers.lock").exists()
    order: list[str] = []
    holding = threading.Event()

    def hold() -> None:
        with first.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO communities (slug, name, suppression_k, created_at) VALUES ('a', 'A', 10, '2027-01-01')"
            )
            holding.set()
            time.sleep(0.3)
            order.append("first commits")

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(5)
    started = time.perf_counter()
    with second.begin() as conn:
        order.append("second begins")
        waited = time.perf_counter() - started
        conn.exec_driver_sql(
            "INSERT INTO communities (slug, name, suppression_k, created_at) VALUES ('b', 'B', 10, '2027-01-01')"
        )
    thread.join()
    assert order == ["first commits", "second begins"]
    assert 0.2 < waited < 0.29 + 0.2  # woke with the release, not on a busy-handler sleep
    with first.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM communities").scalar() == 2
    # a rolled-back or failed transaction opens the gate too
    with pytest.raises(RuntimeError):
        with first.begin():
            raise RuntimeError("boom")
    with second.begin() as conn:
        conn.exec_driver_sql("SELECT 1")
    first.dispose()
    second.dispose()


def test_the_gate_opens_at_commit_while_the_connection_stays_out(tmp_path: Path) -> None:
    """A connection kept after COMMIT (Core use) must not keep other writers waiting."""
    import time

    url = f"sqlite:///{tmp_path / 'k.db'}"
    first, second = make_engine(url), make_engine(url)
    migrate(first)
    insert = (
        "INSERT INTO communities (slug, name, suppression_k, created_at)"
        " VALUES ('{0}', '{0}', 10, '2027-01-01')"
    )
    with first.connect() as kept:
        with kept.begin():
            kept.exec_driver_sql(insert.format("a"))
        done = threading.Event()

        def write() -> None:
            with second.begin() as conn:
                conn.exec_driver_sql(insert.format("b"))
            done.set()

        thread = threading.Thread(target=write, daemon=True)
        thread.start()
        assert done.wait(5), "another writer waited for a committed connection to be returned"
        thread.join()
        started = time.perf_counter()
        with kept.begin():  # and the same connection writes again straight away
            kept.exec_driver_sql(insert.format("c"))
        assert time.perf_counter() - started < 1
        kept.execution_options(sqlite_begin="DEFERRED")
        with kept.begin():
            assert kept.exec_driver_sql("SELECT count(*) FROM communities").scalar() == 3
    first.dispose()
    second.dispose()


def test_a_locked_database_at_begin_is_sqlalchemys_operational_error(tmp_path: Path) -> None:
    """BEGIN goes straight to the driver; its errors still reach the app's 503 handler."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    url = f"sqlite:///{tmp_path / 'l.db'}"
    engine = make_engine(url)
    migrate(engine)
    other = sqlite3.connect(tmp_path / "l.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program holding the write lock
    try:
        with engine.connect() as conn:
            conn.connection.dbapi_connection.execute("PRAGMA busy_timeout=50")
            with pytest.raises(OperationalError, match="database is locked"):
                conn.begin()
            other.execute("ROLLBACK")
            with make_engine(url).begin() as writer:  # the failed BEGIN left the gate open
                writer.exec_driver_sql("SELECT 1")
            other.execute("BEGIN IMMEDIATE")
            conn.execution_options(sqlite_begin="DEFERRED")  # readers are not blocked
            with conn.begin():
                assert conn.exec_driver_sql("SELECT count(*) FROM communities").scalar() == 0
    finally:
        other.execute("ROLLBACK")
        other.close()
        engine.dispose()
