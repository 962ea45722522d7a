"""The partnership network: ``organisations import|list`` and ``network export|pack``."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import click
from sqlalchemy import select

from exports.network_pack import write_network_pack
from exports.network_report import network_report
from surveys.models import Organisation
from surveys.services import get_community, get_wave
from surveys.services.network import (
    edges_csv,
    graphml_bytes,
    import_organisations,
    parse_organisations_csv,
    wave_network,
)
from webapp.cli.common import community_option, db_option, open_db, session_for

__all__ = ["register"]

#: Export formats of ``network export`` and the file suffix of each.
NETWORK_FORMATS = {"edges": ".csv", "graphml": ".graphml"}


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(organisations)
    cli.add_command(network)


@click.group()
def organisations() -> None:
    """The partner organisations the partnership survey maps."""


@organisations.command("import")
@community_option
@db_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and say what would change.")
def organisations_import(
    db_url: str | None, file: str, dry_run: bool, community_slug: str | None = None
) -> None:
    """Add or update partner organisations from a CSV.

    Columns: code (short and unique, e.g. ORG07), name, kind (one of school,
    early_years, service, health, voluntary, residents, other). Known codes get the
    file's name and kind; nothing is deleted. A file with any bad row changes nothing.
    """
    path = Path(file)
    rows = parse_organisations_csv(path.read_bytes(), source=path.name)
    engine = open_db(db_url)
    with session_for(engine) as session:
        added, updated = import_organisations(
            session, community=get_community(session, community_slug), rows=rows
        )
        if dry_run:
            session.rollback()
    verb = "would be" if dry_run else "were"
    click.echo(f"organisations: {added} {verb} added, {updated} {verb} updated, of {len(rows)}")


@organisations.command("list")
@community_option
@db_option
def organisations_list(db_url: str | None, community_slug: str | None = None) -> None:
    """Print the partner organisations as CSV (code, name, kind)."""
    engine = open_db(db_url)
    with session_for(engine) as session:
        community = get_community(session, community_slug)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["code", "name", "kind"])
        writer.writerows(
            (org.code, org.name, org.kind)
            for org in session.scalars(
                select(Organisation)
                .where(Organisation.community_id == community.id)
                .order_by(Organisation.code)
            )
        )
    click.echo(out.getvalue(), nl=False)


@click.group()
def network() -> None:
    """The partnership network of a wave."""


@network.command("export")
@community_option
@db_option
@click.option("--wave", "wave_name", required=True, help="Wave name.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(NETWORK_FORMATS)),
    default="edges",
    show_default=True,
    help="edges: CSV edge list; graphml: GraphML for Gephi, Kumu and networkx.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="File to write (default: <wave>-network.csv or .graphml here).",
)
def network_export(
    db_url: str | None,
    wave_name: str,
    fmt: str,
    output: str | None,
    community_slug: str | None = None,
) -> None:
    """Write a wave's partnership ties as a CSV edge list or GraphML.

    Names in responses that match no organisation are left out and counted; add the
    organisations and export again to include them.
    """
    engine = open_db(db_url)
    with session_for(engine) as session:
        wave = get_wave(session, get_community(session, community_slug), wave_name)
        found = wave_network(session, wave)
        data = edges_csv(found).encode() if fmt == "edges" else graphml_bytes(found)
    path = Path(output or f"{wave_name.replace(' ', '-')}-network{NETWORK_FORMATS[fmt]}")
    path.write_bytes(data)
    click.echo(
        f"network: {len(found.ties)} ties among {len(found.organisations)} organisations"
        f" ({found.responses} responded) written to {path}"
    )
    if found.review:
        click.echo(
            f"note: {len(found.review)} name(s) in responses need review"
            " (see the wave's partnership page)",
            err=True,
        )


@network.command("pack")
@community_option
@db_option
@click.option("--wave", "wave_name", required=True, help="Wave name.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="PDF to write (default: <wave>-partnership.pdf here).",
)
def network_pack(
    db_url: str | None, wave_name: str, output: str | None, community_slug: str | None = None
) -> None:
    """Write a wave's partnership pack: the maps (with the change since the previous
    wave), every organisation's measures and every tie, as a tagged PDF."""
    engine = open_db(db_url)
    with session_for(engine) as session:
        community = get_community(session, community_slug)
        wave = get_wave(session, community, wave_name)
        report = network_report(session, wave)
        path = Path(output or f"{wave_name.replace(' ', '-')}-partnership.pdf")
        write_network_pack(report, path, community=community.name)
    click.echo(f"network: partnership pack written to {path}")
