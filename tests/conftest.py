"""Shared fixtures: app, client, CLI runner, database and factory fixtures, browser.

The database is SQLite by default: one migrated template file per test session, copied
for each test. Set ``PLACEVOICE_TEST_DATABASE_URL`` to a PostgreSQL URL to run the same
tests on PostgreSQL (each xdist worker gets its own database, emptied between tests).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from surveys.db import make_engine, make_sessionmaker, migrate
from surveys.models import (
    AccessCode,
    Base,
    Community,
    InstrumentVersion,
    SchoolClass,
    Site,
    User,
    Wave,
)
from surveys.services import (
    create_user,
    create_wave,
    ensure_builtin_instruments,
    get_or_create_community,
    issue_code,
    set_wave_status,
)

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"
POSTGRES_URL = os.environ.get("PLACEVOICE_TEST_DATABASE_URL", "")
CHROMIUM = os.environ.get("PLACEVOICE_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "correct horse battery staple"


def need(condition: bool, reason: str) -> None:
    """Skip with ``reason`` when something optional is missing; in CI, fail instead."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI is missing something the tests need: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The provided ``../shared`` folder (XLSForms from the XLSForm project, design docs)."""
    need(SHARED_DIR.is_dir(), f"{SHARED_DIR} is absent (it sits beside the checkout in CI)")
    return SHARED_DIR


# --- database -------------------------------------------------------------------------


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def _postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL database for this worker (only with the env var set)."""
    if not POSTGRES_URL:
        yield ""
        return
    base = make_url(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"placevoice_test_{_worker()}_{os.getpid()}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


def _truncate(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in reversed(Base.metadata.sorted_tables))
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def db_url(tmp_path: Path, _sqlite_template: Path, _postgres_url: str) -> str:
    """A freshly migrated, empty database for this test."""
    if _postgres_url:
        _truncate(_postgres_url)
        return _postgres_url
    path = tmp_path / "placevoice.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the test database."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the test database (tests commit explicitly).

    Its transactions start DEFERRED so that a test reading through it does not hold the
    SQLite write lock while the code under test (CLI, app) writes from another connection.
    """
    sess = make_sessionmaker(engine.execution_options(sqlite_begin="DEFERRED"))()
    yield sess
    sess.rollback()
    sess.close()


# --- app ------------------------------------------------------------------------------


@pytest.fixture
def app_config(db_url: str) -> dict[str, Any]:
    """Configuration for the test app; tests may change it before using ``app``."""
    return {
        "TESTING": True,
        "DATABASE_URL": db_url,
        "SECRET_KEY": "test-" + "k" * 40,
        "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
    }


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Any]:
    """The Flask app on the test database."""
    from webapp import create_app

    application = create_app(app_config)
    yield application
    application.extensions["placevoice.engine"].dispose()


@pytest.fixture
def client(app: Any) -> Any:
    """A test client."""
    return app.test_client()


@pytest.fixture
def run_cli(db_url: str) -> Callable[..., Result]:
    """Run ``placevoice ARGS`` against the test database; returns click's Result."""
    from webapp.cli import cli

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        runner = CliRunner()
        full_env = {"PLACEVOICE_DATABASE_URL": db_url, **(env or {})}
        return runner.invoke(cli, list(args), input=input, env=full_env, catch_exceptions=False)

    return run


# --- factories --------------------------------------------------------------------------


@pytest.fixture
def community(session: Session) -> Community:
    """The community, with the built-in instruments registered."""
    comm = get_or_create_community(session, slug="community", name="Test Children's Community")
    ensure_builtin_instruments(session)
    session.commit()
    return comm


@pytest.fixture
def make_site(session: Session, community: Community) -> Callable[..., Site]:
    """make_site(code, kind="school", name=None, postcodes="", population=None)."""

    def make(
        code: str,
        kind: str = "school",
        name: str | None = None,
        postcodes: str = "",
        population: int | None = None,
    ) -> Site:
        site = Site(
            community=community,
            code=code,
            name=name or f"{kind.title()} {code}",
            kind=kind,
            postcodes=postcodes,
            population=population,
        )
        session.add(site)
        session.commit()
        return site

    return make


