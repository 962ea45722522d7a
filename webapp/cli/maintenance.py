"""Maintenance commands: ``retention run``, ``erase``, ``audit``.

``placevoice retention run`` is meant for cron or a systemd timer (daily is plenty); the
app itself never deletes data on its own.
"""

from __future__ import annotations

import datetime as dt
import json

import click
from sqlalchemy import select

from surveys.models import AuditEntry, User
from surveys.services.erasure import erase_by_receipt, run_retention, scrub_sqlite
from webapp.cli.common import db_option, fail, open_db, session_for


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
    cli.add_command(retention)
    cli.add_command(erase)
    cli.add_command(audit)


@click.group()
def retention() -> None:
    """Delete responses whose wave's retention period has ended."""


@retention.command("run")
@db_option
@click.option("--dry-run", is_flag=True, help="Show what would be deleted; delete nothing.")
def retention_run(db_url: str | None, dry_run: bool) -> None:
    """Delete every response of each closed wave past its retention_days (for cron)."""
    engine = open_db(db_url)
    with session_for(engine) as session:
        results = run_retention(session, dry_run=dry_run)
        if dry_run:
            session.rollback()
    if not dry_run and any(r.responses for r in results):
        scrub_sqlite(engine)
    engine.dispose()
    verb = "would delete" if dry_run else "deleted"
    if not results:
        click.echo("retention: no wave is past its retention period")
    for r in results:
        click.echo(
            f"retention: wave '{r.wave_name}' (closed {r.closed_at:%Y-%m-%d},"
            f" kept {r.retention_days} days): {verb} {r.responses} responses"
        )


@click.command()
@click.argument("receipt_code")
@db_option
def erase(receipt_code: str, db_url: str | None) -> None:
    """Delete the one response a receipt code belongs to (a respondent's withdrawal)."""
    engine = open_db(db_url)
    with session_for(engine) as session:
        found = erase_by_receipt(session, receipt_code=receipt_code)
    if found:
        scrub_sqlite(engine)
    engine.dispose()
    if not found:
        fail("no response has that receipt code (it may already have been deleted)")
    click.echo("erased: the response with that receipt code has been deleted")


def _since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; use YYYY-MM-DD") from None
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


@click.command()
@db_option
@click.option(
    "--since", callback=_since, metavar="DATE", help="Only entries from DATE (YYYY-MM-DD)."
)
@click.option("--action", default="", help="Only entries with this action, e.g. login.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def audit(db_url: str | None, since: dt.datetime | None, action: str, as_json: bool) -> None:
    """Print the audit log, oldest first."""
    engine = open_db(db_url)
    with session_for(engine) as session:
        query = select(AuditEntry, User.email).outerjoin(User, User.id == AuditEntry.user_id)
        if since is not None:
            query = query.where(AuditEntry.at >= since)
        if action:
            query = query.where(AuditEntry.action == action)
        for entry, email in session.execute(query.order_by(AuditEntry.at, AuditEntry.id)):
            if as_json:
                row = {
                    "at": entry.at.isoformat(),
                    "user": email or "",
                    "action": entry.action,
                    "object_type": entry.object_type,
                    "object_id": entry.object_id,
                    "detail": entry.detail or {},
                }
                click.echo(json.dumps(row, sort_keys=True, default=str))
                continue
            detail = " ".join(f"{k}={v}" for k, v in sorted((entry.detail or {}).items()))
            obj = f"{entry.object_type}:{entry.object_id}" if entry.object_id else entry.object_type
            click.echo(
                f"{entry.at:%Y-%m-%d %H:%M:%S}  {email or 'system':<30}  {entry.action:<18}"
                f"  {obj}  {detail}".rstrip()
            )
    engine.dispose()


__all__ = ["audit", "erase", "retention"]
