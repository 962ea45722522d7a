"""Several communities in one database, side by side from the command line."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import AccessCode, Community, Response, Site, User, Wave


def ok(result: Any) -> str:
    assert result.exit_code == 0, result.output
    return str(result.output)


def test_two_communities_run_side_by_side(
    run_cli: Callable[..., Any], session: Session, tmp_path: Path, fast_passwords: None
) -> None:
    ok(run_cli("init", "--community", "pembury", "--name", "Pembury Children's Community"))
    ok(run_cli("communities", "create", "wallsend", "--name", "Wallsend Children's Community"))
    listed = ok(run_cli("communities", "list"))
    assert "pembury\tPembury Children's Community" in listed
    assert "wallsend\tWallsend Children's Community" in listed

    refused = run_cli("waves", "create", "Spring 2027")
    assert refused.exit_code == 1
    assert "say which with --community SLUG" in refused.output

    for slug, schools in (("pembury", "S01,Ash"), ("wallsend", "S01,Oak")):
        sites = tmp_path / f"{slug}-sites.csv"
        sites.write_text(f"site_id,name,kind\n{schools},school\n")
        ok(run_cli("sites", "import", str(sites), "--community", slug))
        classes = tmp_path / f"{slug}-classes.csv"
        classes.write_text("site_id,class,year_group\nS01,6A,6\n")
        ok(run_cli("classes", "import", str(classes), "--community", slug))
        # The same wave name in both communities.
        ok(run_cli("waves", "create", "Spring 2027", "--community", slug, "--open"))
        ok(
            run_cli(
                "users", "create", f"lead@{slug}.example", "--role", "admin",
                "--community", slug, "--password-stdin", input="a long enough password\n",
            )
        )  # fmt: skip
        ok(run_cli("codes", "issue", "--wave", "Spring 2027", "--site", "s01", "--community", slug))

    pupils = tmp_path / "pupils.csv"
    pupils.write_text("site,safe_school\nS01,very_safe\nS01,not_safe\n")
    args = ("responses", "import", str(pupils), "--instrument", "pupil_perception")
    ok(run_cli(*args, "--wave", "Spring 2027", "--community", "wallsend"))

    session.rollback()
    by_slug = {c.slug: c for c in session.scalars(select(Community))}
    for slug, count in (("pembury", 0), ("wallsend", 2)):
        community = by_slug[slug]
        wave = session.scalar(select(Wave).where(Wave.community_id == community.id))
        assert wave is not None
        stored = session.scalar(select(func.count(Response.id)).where(Response.wave_id == wave.id))
        assert stored == count
        site = session.scalar(select(Site).where(Site.community_id == community.id))
        assert site is not None
        codes = session.scalar(
            select(func.count(AccessCode.id)).where(AccessCode.site_id == site.id)
        )
        assert codes == 1
        user = session.scalar(select(User).where(User.community_id == community.id))
        assert user is not None and user.email == f"lead@{slug}.example"

    listed_users = ok(run_cli("users", "list", "--community", "pembury"))
    assert "lead@pembury.example" in listed_users and "wallsend" not in listed_users
    out = tmp_path / "summary.csv"
    ok(
        run_cli(
            "summary", "--wave", "Spring 2027", "--level", "school",
            "--community", "wallsend", "--out", str(out),
        )
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert {r["site_name"] for r in rows} >= {"Oak"}
    unknown = run_cli("waves", "open", "Spring 2027", "--community", "tower")
    assert unknown.exit_code == 1
    assert "there is no community 'tower' (there are: pembury, wallsend)" in unknown.output


def test_communities_create_refuses_a_bad_or_taken_slug(run_cli: Callable[..., Any]) -> None:
    ok(run_cli("init", "--community", "pembury"))
    bad = run_cli("communities", "create", "Pembury Zone")
    assert bad.exit_code == 1 and "is not a community slug" in bad.output
    taken = run_cli("communities", "create", "pembury")
    assert taken.exit_code == 1 and "a community 'pembury' already exists" in taken.output


def test_codes_issue_defaults_to_the_waves_own_instrument(
    run_cli: Callable[..., Any],
    session: Session,
    make_site: Callable[..., Site],
    make_class: Callable[..., Any],
    make_wave: Callable[..., Wave],
) -> None:
    site = make_site("S01")
    make_class(site, "7B", 7)
    make_wave("Residents only", instruments=("resident_baseline",))
    result = run_cli("codes", "issue", "--wave", "Residents only", "--site", "S01")
    assert result.exit_code == 0, result.output
    assert "S01\t7B\tclass\t" in result.output
    session.rollback()
    code = session.scalar(select(AccessCode))
    assert code is not None and code.instrument_version.instrument_id == "resident_baseline"


def test_codes_issue_names_the_instruments_when_it_cannot_choose(
    run_cli: Callable[..., Any],
    make_site: Callable[..., Site],
    make_class: Callable[..., Any],
    make_wave: Callable[..., Wave],
) -> None:
    make_class(make_site("S01"), "7B", 7)
    make_wave("Two", instruments=("resident_baseline", "peer_interview"))
    result = run_cli("codes", "issue", "--wave", "Two", "--site", "S01")
    assert result.exit_code == 1
    assert (
        "does not use instrument 'pupil_perception' (it uses peer_interview, resident_baseline)"
        in (result.output)
    )


def test_corrections_and_settings_work_on_the_community_named(
    run_cli: Callable[..., Any], session: Session, tmp_path: Path
) -> None:
    ok(run_cli("init", "--community", "pembury"))
    ok(run_cli("communities", "create", "wallsend"))
    for slug, name in (("pembury", "Ash"), ("wallsend", "Oak")):
        sites = tmp_path / f"{slug}.csv"
        sites.write_text(f"site_id,name,kind\nS01,{name},school\n")
        ok(run_cli("sites", "import", str(sites), "--community", slug))

    refused = run_cli("sites", "edit", "S01", "--name", "Birch")
    assert refused.exit_code == 1 and "--community" in refused.output
    ok(run_cli("sites", "edit", "S01", "--name", "Birch", "--community", "wallsend"))
    ok(run_cli("sites", "retire", "S01", "--yes", "--community", "wallsend"))
    ok(run_cli("communities", "settings", "--k", "12", "--community", "wallsend"))

    session.rollback()
    by_slug = {c.slug: c for c in session.scalars(select(Community))}
    names = {
        slug: session.scalar(select(Site).where(Site.community_id == c.id))
        for slug, c in by_slug.items()
    }
    assert (names["pembury"].name, names["pembury"].retired_at) == ("Ash", None)
    assert names["wallsend"].name == "Birch" and names["wallsend"].retired_at is not None
    assert (by_slug["pembury"].suppression_k, by_slug["wallsend"].suppression_k) == (10, 12)
