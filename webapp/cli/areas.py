"""``placevoice areas boundaries FILE.geojson``: load the areas' boundaries for maps."""

from __future__ import annotations

from pathlib import Path

import click

from surveys.services import get_community
from surveys.services.boundaries import BoundaryError, read_boundaries, store_boundaries
from webapp.cli.common import db_option, fail, open_db, session_for

__all__ = ["register"]


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(areas)


@click.group()
def areas() -> None:
    """Neighbourhood areas: their boundaries, for maps."""


@areas.command("boundaries")
@db_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--property",
    "match",
    default=None,
    help="Feature property holding each feature's area code or name"
    " (default: the first of site_id, site, code, area, name that names an area).",
)
@click.option("--dry-run", is_flag=True, help="Check the file and report; store nothing.")
def boundaries(db_url: str | None, file: str, match: str | None, dry_run: bool) -> None:
    """Store the areas' boundaries from a GeoJSON file (replacing earlier ones).

    Several features of one area (its LSOAs, say) are joined; features naming no area
    are skipped and listed. Nothing is stored if any matched feature has a problem.
    """
    engine = open_db(db_url)
    with session_for(engine) as session:
        community = get_community(session)
        try:
            preview = read_boundaries(
                session, community.id, Path(file).read_bytes(), match=match, source=Path(file).name
            )
        except BoundaryError as err:
            fail(str(err))
        for line in preview.skipped[:20]:
            click.echo(f"skipped: {line}")
        if len(preview.skipped) > 20:
            click.echo(f"skipped: ... and {len(preview.skipped) - 20} more")
        if not preview.ok:
            for line in preview.problems[:50]:
                click.echo(f"error: {line}", err=True)
            raise SystemExit(1)
        for code in preview.missing:
            click.echo(f"no boundary: area {code}")
        matched = f"{len(preview.areas)} area(s) matched by '{preview.matched_by}'"
        if dry_run:
            click.echo(f"boundaries: {matched}; dry run, nothing stored")
            return
        store_boundaries(session, community.id, preview)
    click.echo(f"boundaries: {matched}, stored")