@pytest.fixture
def make_class(session: Session) -> Callable[..., SchoolClass]:
    """make_class(site, name="6A", year_group=6, size=28)."""

    def make(
        site: Site, name: str = "6A", year_group: int = 6, size: int | None = 28
    ) -> SchoolClass:
        cls = SchoolClass(site=site, name=name, year_group=year_group, size=size)
        session.add(cls)
        session.commit()
        return cls

    return make


@pytest.fixture
def make_wave(session: Session, community: Community) -> Callable[..., Wave]:
    """make_wave(name="Spring 2027", instruments=built-ins, status="open", previous=None)."""

    def make(
        name: str = "Spring 2027",
        instruments: tuple[str, ...] = ("pupil_perception", "resident_baseline", "peer_interview"),
        status: str = "open",
        previous: str | None = None,
    ) -> Wave:
        wave = create_wave(
            session, community=community, name=name, instrument_ids=instruments, previous=previous
        )
        set_wave_status(wave, status)
        session.commit()
        return wave

    return make


@pytest.fixture
def fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters for accounts made in a test (production keeps its own).

    Modules that sign many accounts in use it with
    ``pytestmark = pytest.mark.usefixtures("fast_passwords")``.
    """
    from argon2 import PasswordHasher

    import surveys.services.setup as setup

    monkeypatch.setattr(
        setup, "_HASHER", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@pytest.fixture
def make_user(session: Session, community: Community) -> Callable[..., User]:
    """make_user(role="admin", email=None, sites=(), password=PASSWORD)."""
    counter = iter(range(1, 10_000))

    def make(
        role: str = "admin",
        email: str | None = None,
        sites: tuple[Site, ...] = (),
        password: str = PASSWORD,
    ) -> User:
        user = create_user(
            session,
            community=community,
            email=email or f"{role}{next(counter)}@example.org",
            password=password,
            role=role,
            display_name=role.replace("_", " ").title(),
            site_ids=[s.id for s in sites],
        )
        session.commit()
        return user

    return make


@pytest.fixture
def make_code(session: Session) -> Callable[..., AccessCode]:
    """make_code(wave, site, school_class=None, kind="class", instrument="pupil_perception")."""

    def make(
        wave: Wave,
        site: Site,
        school_class: SchoolClass | None = None,
        kind: str = "class",
        instrument: str = "pupil_perception",
    ) -> AccessCode:
        version = session.scalar(
            select(InstrumentVersion)
            .where(InstrumentVersion.instrument_id == instrument)
            .order_by(InstrumentVersion.id.desc())
        )
        assert version is not None
        code = issue_code(
            session, wave=wave, version=version, kind=kind, site=site, school_class=school_class
        )
        session.commit()
        return code

    return make


@pytest.fixture
def login(client: Any) -> Callable[[User], Any]:
    """login(user): sign the test client in with the factory password."""

    def do(user: User, password: str = PASSWORD) -> Any:
        response = client.post("/login", data={"email": user.email, "password": password})
        assert response.status_code in (302, 303), response.data[:500]
        return response

    return do


# --- live server and browser -----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    """The app served on a local port in a thread; yields its base URL."""
    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(timeout=5)


CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    need(Path(CHROMIUM).exists(), f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page."""
    context = browser.new_context()
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path) -> str:
    """A SQLite database holding the full demo community (default seed), built once."""
    from surveys.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copyfile(_sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session, session.begin():
        result = build_demo(session)
    engine.dispose()
    assert result.built
    return url


@pytest.fixture
def demo(demo_url: str) -> Iterator[Session]:
    """A session on the built demo; whatever a test changes is rolled back."""
    engine = make_engine(demo_url)
    session = make_sessionmaker(engine)()
    yield session
    session.rollback()
    session.close()
    engine.dispose()
