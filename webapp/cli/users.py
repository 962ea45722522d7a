"""``placevoice users``: create and list staff accounts.

Passwords are never taken from the command line (it ends up in shell history and process
lists): they are typed at a hidden prompt, or piped in with ``--password-stdin``.
"""

from __future__ import annotations

import sys

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import ROLES, Community, Site, User
from surveys.services import create_user, get_community
from webapp.cli.common import community_option, db_option, fail, open_db, session_for

#: Shortest password accepted for a staff account.
MIN_PASSWORD = 10
#: Roles that are bound to sites, and the kinds of site each may be bound to.
SITE_ROLES = {"school_staff": ("school",), "researcher": ("area", "school")}


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(users)


@click.group()
def users() -> None:
    """Staff accounts: core team, school staff, peer researchers, coders."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        fail(f"the password must be at least {MIN_PASSWORD} characters long")
    return password


@users.command("create")
@db_option
@community_option
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES), help="The account's role.")
@click.option(
    "--site",
    "site_codes",
    multiple=True,
    metavar="SITE_ID",
    help="A site the account is bound to (repeatable): the school of school staff,"
    " the areas of a peer researcher.",
)
@click.option("--name", default="", help="Name shown in the app.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (for scripts).",
)
def users_create(
    db_url: str | None,
    community_slug: str | None,
    email: str,
    role: str,
    site_codes: tuple[str, ...],
    name: str,
    password_stdin: bool,
) -> None:
    """Create a staff account; the password is asked for at a hidden prompt."""
    if "@" not in email or email.strip() != email or " " in email:
        fail(f"'{email}' is not an email address")
    kinds = SITE_ROLES.get(role)
    if kinds is None and site_codes:
        fail(f"--site is only for {' and '.join(SITE_ROLES)} accounts, not {role}")
    if role == "school_staff" and not site_codes:
        fail("school staff need --site with their school's site id")
    engine = open_db(db_url)
    try:
        with session_for(engine) as session:
            # A clear error before the password is asked for.
            community = get_community(session, community_slug)
            for code in dict.fromkeys(site_codes):
                _site(session, community, code, role, kinds)
        # Ask outside any transaction: a write lock must not wait on someone typing.
        password = _read_password(password_stdin)
        with session_for(engine) as session:
            community = get_community(session, community_slug)
            sites = [
                _site(session, community, code, role, kinds) for code in dict.fromkeys(site_codes)
            ]
            user = create_user(
                session,
                community=community,
                email=email,
                password=password,
                role=role,
                display_name=name.strip(),
                site_ids=[s.id for s in sites],
            )
            bound = f" for {', '.join(s.name for s in sites)}" if sites else ""
            click.echo(f"account created: {user.email} ({role}){bound}")
    finally:
        engine.dispose()


def _site(
    session: Session, community: Community, code: str, role: str, kinds: tuple[str, ...] | None
) -> Site:
    site = session.scalar(select(Site).where(Site.community_id == community.id, Site.code == code))
    if site is None:
        fail(f"there is no site '{code}' (site ids are those of 'placevoice sites import')")
        raise AssertionError  # unreachable: fail() raises
    if kinds is not None and site.kind not in kinds:
        fail(f"site '{code}' is an area; {role} accounts are bound to a school")
    return site


@users.command("list")
@db_option
@community_option
def users_list(db_url: str | None, community_slug: str | None) -> None:
    """List staff accounts: email, role, active or not, sites, name."""
    engine = open_db(db_url)
    try:
        with session_for(engine) as session:
            community = get_community(session, community_slug)
            codes = {
                s.id: s.code
                for s in session.scalars(select(Site).where(Site.community_id == community.id))
            }
            lines = [
                "\t".join(
                    (
                        user.email,
                        user.role,
                        "active" if user.active else "inactive",
                        " ".join(sorted(codes.get(i, str(i)) for i in user.site_ids)) or "-",
                        user.display_name,
                    )
                )
                for user in session.scalars(
                    select(User)
                    .where(User.community_id == community.id)
                    .order_by(User.role, User.email)
                )
            ]
    finally:
        engine.dispose()
    for line in lines:
        click.echo(line)
    if not lines:
        click.echo("no accounts yet: add one with 'placevoice users create EMAIL --role admin'")
