"""`placevoice demo`: builds or reports the demo community, optionally with its packs."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.db import make_engine, make_sessionmaker
from surveys.demo import CURRENT_WAVE, DEMO_PASSWORD, DEMO_PIN
from surveys.models import Community, Response


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    """A time as naive UTC (SQLite gives naive values back, PostgreSQL aware ones)."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


@pytest.mark.slow
def test_cli_demo_no_serve_on_a_built_database_reports_and_prints_logins(
    demo_url: str, run_cli: Any
) -> None:
    result = run_cli("demo", "--no-serve", "--db", demo_url)
    assert result.exit_code == 0, result.output
    assert "demo already built (seed 2027)" in result.output
    assert "admin@demo.placevoice.org" in result.output
    assert DEMO_PASSWORD in result.output and f"PIN {DEMO_PIN}" in result.output
    assert "Packs: not generated" in result.output


@pytest.mark.slow
def test_cli_demo_builds_the_same_answers_for_the_same_seed(
    demo: Session, db_url: str, run_cli: Any
) -> None:
    """A full build through the CLI (on PostgreSQL too, when the suite runs there)."""
    result = run_cli("demo", "--no-serve")
    assert result.exit_code == 0, result.output
    assert "demo built in" in result.output
    assert "4," in result.output  # "4,4xx pupil responses"
    assert "head.brooklane@demo.placevoice.org" in result.output
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as other:
        sample = demo.scalars(select(Response).order_by(Response.id).limit(300)).all()
        for mine in sample:
            theirs = other.get(Response, mine.id)
            assert theirs is not None
            assert theirs.answers == mine.answers
            assert _utc(theirs.submitted_at) == _utc(mine.submitted_at)
        total = other.scalar(select(func.count()).select_from(Response))
    engine.dispose()
    assert total == demo.scalar(select(func.count()).select_from(Response))


def test_cli_demo_refuses_a_database_with_another_community(
    community: Community, run_cli: Any
) -> None:
    result = run_cli("demo", "--no-serve")
    assert result.exit_code == 1
    assert "already holds the community" in result.output


@pytest.mark.slow
def test_cli_demo_generates_packs_next_to_the_database(
    demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Any
) -> None:
    """--packs calls the pack generator for the open wave, into demo-packs/ beside the DB."""
    calls: list[dict[str, Any]] = []

    def generate_packs(**kwargs: Any) -> Any:
        calls.append(kwargs)
        Path(kwargs["out_dir"]).mkdir(parents=True, exist_ok=True)
        (Path(kwargs["out_dir"]) / "a.pdf").write_bytes(b"%PDF")
        return types.SimpleNamespace(written=[Path("a.pdf"), Path("b.pdf")], failed=[])

    monkeypatch.setitem(
        sys.modules, "exports.packs", types.SimpleNamespace(generate_packs=generate_packs)
    )
    db = tmp_path / "copy.db"
    shutil.copyfile(demo_url.removeprefix("sqlite:///"), db)
    url = f"sqlite:///{db}"
    result = run_cli("demo", "--no-serve", "--packs", "--db", url)
    assert result.exit_code == 0, result.output
    assert "Packs: 2 written" in result.output
    assert calls == [
        {"db_url": url, "wave": CURRENT_WAVE.name, "out_dir": tmp_path / "demo-packs", "jobs": 2}
    ]
    again = run_cli("demo", "--no-serve", "--packs", "--db", url)
    assert "Packs: already in" in again.output and len(calls) == 1


def test_cli_demo_says_when_packs_are_not_available(
    community: Community, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from webapp.cli import demo as demo_cli

    monkeypatch.setitem(sys.modules, "exports.packs", types.SimpleNamespace())
    lines: list[str] = []
    monkeypatch.setattr(demo_cli.click, "echo", lambda text="", **_: lines.append(str(text)))
    demo_cli._packs(f"sqlite:///{tmp_path / 'x.db'}", built=True)
    assert any("not available" in line for line in lines)
