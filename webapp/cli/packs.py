"""``placevoice packs`` (feedback packs as PDF) and ``placevoice export`` (data for evaluators)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from exports.dataset import ExportError
from webapp.cli.common import db_option, fail, open_db

__all__ = ["register"]


@click.command("packs")
@db_option
@click.option("--wave", "wave", required=True, metavar="NAME", help="Wave name.")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the PDFs.",
)
@click.option("--jobs", default=2, show_default=True, type=click.IntRange(min=1), help="Processes.")
@click.option(
    "--site",
    "sites",
    multiple=True,
    metavar="ID",
    help="Only this site (repeatable); 'community' for the whole-community report.",
)
def packs_command(
    db_url: str | None, wave: str, out_dir: Path, jobs: int, sites: tuple[str, ...]
) -> None:
    """Render the wave's school feedback packs and neighbourhood reports as PDF."""
    from exports.packs import generate_packs

    engine = open_db(db_url)
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    bar = None
    progress = None
    if sys.stderr.isatty():
        bar = click.progressbar(length=1, label="Rendering packs", file=sys.stderr)

        def progress(done: int, total: int) -> None:
            assert bar is not None
            bar.length = total
            bar.update(done - bar.pos)

    try:
        result = generate_packs(
            db_url=url,
            wave=wave,
            out_dir=out_dir,
            jobs=jobs,
            sites=sites or None,
            progress=progress,
        )
    except ExportError as err:
        fail(str(err))
        return
    finally:
        if bar is not None:
            bar.render_finish()
    for note in result.notes:
        click.echo(f"no pack: {note['site']} ({note['site_name']}): {note['reason']}")
    for failure in result.failed:
        click.echo(f"error: pack for {failure.site} failed: {failure.error}", err=True)
    click.echo(
        f"{len(result.written)} pack(s) written to {out_dir}, {len(result.notes)} site(s) without"
        f" a pack, {len(result.failed)} failed; report: {result.report}"
    )
    if result.failed:
        sys.exit(1)


@click.command("export")
@db_option
@click.option("--wave", "wave", required=True, metavar="NAME", help="Wave name.")
@click.option(
    "--format",
    "fmt",
    required=True,
    type=click.Choice(["csv", "xlsx", "sav", "dta"]),
    help="File format.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the files.",
)
@click.option(
    "--instrument",
    "instruments",
    multiple=True,
    metavar="ID",
    help="Only this instrument (repeatable); default every instrument of the wave.",
)
@click.option(
    "--labels",
    is_flag=True,
    help="csv and xlsx: write answers as their labels ('Agree') instead of codes (4).",
)
def export_command(
    db_url: str | None,
    wave: str,
    fmt: str,
    out_dir: Path,
    instruments: tuple[str, ...],
    labels: bool,
) -> None:
    """Export a wave's responses (one row per response) with a codebook.

    Each export is written to the audit log, as a download from the web app is.
    """
    from exports.data import export_wave
    from exports.dataset import find_wave
    from surveys.db import make_sessionmaker
    from surveys.services.audit import audit

    engine = open_db(db_url)
    try:
        with make_sessionmaker(engine)() as session:
            written = export_wave(
                session,
                wave=wave,
                fmt=fmt,
                out_dir=out_dir,
                instruments=instruments or None,
                labels=labels,
            )
            audit(
                session,
                None,
                "export",
                "wave",
                find_wave(session, wave).id,
                format=fmt,
                instrument=",".join(instruments) or "all",
                files=len(written),
                labels=labels,
                via="command line",
            )
            session.commit()
    except ExportError as err:
        fail(str(err))
        return
    finally:
        engine.dispose()
    for path in written:
        click.echo(str(path))


def register(cli: click.Group) -> None:
    """Add ``packs`` and ``export`` to the command line."""
    cli.add_command(packs_command)
    cli.add_command(export_command)
