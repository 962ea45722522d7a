"""Generate every feedback pack and neighbourhood report of a wave, in parallel.

:func:`generate_packs` reads the wave once, computes every summary once (in this
process), and hands each worker process only one site's finished context; a worker turns
it into HTML and a PDF. Workers need no database. Files are named
``{wave-slug}-{site}.pdf`` (``{wave-slug}-community.pdf`` for the whole-community
neighbourhood report), written to a temporary file and renamed, so a failed or
interrupted run never leaves a half-written pack. A failing site is reported and the
others carry on. Sites with fewer than 20 responses get no pack: they are listed in the
batch report ``{wave-slug}-packs-report.txt`` written beside the packs.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.errors import AnalysisError
from exports.dataset import (
    ExportError,
    InstrumentData,
    WaveRef,
    find_wave,
    load_instrument_data,
)
from exports.maps import attach_maps
from exports.packdata import Context, area_contexts, school_contexts, slugify
from exports.render import pack_html, renderer, write_atomically
from exports.themes import NO_THEMES_NOTE, cleared_quotes, coded_themes
from surveys.analysis_bridge import margins_frame
from surveys.db import make_engine, make_sessionmaker
from surveys.models import InstrumentVersion, Response, Site, Wave
from surveys.services.boundaries import load_boundaries

__all__ = [
    "PackFailure",
    "PackResult",
    "build_contexts",
    "generate_packs",
    "pack_filename",
    "render_contexts",
    "render_pack",
]

#: Instruments whose responses are interviews (themes and quotes), not a resident survey.
INTERVIEW_CHANNELS = ("field", "odk")


@dataclass(frozen=True)
class PackFailure:
    """A site whose pack could not be made, and why."""

    site: str
    error: str


@dataclass
class PackResult:
    """What a batch did: files written, sites without a pack, failures, timings."""

    written: list[Path] = field(default_factory=list)
    failed: list[PackFailure] = field(default_factory=list)
    #: Sites with too few responses: ``site``, ``site_name``, ``responses``, ``reason``.
    notes: list[Context] = field(default_factory=list)
    report: Path | None = None
    #: Seconds spent reading and analysing the wave (once, in the parent).
    prepare_seconds: float = 0.0
    #: Per pack: ``site``, ``html_seconds``, ``pdf_seconds``, ``peak_rss_mb``, ``pid``.
    timings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no site failed."""
        return not self.failed


def pack_filename(wave: str, site: str) -> str:
    """``{wave-slug}-{site}.pdf``.

    >>> pack_filename("Spring 2027", "S04")
    'spring-2027-S04.pdf'
    """
    safe_site = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in site) or "site"
    return f"{slugify(wave)}-{safe_site}.pdf"


def _populations(session: Session, community_id: int) -> dict[str, int | None]:
    rows = session.execute(
        select(Site.code, Site.population).where(Site.community_id == community_id)
    )
    return {str(code): population for code, population in rows}


def _instrument_counts(session: Session, wave: Wave) -> pd.DataFrame:
    rows = session.execute(
        select(InstrumentVersion.instrument_id, Site.kind, Response.channel, func.count())
        .join(InstrumentVersion, Response.instrument_version_id == InstrumentVersion.id)
        .join(Site, Response.site_id == Site.id)
        .where(Response.wave_id == wave.id, Response.status != "draft")
        .group_by(InstrumentVersion.instrument_id, Site.kind, Response.channel)
    ).all()
    return pd.DataFrame(rows, columns=["instrument_id", "kind", "channel", "n"])


def _main_instrument(counts: pd.DataFrame, kind: str) -> str | None:
    """The instrument with most (non-interview) responses at sites of ``kind``."""
    part = counts[(counts["kind"] == kind) & ~counts["channel"].isin(INTERVIEW_CHANNELS)]
    if part.empty:
        return None
    totals = part.groupby("instrument_id")["n"].sum().sort_values(ascending=False)
    return str(totals.index[0])


