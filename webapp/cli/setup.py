"""init, instruments, sites, classes, waves and codes commands."""

from __future__ import annotations

import contextlib
import csv
import io
from pathlib import Path

import click
from sqlalchemy import func, select

from instruments import validate_file
from instruments.builtin import BUILTIN_IDS
from surveys.errors import NotFound, RowErrors
from surveys.models import AccessCode, Community, InstrumentVersion, SchoolClass, Site, Wave
from surveys.services import (
    create_community,
    create_wave,
    ensure_builtin_instruments,
    format_code,
    get_community,
    get_or_create_community,
    get_wave,
    import_sites,
    instrument_of,
    issue_code,
    parse_sites_csv,
    register_instrument,
    set_wave_status,
)
from surveys.services.audit import audit
from surveys.services.drafts import set_teacher_pin
from surveys.services.settings import community_settings, update_community_settings
from surveys.services.setup import SLUG_PATTERN, slug_for, visible_to
from webapp.cli.common import community_option, db_option, fail, open_db, session_for


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(init)
    cli.add_command(communities)
    cli.add_command(instruments)
    cli.add_command(sites)
    cli.add_command(classes)
    cli.add_command(waves)
    cli.add_command(codes)


@click.command()
@db_option
@click.option(
    "--community",
    "community_slug",
    metavar="SLUG",
    default="",
    help="The first community's slug (first run only); a name here is made into a slug.",
)
@click.option("--name", "community_name", default="", help="The first community's name.")
def init(db_url: str | None, community_slug: str, community_name: str) -> None:
    """Create or upgrade the database, with the built-in instruments."""
    if community_slug and not SLUG_PATTERN.fullmatch(community_slug) and not community_name:
        community_name, community_slug = community_slug, slug_for(community_slug)
    engine = open_db(db_url, create=True)
    with session_for(engine) as session:
        has_any = session.scalar(select(Community.id).limit(1)) is not None
        community: Community | None = None
        if not has_any:
            name = community_name or "Children's Community"
            community = get_or_create_community(
                session, slug=community_slug or "community", name=name
            )
        elif community_slug:
            community = get_community(session, community_slug)
        elif session.scalar(select(func.count(Community.id))) == 1:
            community = get_community(session)
        ensure_builtin_instruments(session)
        label = f" ({community.name})" if community is not None else ""
    click.echo(f"database ready: {engine.url.render_as_string()}{label}")


@click.group()
def communities() -> None:
    """The Children's Communities this database serves."""


@communities.command("create")
@db_option
@click.argument("slug")
@click.option("--name", default="", help="The community's name (default: the slug).")
@click.option(
    "--k", "suppression_k", type=click.IntRange(5, 30), default=None, help="Suppression threshold."
)
def communities_create(db_url: str | None, slug: str, name: str, suppression_k: int | None) -> None:
    """Add a community (a slug such as 'pembury' names it on the command line)."""
    engine = open_db(db_url)
    with session_for(engine) as session:
        community = create_community(session, slug=slug, name=name, suppression_k=suppression_k)
        click.echo(f"community '{community.slug}' created: {community.name}")


@communities.command("list")
@db_option
def communities_list(db_url: str | None) -> None:
    """List communities: slug, name, sites, waves."""
    engine = open_db(db_url)
    with session_for(engine) as session:
        for community in session.scalars(select(Community).order_by(Community.slug)):
            click.echo(
                f"{community.slug}\t{community.name}\t{len(community.sites)} sites"
                f"\t{len(community.waves)} waves"
            )


@communities.command("settings")
@community_option
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
def communities_settings(
    db_url: str | None, community_slug: str | None, k: str | None, pack_min: str | None
) -> None:
    """Show the settings, or change them with --k and --pack-min."""
    engine = open_db(db_url)
    with session_for(engine) as session:
        community = get_community(session, community_slug)
        if k is None and pack_min is None:
            settings = community_settings(community)
        else:
            settings = update_community_settings(community, k=k, pack_min=pack_min)
        click.echo(
            f"{community.name}: suppression threshold k = {settings.suppression_k};"
            f" full pack from {settings.pack_min_responses} responses"
        )


