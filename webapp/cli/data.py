"""Data in and out: ``responses import``, ``summary`` and ``margins import``."""

from __future__ import annotations

import csv
import io
import math
import os
import tempfile
import time
from pathlib import Path

import click
import pandas as pd
from sqlalchemy import delete

from analysis import AnalysisError
from surveys.analysis_bridge import wave_summary
from surveys.csvfiles import csv_rows
from surveys.errors import RowErrors, ServiceError, ServiceMessage
from surveys.importing import (
    FORMATS,
    ImportRefused,
    import_responses,
    read_mapping,
    rejects_csv,
    report_lines,
)
from surveys.models.margins import ALL_AREAS, PopulationMargin
from surveys.services import get_community, get_wave
from webapp.cli.common import community_option, db_option, fail, open_db, session_for

__all__ = ["parse_margins_csv", "register", "summary_csv"]


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(responses)
    cli.add_command(summary)
    cli.add_command(margins)


@click.group()
def responses() -> None:
    """Responses collected elsewhere."""


@responses.command("import")
@db_option
@community_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--instrument", "instrument_id", required=True, help="Instrument id.")
@click.option("--wave", "wave_name", required=True, help="Wave name.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Read and check the file and report what would be stored; store nothing.",
)
@click.option(
    "--skip-invalid",
    "--skip-bad",
    "skip_invalid",
    is_flag=True,
    help="Store the valid rows of a file with invalid ones (each reported; see --rejects).",
)
@click.option(
    "--rejects",
    "rejects_file",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="With --skip-invalid or --dry-run: write the rows not stored, with their problems,"
    " to this CSV (default: FILE.rejects.csv beside the file when rows are skipped).",
)
@click.option(
    "--mapping",
    "mapping_file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="YAML or CSV file mapping columns to questions (and codes to choices).",
)
@click.option(
    "--source",
    "source_name",
    default=None,
    help="Where the file comes from; respondent ids are unique per wave and source"
    " (default: the format).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="The export's format (default: detected).",
)
@click.option(
    "--dates",
    "date_first",
    type=click.Choice(["dmy", "mdy"]),
    default=None,
    help="Read dates such as 03/04/2025 day-first (dmy) or month-first (mdy)"
    " when the file's own dates leave it open.",
)
def responses_import(
    db_url: str | None,
    community_slug: str | None,
    file: str,
    instrument_id: str,
    wave_name: str,
    dry_run: bool,
    skip_invalid: bool,
    rejects_file: str | None,
    mapping_file: str | None,
    source_name: str | None,
    fmt: str | None,
    date_first: str | None,
) -> None:
    """Import responses: a KoboToolbox, ODK Central or SurveyMonkey export, or a sheet.

    CSV, XLSX, or ODK Central's CSV zip. Columns are matched to questions by name or
    label (or by --mapping); choices by name or by label in any of the form's languages.
    A respondent id column (response_id, Respondent ID, _uuid, KEY, serial...) makes the
    import idempotent and lets a corrected file update only the rows that changed.
    Nothing is stored from a file with invalid rows unless --skip-invalid is given.
    """
    path = Path(file)
    mapping = None
    if mapping_file:
        mapping = read_mapping(Path(mapping_file).read_bytes(), source=Path(mapping_file).name)
    engine = open_db(db_url)
    started = time.perf_counter()
    try:
        with session_for(engine) as session:
            wave = get_wave(session, get_community(session, community_slug), wave_name)
            try:
                result = import_responses(
                    session,
                    wave=wave,
                    instrument_id=instrument_id,
                    data=path.read_bytes(),
                    source=path.name,
                    skip_bad=skip_invalid,
                    dry_run=dry_run,
                    mapping=mapping,
                    source_name=source_name,
                    fmt=fmt,
                    date_first=date_first,
                )
            except ImportRefused as err:
                fail(str(err))
                return
            if dry_run:
                session.rollback()
    finally:
        engine.dispose()  # no connection left open, on errors too
    lines = report_lines(result)
    if not dry_run:
        lines = lines[:-1]  # the closing count is printed below, with the time taken
    for line in lines:
        click.echo(line, err=not line.startswith(("dry run", "format", "matched")))
    if result.skipped and (rejects_file or skip_invalid):
        target = Path(rejects_file) if rejects_file else path.with_name(path.name + ".rejects.csv")
        target.write_bytes(rejects_csv(result))
        click.echo(f"rejects: {result.skipped} row(s) written to {target}", err=True)
    seconds = time.perf_counter() - started
    if dry_run and result.issues and not skip_invalid:
        raise SystemExit(1)  # the import itself would store nothing
    if not dry_run:
        click.echo(
            f"responses: {result.added} added, {result.updated} updated,"
            f" {result.unchanged} already stored, {result.skipped} bad row(s) skipped,"
            f" of {result.rows} row(s) ({seconds:.1f} s)"
        )


