"""``placevoice panel``: follow the same pupils from one wave to the next."""

from __future__ import annotations

import click

from webapp.cli.common import community_option, db_option, open_db, session_for

__all__ = ["register"]


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(panel)


@click.group()
def panel() -> None:
    """Link pupils across waves by their identification codes, and report the match."""


def _print_report(report: dict[str, object], k: int) -> None:
    from surveys.services.panel.results import match_rows

    rows = match_rows(report, {}, k=k)
    total = rows[0]
    click.echo(
        f"linked {total['linked']} of {total['codes']} codes ({total['pct_linked'] or 'n/a'}):"
        f" exact {total['exact']}, one difference {total['fuzzy1']},"
        f" two differences {total['fuzzy2']}; ambiguous (left unlinked) {total['ambiguous']},"
        f" unmatched {total['unmatched']}, incomplete code (links nothing)"
        f" {total['incomplete']}, no year group {total['no_year']};"
        f" previous wave's codes {total['previous_codes']}"
    )


@panel.command("link")
@community_option
@db_option
@click.option("--wave", "wave_name", required=True, metavar="NEW", help="The later wave.")
@click.option(
    "--previous",
    "previous_name",
    required=True,
    metavar="OLD",
    help="The earlier wave its pupils are linked to.",
)
@click.option(
    "--max-differences",
    default=2,
    show_default=True,
    type=click.IntRange(0, 2),
    help="Loosest rule: codes may differ in at most this many characters.",
)
def panel_link(
    db_url: str | None,
    wave_name: str,
    previous_name: str,
    max_differences: int,
    community_slug: str | None = None,
) -> None:
    """Link the pupils of wave NEW to wave OLD (same school, one year group up).

    Replaces any earlier links of NEW, and prints the match report of the whole wave.
    """
    from surveys.services import get_community, get_wave
    from surveys.services.panel.linking import link_waves

    engine = open_db(db_url)
    with session_for(engine) as session:
        community = get_community(session, community_slug)
        wave = get_wave(session, community, wave_name)
        previous = get_wave(session, community, previous_name)
        run = link_waves(session, wave=wave, previous=previous, max_distance=max_differences)
        report = dict(run.report)
        seconds = run.seconds
        k = community.suppression_k
    click.echo(f"wave '{wave_name}' linked to '{previous_name}' in {seconds:.1f} s")
    _print_report(report, k)


@panel.command("report")
@community_option
@db_option
@click.option("--wave", "wave_name", required=True, metavar="NEW", help="A linked wave.")
def panel_report(db_url: str | None, wave_name: str, community_slug: str | None = None) -> None:
    """Print the match report per school of the wave's last linking (counts below k as [c])."""
    from surveys.services import get_community, get_wave
    from surveys.services.panel.linking import report_of
    from surveys.services.panel.results import MATCH_COLUMNS, match_rows, site_names

    engine = open_db(db_url)
    with session_for(engine) as session:
        community = get_community(session, community_slug)
        wave = get_wave(session, community, wave_name)
        report = report_of(session, wave)
        if report is None:
            raise click.ClickException(
                f"wave '{wave_name}' has not been linked: run 'placevoice panel link"
                f' --wave "{wave_name}" --previous OLD\' first'
            )
        rows = match_rows(report, site_names(session, community.id), k=community.suppression_k)
    columns = ("site", "name", *MATCH_COLUMNS, "linked", "pct_linked")
    click.echo("\t".join(columns))
    for row in rows:
        click.echo("\t".join(str(row[c]) for c in columns))