@click.group()
def instruments() -> None:
    """List, check and import XLSForm instruments."""


@instruments.command("list")
@community_option
@db_option
def instruments_list(db_url: str | None, community_slug: str | None) -> None:
    """List the instrument versions the community may use (its own and the built-in ones)."""
    engine = open_db(db_url)
    with session_for(engine) as session:
        query = select(InstrumentVersion)
        with contextlib.suppress(NotFound):  # before init: only what is stored, if anything
            query = query.where(visible_to(get_community(session, community_slug).id))
        rows = session.scalars(
            query.order_by(InstrumentVersion.instrument_id, InstrumentVersion.id)
        ).all()
        for row in rows:
            instrument = instrument_of(row)
            languages = ",".join(instrument.languages)
            click.echo(
                f"{row.instrument_id}\t{row.version}\t{len(instrument.answerable_items)} questions"
                f"\t{languages}\t{row.title}"
            )


@instruments.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def instruments_validate(files: tuple[str, ...]) -> None:
    """Check XLSForm files: 'ok' (with any warnings) or a row-level error for each."""
    failed = 0
    for path in files:
        if not Path(path).is_file():
            click.echo(f"{path}: error: no such file", err=True)
            failed += 1
            continue
        result = validate_file(path)
        if result.instrument is None:
            click.echo(f"error: {result.error}")
            failed += 1
            continue
        inst = result.instrument
        click.echo(
            f"{path}: ok: {inst.id} version {inst.version}, "
            f"{len(inst.answerable_items)} questions, languages {', '.join(inst.languages)}"
        )
        for warning in inst.warnings:
            click.echo(f"{path}: warning: {' '.join(warning.split())}")
    if failed:
        raise SystemExit(1)


@instruments.command("import")
@community_option
@db_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def instruments_import(db_url: str | None, community_slug: str | None, file: str) -> None:
    """Store an XLSForm as a new instrument version of the community."""
    result = validate_file(file)
    if result.instrument is None:
        fail(result.error)
        return
    engine = open_db(db_url)
    with session_for(engine) as session:
        community = get_community(session, community_slug)
        row = register_instrument(session, result.instrument, community_id=community.id)
        click.echo(f"imported {row.instrument_id} version {row.version}")


@click.group()
def sites() -> None:
    """Schools and neighbourhood areas."""


@sites.command("import")
@db_option
@community_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def sites_import(db_url: str | None, community_slug: str | None, file: str) -> None:
    """Add or update sites from a CSV.

    Columns: site_id, name, kind (school|area) [, postcodes, population, phase, fsm_band].
    """
    rows = parse_sites_csv(Path(file).read_bytes(), source=Path(file).name)
    engine = open_db(db_url)
    with session_for(engine) as session:
        added, updated = import_sites(session, get_community(session, community_slug), rows)
    click.echo(f"sites: {added} added, {updated} updated")


@click.group()
def classes() -> None:
    """Teaching groups in schools."""