def _csv_value(value: object) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return repr(value)
    return str(value)


def summary_csv(table: pd.DataFrame, columns: tuple[str, ...]) -> str:
    """The summary rows as CSV text: the given columns, unrounded, empty for no value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in table.loc[:, list(columns)].itertuples(index=False, name=None):
        writer.writerow([_csv_value(v.item() if hasattr(v, "item") else v) for v in row])
    return out.getvalue()


@click.command()
@db_option
@community_option
@click.option("--wave", "wave_name", required=True, help="Wave name.")
@click.option(
    "--level",
    type=click.Choice(["school", "area"]),
    required=True,
    help="school: pupils by school; area: residents by neighbourhood (weighted).",
)
@click.option(
    "--instrument",
    "instrument_id",
    default=None,
    help="Instrument id (default pupil_perception for schools, resident_baseline for areas).",
)
@click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="CSV file to write.",
)
def summary(
    db_url: str | None,
    community_slug: str | None,
    wave_name: str,
    level: str,
    instrument_id: str | None,
    out_file: str,
) -> None:
    """Write the per site x item summary of a wave as CSV, small numbers suppressed."""
    engine = open_db(db_url)
    with session_for(engine) as session:
        wave = get_wave(session, get_community(session, community_slug), wave_name)
        try:
            result = wave_summary(session, wave, level, instrument_id, trends=False)
        except AnalysisError as err:
            fail(f"the summary cannot be made: {err}")
            return
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    text = summary_csv(result.items, result.columns)
    target = Path(out_file)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename, so a failure never leaves half a file.
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    sites = result.items.loc[result.items["site"] != "ALL", "site"].nunique()
    hidden = int(result.items["suppressed"].sum())
    click.echo(
        f"summary: {len(result.items)} rows ({sites} {level}s, {result.responses} responses,"
        f" k = {result.k}, {hidden} rows suppressed) written to {target}"
    )


@click.group()
def margins() -> None:
    """Population margins that resident responses are weighted to."""


def parse_margins_csv(
    data: bytes, *, source: str, area_codes: set[str]
) -> list[tuple[str, str, str, float]]:
    """Check a margins CSV: columns ``area, variable, category, proportion``.

    ``area`` is an area's site id, or ``ALL`` (or blank) for the whole community.
    """
    table = csv_rows(data, source=source, required=("variable", "category", "proportion"))
    problems: list[str] = []
    rows: list[tuple[str, str, str, float]] = []
    seen: set[tuple[str, str, str]] = set()
    for number, row in table:

        def bad(column: str, detail: str, number: int = number) -> None:
            problems.append(
                ServiceMessage.CSV_ROW.format(
                    source=source, row=number, column=column, detail=detail
                )
            )

        area = row.get("area", "") or ALL_AREAS
        if area != ALL_AREAS and area not in area_codes:
            bad("area", f"there is no area '{area}' (use an area's site id, or ALL)")
        variable, category = row.get("variable", ""), row.get("category", "")
        if not variable:
            bad("variable", "is empty")
        if not category:
            bad("category", "is empty")
        try:
            proportion = float(row.get("proportion", ""))
            if not math.isfinite(proportion) or proportion <= 0:
                raise ValueError
        except ValueError:
            bad("proportion", f"'{row.get('proportion', '')}' is not a number above 0")
            proportion = 0.0
        key = (area, variable, category)
        if key in seen:
            bad("category", f"'{category}' of '{variable}' for {area} appears twice")
        seen.add(key)
        rows.append((area, variable, category, proportion))
    if problems:
        raise RowErrors(problems)
    if not rows:
        raise ServiceError(ServiceMessage.CSV_EMPTY, source=source)
    return rows


@margins.command("import")
@db_option
@community_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def margins_import(db_url: str | None, community_slug: str | None, file: str) -> None:
    """Replace the population margins with a CSV's.

    Columns: area (an area's site id, or ALL), variable (a question such as age_band or
    sex, or age_band:sex for a joint margin), category (a choice name, or 16-24:female),
    proportion (shares; each variable's are scaled to add up to 1).
    """
    path = Path(file)
    engine = open_db(db_url)
    with session_for(engine) as session:
        community = get_community(session, community_slug)
        areas = {s.code for s in community.sites if s.kind == "area"}
        rows = parse_margins_csv(path.read_bytes(), source=path.name, area_codes=areas)
        session.execute(
            delete(PopulationMargin).where(PopulationMargin.community_id == community.id)
        )
        session.add_all(
            PopulationMargin(
                community_id=community.id,
                area=area,
                variable=variable,
                category=category,
                proportion=proportion,
            )
            for area, variable, category, proportion in rows
        )
    groups = len({(a, v) for a, v, _, _ in rows})
    click.echo(f"margins: {len(rows)} categories in {groups} margin(s) stored")