def build_contexts(
    session: Session, wave_ref: WaveRef, *, sites: Sequence[str] | None = None
) -> tuple[list[Context], list[Context]]:
    """Every pack context of the wave (schools, areas, whole community) and the notes.

    The whole wave is analysed (benchmarks need every school); ``sites`` only picks
    which contexts come back.
    """
    wave = find_wave(session, wave_ref)
    community = wave.community
    k = community.suppression_k
    populations = _populations(session, community.id)
    counts = _instrument_counts(session, wave)
    contexts: list[Context] = []
    notes: list[Context] = []
    school_id = _main_instrument(counts, "school")
    if school_id is not None:
        data = load_instrument_data(session, wave, school_id, site_kind="school")
        previous: InstrumentData | None = None
        if wave.previous is not None:
            prev = load_instrument_data(session, wave.previous, school_id, site_kind="school")
            previous = prev if not prev.frame.empty else None
        themes = coded_themes(session, wave, site_kind="school", k=k)
        found, skipped = school_contexts(
            data,
            wave=wave.name,
            community=community.name,
            k=k,
            populations=populations,
            previous=previous,
            previous_wave=wave.previous.name if previous is not None and wave.previous else None,
            themes=themes,
            themes_note=NO_THEMES_NOTE,
        )
        contexts += found
        notes += skipped
    area_id = _main_instrument(counts, "area")
    if area_id is not None:
        data = load_instrument_data(session, wave, area_id, site_kind="area")
        area_codes = sorted(set(data.frame["site"].astype(str)))
        margins = margins_frame(session, community.id, area_codes)
        themes = coded_themes(session, wave, site_kind="area", k=k)
        quotes = cleared_quotes(session, wave, sites=area_codes, k=k) if themes is not None else {}
        areas = partial(
            area_contexts,
            data,
            wave=wave.name,
            community=community.name,
            k=k,
            populations=populations,
            themes=themes,
            quotes=quotes,
            themes_note=NO_THEMES_NOTE,
        )
        try:
            found, skipped = areas(margins=margins)
        except AnalysisError as err:
            if margins is None:
                raise
            found, skipped = areas(margins=None)
            for ctx in found:
                ctx["weighting_note"] = (
                    f"Weighting was not possible ({err}); figures are unweighted."
                )
        quotes_note = (
            "No quotes are shown: open answers have not been coded and cleared after screening"
            " for personal details yet."
            if themes is None
            else "No quotes from this area have been cleared for publication after screening"
            " for personal details."
        )
        for ctx in found:
            ctx["quotes_note"] = quotes_note
        attach_maps(found, load_boundaries(session, community.id))
        contexts += found
        notes += skipped
    if sites:
        wanted = set(sites)
        unknown = wanted - {c["site"] for c in contexts} - {n["site"] for n in notes}
        if unknown:
            raise ExportError(
                f"no responses in wave '{wave.name}' for site(s): {', '.join(sorted(unknown))}"
            )
        contexts = [c for c in contexts if c["site"] in wanted]
        notes = [n for n in notes if n["site"] in wanted]
    return contexts, notes


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def render_pack(context: Context, path: str) -> dict[str, Any]:
    """Worker: one context to one PDF at ``path`` (atomically). Returns timings."""
    started = time.perf_counter()
    html = pack_html(context)
    html_done = time.perf_counter()
    write_atomically(Path(path), renderer().pdf_bytes(html))
    return {
        "site": context["site"],
        "path": path,
        "html_seconds": html_done - started,
        "pdf_seconds": time.perf_counter() - html_done,
        "peak_rss_mb": _peak_rss_mb(),
        "pid": os.getpid(),
    }


def _safe_render(context: Context, path: str) -> dict[str, Any]:
    try:
        return render_pack(context, path)
    except Exception as err:  # a failing site is reported; the others carry on
        return {"site": context["site"], "error": f"{type(err).__name__}: {err}"}


def _warm_up() -> None:
    renderer()


