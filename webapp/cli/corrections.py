"""Correcting mistakes on the command line.

``responses delete|move``, ``sites edit|retire``, ``classes edit|retire|pins`` and
``waves rename|retire``, added to the existing groups. Whatever deletes or retires asks
first (``--yes`` answers for scripts) and writes an audit entry.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.errors import NotFound, ServiceMessage
from surveys.models import Wave
from surveys.services import get_community
from surveys.services.corrections import (
    PinRow,
    Retirable,
    community_class,
    community_response,
    community_site,
    delete_response,
    edit_class,
    edit_site,
    move_response,
    rename_wave,
    restore,
    retire,
    set_pins,
)
from webapp.cli.common import community_option, db_option, fail, open_db, session_for

__all__ = ["register"]


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    try:
        agreed = click.confirm(question, default=False)
    except click.Abort:  # no answer (end of input)
        agreed = False
    if not agreed:
        fail("nothing was changed (pass --yes to skip this question)")


def _yes(func: click.decorators.FC) -> click.decorators.FC:
    return click.option("--yes", is_flag=True, help="Do it without asking.")(func)


def _undo(func: click.decorators.FC) -> click.decorators.FC:
    return click.option("--undo", is_flag=True, help="Bring it back instead.")(func)


# --- responses ----------------------------------------------------------------------------


@click.command("delete")
@community_option
@click.argument("response_id")
@click.option("--reason", required=True, help="Why (kept in the audit log), e.g. 'test run'.")
@_yes
@db_option
def responses_delete(
    response_id: str, reason: str, yes: bool, db_url: str | None, community_slug: str | None = None
) -> None:
    """Delete one response, e.g. a teacher's test run, with a reason."""
    engine = open_db(db_url)
    with session_for(engine) as session:
        community = get_community(session, community_slug)
        response = community_response(session, community.id, response_id)
        where = response.site.name if response.site else "no site"
        _confirm(
            f"Delete response {response.id} ({response.status}, {where}, wave"
            f" '{response.wave.name}') for good?",
            yes,
        )
        delete_response(
            session, actor=None, community_id=community.id, response=response, reason=reason
        )
    click.echo(f"deleted: response {response_id} (reason kept in the audit log)")


@click.command("move")
@community_option
@click.argument("response_id")
@click.option("--site", "site_code", required=True, metavar="ID", help="The school's site id.")
@click.option("--class", "class_name", required=True, metavar="NAME", help="The class.")
@db_option
def responses_move(
    response_id: str,
    site_code: str,
    class_name: str,
    db_url: str | None,
    community_slug: str | None = None,
) -> None:
    """Move a pupil's response to another class (of any school)."""
    engine = open_db(db_url)
    with session_for(engine) as session:
        community = get_community(session, community_slug)
        response = community_response(session, community.id, response_id)
        to = community_class(session, community.id, site_code, class_name)
        before, after = move_response(
            session, actor=None, community_id=community.id, response=response, to=to
        )
    click.echo(f"moved: response {response_id} from {before} to {after}")


# --- sites and classes --------------------------------------------------------------------


@click.command("edit")
@community_option
@click.argument("site_code", metavar="SITE_ID")
@click.option("--name", default=None, help="New name.")
@click.option("--population", type=int, default=None, help="Pupils on roll or households.")
@click.option("--postcodes", default=None, help="Space-separated postcode prefixes (areas).")
@db_option
def sites_edit(
    site_code: str,
    name: str | None,
    population: int | None,
    postcodes: str | None,
    db_url: str | None,
    community_slug: str | None = None,
) -> None:
    """Change a school's or area's name, population or postcodes."""
    engine = open_db(db_url)
    with session_for(engine) as session:
        community = get_community(session, community_slug)
        site = community_site(session, community.id, site_code)
        changed = edit_site(
            session,
            actor=None,
            community_id=community.id,
            site=site,
            name=name,
            population=population,
            postcodes=postcodes,
        )
    _report_changes(f"site {site_code}", changed)


def _report_changes(what: str, changed: dict[str, str]) -> None:
    if not changed:
        click.echo(f"{what}: nothing to change")
    for field, change in sorted(changed.items()):
        click.echo(f"{what}: {field} {change}")


def _retire_or_restore(
    db_url: str | None,
    find: Callable[[Session, int], Retirable],
    *,
    undo: bool,
    yes: bool,
    what: str,
    community_slug: str | None = None,
) -> None:
    """Retire (after asking) or bring back the object ``find`` gives; print the outcome."""
    engine = open_db(db_url)
    with session_for(engine) as session:
        community = get_community(session, community_slug)
        obj = find(session, community.id)
        if undo:
            restore(session, actor=None, community_id=community.id, obj=obj)
        else:
            _confirm(f"Retire {what}? Its codes stop working; its answers are kept.", yes)
            retire(session, actor=None, community_id=community.id, obj=obj)
    click.echo(f"{what}: {'back in use' if undo else 'retired'}")