@classes.command("import")
@db_option
@community_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def classes_import(db_url: str | None, community_slug: str | None, file: str) -> None:
    """Add or update classes from a CSV: site_id, class, year_group [, size] [, pin]."""
    source = Path(file).name
    reader = csv.DictReader(io.StringIO(Path(file).read_bytes().decode("utf-8-sig")))
    header = {h.strip().lower() for h in reader.fieldnames or []}
    missing = [c for c in ("site_id", "class", "year_group") if c not in header]
    if missing:
        fail(f"{source}: row 1: missing column(s) {', '.join(missing)}")
    engine = open_db(db_url)
    with session_for(engine) as session:
        community = get_community(session, community_slug)
        schools = {
            s.code: s
            for s in session.scalars(
                select(Site).where(Site.community_id == community.id, Site.kind == "school")
            )
        }
        problems: list[str] = []
        planned: list[tuple[Site, str, int, int | None, str]] = []
        for number, raw in enumerate(reader, start=2):
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
            site = schools.get(row.get("site_id", ""))
            if site is None:
                problems.append(
                    f"{source}: row {number}, column site_id: no school '{row.get('site_id', '')}'"
                )
                continue
            try:
                year = int(row.get("year_group", ""))
                if not 1 <= year <= 13:
                    raise ValueError
            except ValueError:
                problems.append(
                    f"{source}: row {number}, column year_group:"
                    f" '{row.get('year_group', '')}' is not a year from 1 to 13"
                )
                continue
            size = None
            if row.get("size"):
                try:
                    size = int(row["size"])
                except ValueError:
                    problems.append(
                        f"{source}: row {number}, column size:"
                        f" '{row['size']}' is not a whole number"
                    )
                    continue
            if not row.get("class"):
                problems.append(f"{source}: row {number}, column class: is empty")
                continue
            pin = row.get("pin", "")
            if pin and not (pin.isdigit() and 4 <= len(pin) <= 8):
                problems.append(f"{source}: row {number}, column pin: use 4 to 8 digits")
                continue
            planned.append((site, row["class"][:80], year, size, pin))
        if problems:
            raise RowErrors(problems)
        for site, name, year, size, pin in planned:
            cls = session.scalar(
                select(SchoolClass).where(SchoolClass.site_id == site.id, SchoolClass.name == name)
            )
            if cls is None:
                cls = SchoolClass(site=site, name=name, year_group=year)
                session.add(cls)
            cls.year_group, cls.size = year, size
            if pin:
                set_teacher_pin(cls, pin)
        pins = sum(1 for *_, pin in planned if pin)
        if pins:
            audit(session, None, "class_pins", "community", community.id, count=pins)
    click.echo(f"classes: {len(planned)} added or updated, {pins} teacher PINs set")


@click.group()
def waves() -> None:
    """Rounds of data collection."""


@waves.command("create")
@db_option
@community_option
@click.argument("name")
@click.option(
    "--instrument",
    "instrument_ids",
    multiple=True,
    help="Instrument id (repeatable); default: all built-in.",
)
@click.option("--previous", default=None, help="The wave this one is compared with.")
@click.option("--open", "open_now", is_flag=True, help="Open the wave for responses straight away.")
def waves_create(
    db_url: str | None,
    community_slug: str | None,
    name: str,
    instrument_ids: tuple[str, ...],
    previous: str | None,
    open_now: bool,
) -> None:
    """Create a wave using the newest version of each instrument."""
    engine = open_db(db_url)
    with session_for(engine) as session:
        wave = create_wave(
            session,
            community=get_community(session, community_slug),
            name=name,
            instrument_ids=instrument_ids or BUILTIN_IDS,
            previous=previous,
        )
        if open_now:
            set_wave_status(wave, "open")
        used = ", ".join(
            f"{wi.instrument_version.instrument_id} {wi.instrument_version.version}"
            for wi in wave.instruments
        )
        click.echo(f"wave '{wave.name}' created ({wave.status}) with {used}")


@waves.command("open")
@db_option
@community_option
@click.argument("name")
def waves_open(db_url: str | None, community_slug: str | None, name: str) -> None:
    """Open a wave for responses."""
    engine = open_db(db_url)
    with session_for(engine) as session:
        wave = get_wave(session, get_community(session, community_slug), name)
        set_wave_status(wave, "open")
    click.echo(f"wave '{name}' is open")


@waves.command("close")
@db_option
@community_option
@click.argument("name")
def waves_close(db_url: str | None, community_slug: str | None, name: str) -> None:
    """Close a wave: no more responses."""
    engine = open_db(db_url)
    with session_for(engine) as session:
        wave = get_wave(session, get_community(session, community_slug), name)
        set_wave_status(wave, "closed")
    click.echo(f"wave '{name}' is closed")