def _write_report(path: Path, wave: str, result: PackResult) -> Path:
    lines = [f"Packs for {wave}", ""]
    lines += [f"written\t{p.name}" for p in result.written]
    lines += [f"no pack\t{n['site']}\t{n['site_name']}\t{n['reason']}" for n in result.notes]
    lines += [f"FAILED\t{f.site}\t{f.error}" for f in result.failed]
    return write_atomically(path, ("\n".join(lines) + "\n").encode("utf-8"))


def generate_packs(
    *,
    db_url: str | None,
    wave: str | int,
    out_dir: str | Path,
    jobs: int = 2,
    sites: Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PackResult:
    """Render the wave's packs into ``out_dir``; see the module docstring.

    Parameters
    ----------
    db_url : str or None
        Database URL (None: ``$PLACEVOICE_DATABASE_URL`` or the default file).
    wave : str or int
        Wave name (the command line) or id (the web app's background run).
    out_dir : path
        Folder for the PDFs (created if needed).
    jobs : int
        Worker processes (1 renders in this process).
    sites : sequence of str, optional
        Only these site codes (``community`` for the whole-community report).
    progress : callable, optional
        Called as ``progress(done, total)`` after each pack.
    """
    if jobs < 1:
        raise ExportError(f"--jobs must be 1 or more, not {jobs}")
    out = Path(out_dir)
    started = time.perf_counter()
    engine = make_engine(db_url)
    try:
        with make_sessionmaker(engine)() as session:
            wave_row = find_wave(session, wave)
            wave_name = wave_row.name
            contexts, notes = build_contexts(session, wave_row, sites=sites)
    finally:
        engine.dispose()
    return render_contexts(
        contexts,
        notes=notes,
        wave=wave_name,
        out_dir=out,
        jobs=jobs,
        progress=progress,
        prepare_seconds=time.perf_counter() - started,
    )


def render_contexts(
    contexts: Sequence[Context],
    *,
    notes: Sequence[Context] = (),
    wave: str,
    out_dir: str | Path,
    jobs: int = 2,
    progress: Callable[[int, int], None] | None = None,
    prepare_seconds: float = 0.0,
    start_method: str | None = None,
) -> PackResult:
    """Render ready-made contexts (from :func:`build_contexts`) into ``out_dir``.

    ``start_method`` picks how workers start (``"spawn"`` from a threaded web server;
    default: the platform's, ``fork`` on Linux, the quickest).
    """
    out = Path(out_dir)
    result = PackResult(notes=list(notes), prepare_seconds=prepare_seconds)
    out.mkdir(parents=True, exist_ok=True)
    jobs_list = [(ctx, str(out / pack_filename(wave, ctx["site"]))) for ctx in contexts]
    total = len(jobs_list)

    def collect(outcome: dict[str, Any]) -> None:
        if "error" in outcome:
            result.failed.append(PackFailure(site=outcome["site"], error=outcome["error"]))
        else:
            result.written.append(Path(outcome["path"]))
            result.timings.append(outcome)
        if progress is not None:
            progress(len(result.written) + len(result.failed), total)

    if jobs == 1 or total <= 1:
        for ctx, path in jobs_list:
            collect(_safe_render(ctx, path))
    else:
        context = multiprocessing.get_context(start_method) if start_method else None
        with ProcessPoolExecutor(
            max_workers=min(jobs, total), initializer=_warm_up, mp_context=context
        ) as pool:
            futures = {pool.submit(_safe_render, ctx, path): ctx["site"] for ctx, path in jobs_list}
            for future in as_completed(futures):
                try:
                    collect(future.result())
                except Exception as err:  # a worker died (e.g. out of memory)
                    collect({"site": futures[future], "error": f"{type(err).__name__}: {err}"})
    result.written.sort()
    result.failed.sort(key=lambda f: f.site)
    result.report = _write_report(out / f"{slugify(wave)}-packs-report.txt", wave, result)
    return result
