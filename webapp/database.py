"""One engine per app, one session per request (``db_session()``)."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from surveys.db import make_engine, make_sessionmaker

__all__ = ["configure_db", "db_engine", "db_session", "session_factory"]


def configure_db(app: Flask) -> None:
    """Create the engine and close the request's session after each request."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["placevoice.engine"] = engine
    app.extensions["placevoice.sessions"] = make_sessionmaker(engine)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.close()


def db_engine() -> Engine:
    """The app's engine (for services that manage their own short transactions)."""
    engine: Engine = current_app.extensions["placevoice.engine"]
    return engine


def session_factory() -> sessionmaker[Session]:
    """The app's session factory."""
    factory: sessionmaker[Session] = current_app.extensions["placevoice.sessions"]
    return factory


def db_session() -> Session:
    """The current request's session (opened on first use, closed at teardown)."""
    if "db_session" not in g:
        g.db_session = session_factory()()
    session: Session = g.db_session
    return session
