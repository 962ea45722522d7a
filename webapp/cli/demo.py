"""``placevoice demo``: build the demo community, generate its packs, serve the app."""

from __future__ import annotations

import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import make_url

from surveys.demo import CURRENT_WAVE, DEFAULT_SEED, DemoError, DemoResult, build_demo
from surveys.demo.summary import DemoSummary
from webapp.cli.common import db_option, fail, open_db, session_for

#: Folder next to the database file that the demo's packs are written to.
PACKS_DIR = "demo-packs"


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(demo)


@click.command()
@db_option
@click.option("--no-serve", is_flag=True, help="Stop after building the demo data.")
@click.option(
    "--packs/--no-packs",
    default=None,
    help="Generate the feedback packs (default: yes when serving, no with --no-serve).",
)
@click.option(
    "--seed",
    default=DEFAULT_SEED,
    show_default=True,
    type=int,
    help="Random seed: the same seed builds the same answers.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def demo(
    db_url: str | None, no_serve: bool, packs: bool | None, seed: int, host: str, port: int
) -> None:
    """Build a realistic demo community, generate its packs, then serve the app.

    The demo is built once per database: run again, it reuses what is there. The
    database defaults to placevoice.db in this folder; packs go to demo-packs/ beside it.
    """
    started = time.perf_counter()
    engine = open_db(db_url, create=True)
    url = engine.url.render_as_string(hide_password=False)
    click.echo(f"database: {engine.url.render_as_string()}")

    def step(label: str) -> None:
        if sys.stderr.isatty():
            click.echo(f"  building {label}...", err=True)

    try:
        with session_for(engine) as session:
            result = build_demo(
                session,
                seed=seed,
                on_step=step,
                code_secret=os.environ.get("PLACEVOICE_SECRET_KEY"),
            )
    except DemoError as err:
        fail(str(err))
        return
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started
    _report(result, elapsed=elapsed, seed=seed, host=host, port=port)
    if packs if packs is not None else not no_serve:
        _packs(url, result.built)
    elif no_serve:
        click.echo(
            f"\nPacks: not generated (add --packs, or run: placevoice packs"
            f" --wave '{CURRENT_WAVE.name}' --out {_packs_dir(url)})"
        )
    if no_serve:
        return
    serve_demo(url, host=host, port=port)


#: Settings the demo serves with: plain http, so the session cookie is not ``Secure``
#: (a browser would drop a Secure cookie sent over http, and sign-in would not stick).
DEMO_CONFIG: dict[str, Any] = {"SESSION_COOKIE_SECURE": False}
#: Hosts that only this machine can reach.
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def serve_demo(url: str, *, host: str, port: int) -> None:
    """Serve the demo over plain http until interrupted (warning when off this machine)."""
    from webapp.cli.serve import run_server

    if host not in LOOPBACK:
        click.echo(
            f"warning: the demo serves plain http on {host}:{port}: passwords and answers"
            " cross the network unencrypted and sign-in cookies are not Secure. Use it on a"
            " trusted network only; for real use, run placevoice serve behind HTTPS.",
            err=True,
        )
    click.echo(f"\nplacevoice demo serving on http://{host}:{port}/ (Ctrl+C stops it)")
    run_server(
        db_url=url,
        host=host,
        port=port,
        workers=2,
        threads=4,
        secret_key=secrets.token_urlsafe(48),
        queue_workers=1,
        extra=DEMO_CONFIG,
    )


def _report(result: DemoResult, *, elapsed: float, seed: int, host: str, port: int) -> None:
    summary = result.summary
    if result.built:
        click.echo(f"{summary.community}: demo built in {elapsed:.1f} s (seed {seed})")
    else:
        built = f"seed {result.seed}" if result.seed is not None else "an earlier run"
        click.echo(f"{summary.community}: demo already built ({built}); nothing added")
        if result.seed is not None and result.seed != seed:
            click.echo(
                f"  (--seed {seed} was not used: build into a new database to use another seed)"
            )
    click.echo(
        f"  {summary.schools} schools, {summary.classes} classes, {summary.areas} areas;"
        f" {summary.codes_issued} access codes for {CURRENT_WAVE.name}"
    )
    for wave, status in summary.waves:
        click.echo(f"  {wave} ({status}): {_wave_line(summary, wave)}")
    if result.panel is not None:
        p = result.panel
        click.echo(
            f"  panel: {p.planted:,} pupils planted in both waves ({p.one_typo} codes retyped"
            f" with one error, {p.two_typos} with two); {p.links:,} linked, {p.true_links:,}"
            f" of them correctly ({100 * p.true_links / max(p.planted, 1):.0f}% of the planted"
            " pupils found)"
        )
    base = f"http://{host}:{port}"
    click.echo(f"\nStaff sign in at {base}/login, password '{summary.password}' (demo only):")
    width = max((len(email) for email, _, _ in summary.logins), default=0)
    for email, role, sites in summary.logins:
        click.echo(f"  {email:<{width}}  {role}{'  ' + sites if sites else ''}")
    if summary.class_codes:
        click.echo(f"\nPupils start at {base}/start with a class code, e.g.:")
        for school, name, code in summary.class_codes:
            click.echo(f"  {code}  {school}, class {name}")
        click.echo(f"Teachers see live counts at {base}/teacher with PIN {summary.pin}")
    if summary.area_codes:
        click.echo("Residents' area links:")
        for area, code in summary.area_codes:
            click.echo(f"  {code}  {area}")


def _wave_line(summary: DemoSummary, wave: str) -> str:
    parts = [f"{summary.completed(wave=wave, instrument='pupil_perception'):,} pupil responses"]
    drafts = summary.count(wave=wave, status="draft")
    if drafts:
        parts[0] += f" (+{drafts} drafts in progress)"
    parts.append(
        f"{summary.completed(wave=wave, instrument='resident_baseline'):,} resident responses"
    )
    interviews = summary.count(wave=wave, instrument="peer_interview")
    if interviews:
        approved = summary.count(wave=wave, instrument="peer_interview", status="approved")
        parts.append(
            f"{interviews} peer interviews ({approved} approved,"
            f" {interviews - approved} awaiting review)"
        )
    return ", ".join(parts)


def _packs_dir(url: str) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(str(parsed.database)).resolve().parent / PACKS_DIR
    return Path.cwd() / PACKS_DIR


def _packs(url: str, built: bool) -> None:
    out = _packs_dir(url)
    if not built and out.is_dir() and any(out.glob("*.pdf")):
        click.echo(f"\nPacks: already in {out}")
        return
    try:
        from exports.packs import generate_packs
    except (ImportError, AttributeError):
        click.echo("\nPacks: not available in this version; skipped")
        return
    started = time.perf_counter()
    click.echo(f"\nGenerating packs for {CURRENT_WAVE.name} into {out} ...")
    try:
        if sys.stderr.isatty():

            def shown(done: int, total: int) -> None:
                click.echo(f"\r  {done} of {total} packs", nl=done == total, err=True)

            result: Any = generate_packs(
                db_url=url, wave=CURRENT_WAVE.name, out_dir=out, jobs=2, progress=shown
            )
        else:
            result = generate_packs(db_url=url, wave=CURRENT_WAVE.name, out_dir=out, jobs=2)
    except Exception as err:  # the demo is usable without its packs
        click.echo(f"Packs: could not be generated ({err}); the app still works", err=True)
        return
    written = len(getattr(result, "written", []) or [])
    failed = len(getattr(result, "failed", []) or [])
    line = f"Packs: {written} written in {time.perf_counter() - started:.1f} s"
    click.echo(line + (f", {failed} failed" if failed else ""))
