"""``placevoice communities settings``: the community's suppression threshold and pack minimum."""

from __future__ import annotations

import click

from surveys.services import get_community
from surveys.services.settings import community_settings, update_community_settings
from webapp.cli.common import db_option, open_db, session_for

__all__ = ["register"]


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(communities)


@click.group()
def communities() -> None:
    """The community's settings."""


@communities.command("settings")
@db_option
@click.option(
    "--k",
    "k",
    default=None,
    metavar="N",
    help="Suppression threshold: hide figures based on fewer than N people (5 to 30).",
)
@click.option(
    "--pack-min",
    "pack_min",
    default=None,
    metavar="N",
    help="Responses a site needs for a full pack; smaller sites get a short one (>= k).",
)
def communities_settings(db_url: str | None, k: str | None, pack_min: str | None) -> None:
    """Show the settings, or change them with --k and --pack-min."""
    engine = open_db(db_url)
    with session_for(engine) as session:
        community = get_community(session)
        if k is None and pack_min is None:
            settings = community_settings(community)
        else:
            settings = update_community_settings(community, k=k, pack_min=pack_min)
        click.echo(
            f"{community.name}: suppression threshold k = {settings.suppression_k};"
            f" full pack from {settings.pack_min_responses} responses"
        )