def _wave_version(wave: Wave, instrument_id: str | None, usual: str) -> InstrumentVersion:
    """The wave's version of ``instrument_id``; without one, the wave's only instrument,
    else ``usual`` (pupil_perception for schools, resident_baseline for areas)."""
    links = [link.instrument_version for link in wave.instruments]
    used = sorted({v.instrument_id for v in links})
    if instrument_id is None:
        instrument_id = used[0] if len(used) == 1 else usual
    for version in sorted(links, key=lambda v: v.id, reverse=True):
        if version.instrument_id == instrument_id:
            return version
    fail(
        f"wave '{wave.name}' does not use instrument '{instrument_id}'"
        f" (it uses {', '.join(used) or 'none'}): give one with --instrument"
    )
    raise AssertionError  # unreachable: fail() raises


@click.group()
def codes() -> None:
    """Class codes, area links and one-time letter tokens."""


@codes.command("issue")
@db_option
@community_option
@click.option("--wave", "wave_name", required=True)
@click.option("--site", "site_codes", multiple=True, required=True, help="Site id (repeatable).")
@click.option("--tokens", default=0, show_default=True, help="One-time letter tokens per area.")
@click.option(
    "--instrument",
    "instrument_id",
    default=None,
    help="Default: the wave's instrument if it has one; else pupil_perception for schools,"
    " resident_baseline for areas.",
)
def codes_issue(
    db_url: str | None,
    community_slug: str | None,
    wave_name: str,
    site_codes: tuple[str, ...],
    tokens: int,
    instrument_id: str | None,
) -> None:
    """Issue a class code per class of each school (once), an area link (+ tokens) per area."""
    engine = open_db(db_url)
    with session_for(engine) as session:
        community = get_community(session, community_slug)
        wave = get_wave(session, community, wave_name)
        for code in site_codes:
            site = session.scalar(
                select(Site).where(
                    Site.community_id == community.id, func.lower(Site.code) == code.lower()
                )
            )
            if site is None:
                fail(f"there is no site '{code}'")
                return
            if site.retired_at is not None or wave.retired_at is not None:
                what = f"site '{code}'" if site.retired_at is not None else f"wave '{wave.name}'"
                fail(f"{what} is retired: bring it back first (retire --undo)")
            if site.kind == "school":
                version = _wave_version(wave, instrument_id, "pupil_perception")
                if not site.classes:
                    fail(
                        f"school '{code}' has no classes: add them with 'placevoice classes import'"
                    )
                for cls in site.classes:
                    if cls.retired_at is not None:
                        continue
                    existing = session.scalar(
                        select(AccessCode).where(
                            AccessCode.wave_id == wave.id,
                            AccessCode.class_id == cls.id,
                            AccessCode.revoked.is_(False),
                        )
                    )
                    access = existing or issue_code(
                        session,
                        wave=wave,
                        version=version,
                        kind="class",
                        site=site,
                        school_class=cls,
                    )
                    click.echo(f"{site.code}\t{cls.name}\tclass\t{format_code(access.code)}")
            else:
                version = _wave_version(wave, instrument_id, "resident_baseline")
                existing = session.scalar(
                    select(AccessCode).where(
                        AccessCode.wave_id == wave.id,
                        AccessCode.site_id == site.id,
                        AccessCode.kind == "area",
                    )
                )
                access = existing or issue_code(
                    session, wave=wave, version=version, kind="area", site=site
                )
                click.echo(f"{site.code}\t-\tarea\t{format_code(access.code)}")
                for _ in range(tokens):
                    token = issue_code(session, wave=wave, version=version, kind="token", site=site)
                    click.echo(f"{site.code}\t-\ttoken\t{format_code(token.code)}")
