"""The explorer shows every demo school exactly the figures of its feedback pack."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from exports.packs import build_contexts
from surveys.db import make_engine, make_sessionmaker
from surveys.demo import CURRENT_WAVE, build_demo
from surveys.models import Community, Wave
from surveys.services import create_user
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("fast_passwords")]

FLAGS = {"higher": "Higher", "lower": "Lower", "similar": "Similar"}


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path) -> str:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copyfile(_sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session, session.begin():
        assert build_demo(session).built
    engine.dispose()
    return url


@pytest.fixture
def demo(demo_url: str) -> Iterator[Session]:
    engine = make_engine(demo_url)
    # DEFERRED: reading here must not hold the write lock while the app signs in and audits.
    session = make_sessionmaker(engine.execution_options(sqlite_begin="DEFERRED"))()
    yield session
    session.rollback()
    session.close()
    engine.dispose()


def _csv(client: Any, url: str) -> list[list[str]]:
    reply = client.get(url)
    assert reply.status_code == 200, url
    return list(csv.reader(io.StringIO(reply.get_data(as_text=True).lstrip("\ufeff"))))


def test_explorer_tables_equal_the_packs_for_every_demo_school(
    demo: Session, demo_url: str, tmp_path: Path
) -> None:
    from webapp import create_app

    community = demo.scalars(select(Community)).one()
    admin = create_user(
        demo, community=community, email="explorer@example.org", password=PASSWORD, role="admin"
    )
    demo.commit()
    wave = demo.scalars(select(Wave).where(Wave.name == CURRENT_WAVE.name)).one()
    # The pack's own figures, computed afresh (not through the web app's cache).
    contexts, _ = build_contexts(demo, wave)
    demo.rollback()  # end the read transaction: the app writes (sign-in, audit) meanwhile
    schools = [c for c in contexts if c["kind"] == "school"]
    assert len(schools) >= 15
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": demo_url,
            "SECRET_KEY": "test-" + "k" * 40,
            "WTF_CSRF_ENABLED": False,
            "SESSION_COOKIE_SECURE": False,
            "PACKS_DIR": str(tmp_path / "packs"),
        }
    )
    client = app.test_client()
    assert (
        client.post("/login", data={"email": admin.email, "password": PASSWORD}).status_code == 302
    )
    compared = hidden_cells = 0
    for pack in schools:
        base = f"/explore/{wave.id}/{pack['site']}/table.csv"
        rows = _csv(client, base)
        assert rows[0][6:8] == ["Answers (n)", "This school %"]
        expected = [
            [
                r["n"],
                r["pct"],
                r["ci"],
                r["benchmark"],
                r["diff"],
                FLAGS.get(r["flag"], r["flag"]),
                r["previous"],
                r["change"],
            ]
            for d in pack["domains"]
            for r in d["items"]
        ]
        assert [r[6:] for r in rows[1:]] == expected, pack["site"]
        assert [r[4] for r in rows[1:]] == [r["item"] for d in pack["domains"] for r in d["items"]]
        compared += len(expected)
        hidden_cells += sum(row.count("[c]") for row in expected)
        variables = {t["var"] for d in pack["domains"] for t in d["breakdowns"]}
        assert variables >= {"year_group", "gender"}
        for var in sorted(variables):
            rows = _csv(client, f"{base}?view={var}")
            columns = rows[0][6:]
            by_item = {r[4]: dict(zip(columns, r[6:], strict=True)) for r in rows[1:]}
            for d in pack["domains"]:
                table = next((t for t in d["breakdowns"] if t["var"] == var), None)
                if table is None:
                    continue
                # Every group the pack shows is a column here.
                assert set(table["columns"]) <= set(columns), (pack["site"], var)
                labels = {r["label"]: r["item"] for r in d["items"]}
                for row in table["rows"]:
                    mine = by_item[labels[row["label"]]]
                    for group, text in zip(table["columns"], row["cells"], strict=True):
                        assert mine[group] == text, (pack["site"], var, row["label"], group)
                        compared += 1
                    # A group the pack names as hidden in this topic is [c] here, never a number.
                    for group in table["hidden"]:
                        assert mine.get(group, "[c]") == "[c]"
                        hidden_cells += 1
    assert compared > 3000
    assert hidden_cells > 0  # the demo does hide figures, and they stayed hidden
