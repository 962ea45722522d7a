"""Stored instruments belong to the community that imported them; built-ins are public.

Another community's admin neither sees such an instrument in any list, nor downloads its
XLSForm, nor uses it in a wave (web app and command line).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, inspect, select, text

from instruments import load_instrument
from surveys.db import alembic_config, make_engine, migrate
from surveys.errors import NotFound, ServiceError
from surveys.models import InstrumentVersion, Wave
from surveys.services import create_user, create_wave, get_or_create_community
from surveys.services.setup import register_instrument
from tests.conftest import PASSWORD
from tests.security.conftest import World

LOCAL_FORM = (
    "| survey |\n| | type | name | label |\n| | text | local_q | Only ours |\n"
    "| settings |\n| | form_id | version | form_title |\n| | local_form | 1 | Our own form |\n"
)


def _instrument(text: str = LOCAL_FORM) -> Any:
    return load_instrument(text.encode(), file_type=".md", name="local_form")


@pytest.fixture
def owned(session: Any, world: World) -> InstrumentVersion:
    """``local_form``, imported by community 1 (the world's)."""
    version = register_instrument(session, _instrument(), community_id=world.wave.community_id)
    session.commit()
    return version


@pytest.fixture
def admin2(app: Any, session: Any, world: World) -> Any:
    """A signed-in client of community 2's admin."""
    other = get_or_create_community(session, slug="other", name="Other Community")
    session.flush()
    create_user(
        session, community=other, email="admin@other.example", password=PASSWORD, role="admin"
    )
    session.commit()
    client = app.test_client()
    reply = client.post("/login", data={"email": "admin@other.example", "password": PASSWORD})
    assert reply.status_code == 302
    client.community = other
    return client


def test_an_imported_instrument_records_its_community(
    owned: InstrumentVersion, world: World, session: Any
) -> None:
    assert owned.community_id == world.wave.community_id
    builtins = session.scalars(
        select(InstrumentVersion).where(InstrumentVersion.instrument_id == "pupil_perception")
    ).all()
    assert builtins and all(v.community_id is None for v in builtins)


def test_another_communitys_instrument_is_not_listed(
    owned: InstrumentVersion, admin2: Any, client_as: Any, session: Any
) -> None:
    builtin = session.scalar(
        select(InstrumentVersion.id).where(InstrumentVersion.instrument_id == "pupil_perception")
    )
    # the results page lists XLSForm downloads; the new-wave form offers instruments
    for url, ours, public in (
        ("/results/", f"/instruments/{owned.id}/", f"/instruments/{builtin}/"),
        ("/admin/waves", 'value="local_form"', 'value="pupil_perception"'),
    ):
        theirs = admin2.get(url).get_data(as_text=True)
        assert "Our own form" not in theirs and ours not in theirs, url
        assert public in theirs, url  # built-ins are offered to everyone
        mine = client_as("admin").get(url).get_data(as_text=True)
        assert "Our own form" in mine and ours in mine, url


@pytest.mark.parametrize("suffix", ["xlsform", "xlsform.xlsx"])
def test_another_communitys_xlsform_cannot_be_downloaded(
    owned: InstrumentVersion, admin2: Any, client_as: Any, session: Any, suffix: str
) -> None:
    url = f"/results/instruments/{owned.id}/{suffix}"
    assert admin2.get(url).status_code == 404
    assert client_as("admin").get(url).status_code == 200
    builtin = session.scalar(
        select(InstrumentVersion.id).where(InstrumentVersion.instrument_id == "pupil_perception")
    )
    assert admin2.get(f"/results/instruments/{builtin}/{suffix}").status_code == 200


def test_a_wave_cannot_use_another_communitys_instrument(
    owned: InstrumentVersion, admin2: Any, session: Any
) -> None:
    reply = admin2.post("/admin/waves", data={"name": "Theirs", "instruments": "local_form"})
    assert reply.status_code == 200  # the form again, with the error
    assert session.scalar(select(func.count()).select_from(Wave).where(Wave.name == "Theirs")) == 0
    with pytest.raises(NotFound, match="local_form"):
        create_wave(
            session, community=admin2.community, name="Theirs", instrument_ids=["local_form"]
        )
    session.rollback()


def test_an_instrument_id_of_another_community_cannot_be_imported(
    owned: InstrumentVersion, admin2: Any, session: Any
) -> None:
    newer = LOCAL_FORM.replace("| local_form | 1 |", "| local_form | 2 |")
    with pytest.raises(ServiceError, match="local_form"):
        register_instrument(session, _instrument(newer), community_id=admin2.community.id)
    session.rollback()
    with pytest.raises(ServiceError, match="local_form"):
        register_instrument(session, _instrument(), community_id=admin2.community.id)


def test_cli_import_records_the_community(
    tmp_path: Path, run_cli: Any, session: Any, db_url: str
) -> None:
    assert run_cli("init").exit_code == 0
    form = tmp_path / "local.md"
    form.write_text(LOCAL_FORM)
    assert run_cli("instruments", "import", str(form)).exit_code == 0
    engine = make_engine(db_url)
    with engine.connect() as conn:
        owner, community = conn.execute(
            text(
                "SELECT v.community_id, c.id FROM instrument_versions v, communities c"
                " WHERE v.instrument_id = 'local_form'"
            )
        ).one()
    engine.dispose()
    assert owner == community
    assert "local_form" in run_cli("instruments", "list").output


def test_the_migration_gives_existing_local_instruments_to_the_only_community(
    tmp_path: Path,
) -> None:
    """Upgrading a database made before ownership: built-ins stay public, others are the
    community's (the command line always served one community per database)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(engine), "0001")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO communities (id, slug, name, suppression_k, created_at)"
                " VALUES (1, 'c', 'C', 10, '2026-01-01')"
            )
        )
        for iid in ("pupil_perception", "local_form"):
            conn.execute(
                text(
                    "INSERT INTO instrument_versions (instrument_id, version, title, source,"
                    " source_format, created_at) VALUES (:i, '1', 't', x'00', '.md', '2026-01-01')"
                ),
                {"i": iid},
            )
    migrate(engine)
    assert "community_id" in {c["name"] for c in inspect(engine).get_columns("instrument_versions")}
    with engine.connect() as conn:
        owners = dict(
            conn.execute(text("SELECT instrument_id, community_id FROM instrument_versions")).all()
        )
    engine.dispose()
    assert owners == {"pupil_perception": None, "local_form": 1}
