"""The set-up commands: init, instruments, sites, classes, waves, codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import AccessCode, SchoolClass, Site, Wave
from surveys.services.codes import CODE_ALPHABET


def test_init_is_idempotent_and_registers_builtins(run_cli, session: Session) -> None:  # type: ignore[no-untyped-def]
    first = run_cli("init", "--community", "Pembury Children's Community")
    assert first.exit_code == 0, first.output
    assert "database ready" in first.output and "Pembury" in first.output
    assert run_cli("init").exit_code == 0
    listed = run_cli("instruments", "list")
    assert listed.exit_code == 0
    ids = [line.split("\t")[0] for line in listed.output.strip().splitlines()]
    assert ids == ["partnership", "peer_interview", "pupil_perception", "resident_baseline"]


def test_commands_need_an_initialised_database(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("instruments", "list", "--db", f"sqlite:///{tmp_path / 'empty.db'}")
    assert result.exit_code == 1
    assert "run 'placevoice init' first" in result.output


def test_validate_reports_ok_or_a_row_error(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "good.md"
    good.write_text(
        "| survey |\n| | type | name | label |\n| | text | q | Q |\n"
        "| settings |\n| | form_id | version |\n| | good | 2 |\n"
    )
    bad = tmp_path / "bad.md"
    bad.write_text(
        "| survey |\n| | type | name | label |\n| | text | q | Q |\n| | geopoint | g | Where |\n"
        "| settings |\n| | form_id | version |\n| | bad | 1 |\n"
    )
    ok = run_cli("instruments", "validate", str(good))
    assert ok.exit_code == 0
    assert ok.output.strip() == f"{good}: ok: good version 2, 1 questions, languages en"
    failed = run_cli("instruments", "validate", str(good), str(bad))
    assert failed.exit_code == 1
    assert "error: bad.md: survey row 3: question type 'geopoint'" in failed.output


@pytest.mark.parametrize("name", ["pupil_perception", "resident_baseline", "peer_interview"])
def test_builtins_validate_ok_with_no_warnings(run_cli, name: str) -> None:  # type: ignore[no-untyped-def]
    from instruments.builtin import builtin_path

    result = run_cli("instruments", "validate", str(builtin_path(name)))
    assert result.exit_code == 0, result.output
    assert ": ok: " + name in result.output
    assert "warning" not in result.output


def test_shared_xlsforms_validate_ok_or_row_error(shared_dir: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    for path in sorted((shared_dir / "xlsforms").glob("*.xls*")):
        result = run_cli("instruments", "validate", str(path))
        line = result.output.strip().splitlines()[0]
        assert line.startswith((f"{path}: ok: ", f"error: {path.name}: ")), line


def test_import_instrument_and_refuse_changed_content(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("init").exit_code == 0
    form = tmp_path / "mine.md"
    form.write_text(
        "| survey |\n| | type | name | label |\n| | text | q | Q |\n"
        "| settings |\n| | form_id | version |\n| | mine | 1 |\n"
    )
    assert run_cli("instruments", "import", str(form)).output.strip() == "imported mine version 1"
    assert run_cli("instruments", "import", str(form)).exit_code == 0
    form.write_text(form.read_text().replace("| Q |", "| Changed |"))
    result = run_cli("instruments", "import", str(form))
    assert result.exit_code == 1
    assert "new version" in result.output


def test_sites_classes_waves_and_codes(tmp_path: Path, run_cli, session: Session) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("init").exit_code == 0
    sites = tmp_path / "sites.csv"
    sites.write_text(
        "site_id,name,kind,postcodes,population\n"
        "S1,Brook Lane Primary,school,,60\n"
        "A1,Marsh Estate,area,E8 1 E8 2,900\n"
    )
    assert run_cli("sites", "import", str(sites)).output.strip() == "sites: 2 added, 0 updated"
    classes = tmp_path / "classes.csv"
    classes.write_text("site_id,class,year_group,size\nS1,5B,5,30\nS1,6R,6,28\n")
    assert run_cli("classes", "import", str(classes)).exit_code == 0
    bad_classes = tmp_path / "bad.csv"
    bad_classes.write_text("site_id,class,year_group\nS9,5B,5\nS1,6R,fourteen\n")
    bad = run_cli("classes", "import", str(bad_classes))
    assert bad.exit_code == 1
    assert "bad.csv: row 2, column site_id: no school 'S9'" in bad.output
    assert "bad.csv: row 3, column year_group" in bad.output

    made = run_cli("waves", "create", "Spring 2027", "--open")
    assert made.exit_code == 0, made.output
    assert "(open)" in made.output
    again = run_cli("waves", "create", "Spring 2027")
    assert again.exit_code == 1 and "already exists" in again.output

    issued = run_cli(
        "codes", "issue", "--wave", "Spring 2027", "--site", "S1", "--site", "A1", "--tokens", "2"
    )
    assert issued.exit_code == 0, issued.output
    lines = [line.split("\t") for line in issued.output.strip().splitlines()]
    assert [(row[0], row[1], row[2]) for row in lines] == [
        ("S1", "5B", "class"),
        ("S1", "6R", "class"),
        ("A1", "-", "area"),
        ("A1", "-", "token"),
        ("A1", "-", "token"),
    ]
    for row in lines:
        code = row[3].replace("-", "")
        assert set(code) <= set(CODE_ALPHABET)
        assert len(code) == (10 if row[2] == "token" else 8)
    # issuing again keeps the class codes and area link, adding no new ones
    repeat = run_cli("codes", "issue", "--wave", "Spring 2027", "--site", "S1")
    assert repeat.output.splitlines()[0] == issued.output.splitlines()[0]
    assert session.scalar(select(func.count(AccessCode.id))) == 5
    assert session.scalar(select(func.count(SchoolClass.id))) == 2
    assert session.scalar(select(Wave.status)) == "open"
    assert session.scalar(select(func.count(Site.id))) == 2
    closed = run_cli("waves", "close", "Spring 2027")
    assert closed.exit_code == 0
    missing = run_cli("codes", "issue", "--wave", "Nope", "--site", "S1")
    assert missing.exit_code == 1 and "no wave called 'Nope'" in missing.output


def test_bad_sites_file_stores_nothing(tmp_path: Path, run_cli, session: Session) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("init").exit_code == 0
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,name,kind\nS1,Good,school\nS2,Bad,castle\n")
    result = run_cli("sites", "import", str(sites))
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == "error: sites.csv: row 3, column kind: 'castle' must be school or area"
    )
    assert session.scalar(select(func.count(Site.id))) == 0


def test_console_script_is_installed() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "webapp.cli", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    for command in ("init", "instruments", "sites", "waves", "codes", "serve"):
        assert command in result.stdout


def test_a_database_with_two_communities_is_refused_not_guessed(run_cli, session: Session) -> None:  # type: ignore[no-untyped-def]
    from surveys.services import get_or_create_community

    assert run_cli("init", "--community", "Riverside").exit_code == 0
    get_or_create_community(session, slug="tower", name="Tower Children's Community")
    session.commit()
    made = run_cli("waves", "create", "Spring 2027")
    assert made.exit_code == 1
    assert "holds 2 communities (riverside, tower): say which with --community SLUG" in made.output
    session.rollback()
    assert session.scalar(select(func.count(Wave.id))) == 0  # nothing was made
