"""Coded themes and cleared quotes for packs, read from the participatory coding tables.

Theme counts go through :func:`analysis.themes.theme_counts` (suppression included), so a
theme shows only where at least k respondents mentioned it. Quotes come only from
:class:`surveys.models.field.QuoteApproval` (text cleared after PII screening, already
redacted), and only for areas with at least k coded respondents.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.themes import theme_counts
from surveys.models import Response, Site, Wave
from surveys.models.field import CodedUnit, Coding, QuoteApproval, Theme

__all__ = ["MAX_QUOTES", "MAX_QUOTE_CHARS", "NO_THEMES_NOTE", "cleared_quotes", "coded_themes"]

#: Quotes longer than this are left out rather than cut (cutting can change meaning).
MAX_QUOTE_CHARS = 280
#: Quotes shown per area.
MAX_QUOTES = 6
NO_THEMES_NOTE = (
    "No open answers from this wave have been coded into themes yet, so no themes are shown."
)


def coded_themes(session: Session, wave: Wave, *, site_kind: str, k: int) -> pd.DataFrame | None:
    """Theme counts per site of ``site_kind`` (suppressed), or None if nothing is coded.

    Where two coders' disagreement was reconciled, only the agreed codes count.
    """
    site_filter = (
        Response.wave_id == wave.id,
        Site.kind == site_kind,
    )
    codes = session.execute(
        select(Coding.response_id, Coding.item, Coding.reconciled, Theme.name, Site.code, Site.name)
        .join(Theme, Coding.theme_id == Theme.id)
        .join(Response, Coding.response_id == Response.id)
        .join(Site, Response.site_id == Site.id)
        .where(*site_filter)
    ).all()
    units = session.execute(
        select(CodedUnit.response_id, CodedUnit.item, Site.code, Site.name)
        .join(Response, CodedUnit.response_id == Response.id)
        .join(Site, Response.site_id == Site.id)
        .where(*site_filter)
    ).all()
    if not codes and not units:
        return None
    reconciled = {(r, i) for r, i, rec, *_ in codes if rec}
    rows: list[dict[str, str | None]] = [
        {"response_id": r, "site": code, "site_name": name, "theme": theme}
        for r, i, rec, theme, code, name in codes
        if rec or (r, i) not in reconciled
    ]
    rows += [
        {"response_id": r, "site": code, "site_name": name, "theme": None}
        for r, _i, code, name in units
    ]
    frame = pd.DataFrame(rows, columns=["response_id", "site", "site_name", "theme"])
    return theme_counts(frame, k=k, wave=wave.name)


def cleared_quotes(
    session: Session, wave: Wave, *, sites: Iterable[str], k: int
) -> dict[str, list[dict[str, str]]]:
    """Site code -> short quotes cleared after PII screening (areas with >= k coded people)."""
    wanted = set(sites)
    coded = session.execute(
        select(Site.code, CodedUnit.response_id)
        .join(Response, CodedUnit.response_id == Response.id)
        .join(Site, Response.site_id == Site.id)
        .where(Response.wave_id == wave.id, Site.kind == "area")
    ).all()
    people: dict[str, set[str]] = {}
    for code, rid in coded:
        people.setdefault(code, set()).add(rid)
    rows = session.execute(
        select(Site.code, QuoteApproval.text, Theme.name)
        .join(Response, QuoteApproval.response_id == Response.id)
        .join(Site, Response.site_id == Site.id)
        .outerjoin(Theme, QuoteApproval.theme_id == Theme.id)
        .where(Response.wave_id == wave.id, Site.kind == "area")
        .order_by(Site.code, QuoteApproval.id)
    ).all()
    out: dict[str, list[dict[str, str]]] = {}
    for code, text, theme in rows:
        if code not in wanted or len(people.get(code, ())) < k:
            continue
        text = " ".join(str(text).split())
        if not text or len(text) > MAX_QUOTE_CHARS:
            continue
        bucket = out.setdefault(code, [])
        if len(bucket) < MAX_QUOTES:
            bucket.append({"text": text, "theme": theme or ""})
    return out