@click.command("retire")
@community_option
@click.argument("site_code", metavar="SITE_ID")
@_undo
@_yes
@db_option
def sites_retire(
    site_code: str, undo: bool, yes: bool, db_url: str | None, community_slug: str | None = None
) -> None:
    """Retire a school or area: its codes stop working; its responses stay in analysis."""
    _retire_or_restore(
        db_url,
        lambda session, cid: community_site(session, cid, site_code),
        undo=undo,
        yes=yes,
        what=f"site {site_code}",
        community_slug=community_slug,
    )


@click.command("edit")
@community_option
@click.argument("site_code", metavar="SITE_ID")
@click.argument("class_name", metavar="CLASS")
@click.option("--name", default=None, help="New name.")
@click.option("--year-group", type=int, default=None, help="Year group (1-13).")
@click.option("--size", type=int, default=None, help="Pupils in the class.")
@db_option
def classes_edit(
    site_code: str,
    class_name: str,
    name: str | None,
    year_group: int | None,
    size: int | None,
    db_url: str | None,
    community_slug: str | None = None,
) -> None:
    """Change a class's name, year group or size."""
    engine = open_db(db_url)
    with session_for(engine) as session:
        community = get_community(session, community_slug)
        cls = community_class(session, community.id, site_code, class_name)
        changed = edit_class(
            session,
            actor=None,
            community_id=community.id,
            school_class=cls,
            name=name,
            year_group=year_group,
            size=size,
        )
    _report_changes(f"class {site_code} {class_name}", changed)


@click.command("retire")
@community_option
@click.argument("site_code", metavar="SITE_ID")
@click.argument("class_name", metavar="CLASS")
@_undo
@_yes
@db_option
def classes_retire(
    site_code: str,
    class_name: str,
    undo: bool,
    yes: bool,
    db_url: str | None,
    community_slug: str | None = None,
) -> None:
    """Retire a class: its code stops working; its responses stay in analysis."""
    _retire_or_restore(
        db_url,
        lambda session, cid: community_class(session, cid, site_code, class_name),
        undo=undo,
        yes=yes,
        what=f"class {site_code} {class_name}",
        community_slug=community_slug,
    )


def read_pin_rows(data: bytes, source: str) -> list[PinRow]:
    """``site_id, class, pin`` rows of a CSV (header checked)."""
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    header = {(h or "").strip().lower() for h in reader.fieldnames or []}
    missing = [c for c in ("site_id", "class", "pin") if c not in header]
    if missing:
        fail(f"{source}: row 1: missing column(s) {', '.join(missing)}")
    rows = []
    for raw in reader:
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        rows.append(PinRow(row.get("site_id", ""), row.get("class", ""), row.get("pin", "")))
    return rows


@click.command("pins")
@community_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@db_option
def classes_pins(file: str, db_url: str | None, community_slug: str | None = None) -> None:
    """Set many teacher PINs from a CSV: site_id, class, pin (all or nothing)."""
    source = Path(file).name
    rows = read_pin_rows(Path(file).read_bytes(), source)
    engine = open_db(db_url)
    with session_for(engine) as session:
        community = get_community(session, community_slug)
        count = set_pins(session, actor=None, community_id=community.id, rows=rows, source=source)
    click.echo(f"pins: {count} teacher PINs set")


# --- waves --------------------------------------------------------------------------------


def _wave(session: Session, community_id: int, name: str) -> Wave:
    wave = session.scalar(select(Wave).where(Wave.community_id == community_id, Wave.name == name))
    if wave is None:
        raise NotFound(ServiceMessage.NO_WAVE, name=name)
    return wave


@click.command("rename")
@community_option
@click.argument("name")
@click.argument("new_name")
@db_option
def waves_rename(
    name: str, new_name: str, db_url: str | None, community_slug: str | None = None
) -> None:
    """Give a wave a new name."""
    engine = open_db(db_url)
    with session_for(engine) as session:
        community = get_community(session, community_slug)
        wave = _wave(session, community.id, name)
        rename_wave(session, actor=None, community_id=community.id, wave=wave, name=new_name)
    click.echo(f"wave '{name}' is now '{new_name.strip()}'")


@click.command("retire")
@community_option
@click.argument("name")
@_undo
@_yes
@db_option
def waves_retire(
    name: str, undo: bool, yes: bool, db_url: str | None, community_slug: str | None = None
) -> None:
    """Retire a wave (e.g. a practice round): its codes stop working; its data stays."""
    _retire_or_restore(
        db_url,
        lambda session, cid: _wave(session, cid, name),
        undo=undo,
        yes=yes,
        what=f"wave '{name}'",
        community_slug=community_slug,
    )


def register(cli: click.Group) -> None:
    """Add the correction commands to the existing groups."""
    groups = {name: cli.commands[name] for name in ("responses", "sites", "classes", "waves")}
    for group, command in (
        ("responses", responses_delete),
        ("responses", responses_move),
        ("sites", sites_edit),
        ("sites", sites_retire),
        ("classes", classes_edit),
        ("classes", classes_retire),
        ("classes", classes_pins),
        ("waves", waves_rename),
        ("waves", waves_retire),
    ):
        target = groups[group]
        if isinstance(target, click.Group):
            target.add_command(command)
