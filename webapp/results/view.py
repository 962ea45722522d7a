"""Pack contexts made ready for a web page (charts drawn, flags spelled out); pack runs in words."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from exports.charts import FLAG_TEXT, mark_svg
from exports.pack_runs import is_stale
from exports.packdata import Context
from exports.render import chart_domains
from surveys.models.packs import PackRun

__all__ = ["FLAG_TEXT", "MARKS", "local_time", "page_context", "run_progress", "run_state"]

#: Legend marks, the same as the PDF's.
MARKS = {"school": mark_svg("school"), "benchmark": mark_svg("benchmark")}

#: Times are stored in UTC and shown in UK time.
UK = ZoneInfo("Europe/London")


def page_context(context: Context) -> Context:
    """A copy of a pack context with each domain's chart rows drawn."""
    return {**context, "domains": chart_domains(context)}


def local_time(value: dt.datetime | None) -> str:
    """``24 Nov 2026, 14:05`` in UK time (values without a zone are UTC)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(UK).strftime("%-d %b %Y, %H:%M")


def run_state(run: PackRun | None) -> str:
    """What the page says about a run: none, active, stale, done or failed."""
    if run is None:
        return "none"
    if run.status in ("queued", "running"):
        return "stale" if is_stale(run) else "active"
    return run.status


def run_progress(run: PackRun) -> str:
    """How far an active run has got, in words."""
    if run.status == "queued":
        return "waiting to start"
    if not run.total:
        return "analysing the wave's responses"
    return f"{run.done} of {run.total} done"
