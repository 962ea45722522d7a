"""From the database to what packs and exports need: frames of responses and item specs.

A wave's responses for one instrument come from :func:`surveys.frames.load_responses`
(one row per response, one column per item; only statuses that count in analysis), with
the instrument version, language and submission time of each response added.

This module reads the database with SQLAlchemy but imports no Flask.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.spec import ItemSpec, ScaleSpec
from instruments.model import Instrument, Item
from surveys.frames import combined_instrument, load_responses
from surveys.models import Community, InstrumentVersion, Response, Wave

__all__ = [
    "ExportError",
    "InstrumentData",
    "WaveRef",
    "find_wave",
    "instrument_versions",
    "item_specs",
    "load_instrument_data",
    "scale_specs",
]


class ExportError(ValueError):
    """A problem the person asking for a pack or export can act on."""


@dataclass
class InstrumentData:
    """One instrument's responses in one wave."""

    instrument: Instrument
    versions: list[str]
    frame: pd.DataFrame
    items: list[ItemSpec] = field(default_factory=list)
    scales: list[ScaleSpec] = field(default_factory=list)
    #: Every item of every version (newest first), for exports and codebooks.
    all_items: list[Item] = field(default_factory=list)


#: A wave as the export functions take it: a stored wave, its id, or its name (the CLI).
WaveRef = Wave | int | str


def find_wave(session: Session, wave: WaveRef) -> Wave:
    """The wave meant by ``wave``; :class:`ExportError` if there is none, or if a name is
    ambiguous (two communities in one database may both have a "Spring 2027").

    The web app passes the wave it has already checked belongs to the user's community;
    only the command line goes by name.
    """
    if isinstance(wave, Wave):
        found = session.get(Wave, wave.id)
        if found is None:
            raise ExportError(f"there is no wave with id {wave.id}")
        return found
    if isinstance(wave, int):
        found = session.get(Wave, wave)
        if found is None:
            raise ExportError(f"there is no wave with id {wave}")
        return found
    named = list(
        session.scalars(select(Wave).join(Community).where(Wave.name == wave).order_by(Wave.id))
    )
    if not named:
        known = ", ".join(session.scalars(select(Wave.name).order_by(Wave.id))) or "none"
        raise ExportError(f"there is no wave called '{wave}' (waves: {known})")
    if len(named) > 1:
        communities = ", ".join(w.community.name for w in named)
        raise ExportError(
            f"{len(named)} waves are called '{wave}' (in {communities}); this database holds"
            " more than one community, so choose the wave in the web app's results pages"
        )
    return named[0]


def instrument_versions(session: Session, wave: Wave) -> dict[str, list[InstrumentVersion]]:
    """Instrument id -> the versions used in the wave, oldest first."""
    out: dict[str, list[InstrumentVersion]] = {}
    for link in wave.instruments:
        out.setdefault(link.instrument_version.instrument_id, []).append(link.instrument_version)
    used = session.scalars(
        select(InstrumentVersion)
        .where(
            InstrumentVersion.id.in_(
                select(Response.instrument_version_id).where(Response.wave_id == wave.id)
            )
        )
        .order_by(InstrumentVersion.id)
    )
    for version in used:
        bucket = out.setdefault(version.instrument_id, [])
        if version not in bucket:
            bucket.append(version)
    return out


def item_specs(instrument: Instrument, language: str = "en") -> list[ItemSpec]:
    """Analysis metadata for every answerable item of an instrument."""
    return [_spec(item, language) for item in instrument.answerable_items]


def _spec(item: Item, language: str) -> ItemSpec:
    missing = item.missing_choices
    return ItemSpec(
        name=item.name,
        label=item.label(language),
        domain=item.domain,
        kind=item.type,
        positive=item.positive - missing,
        missing=missing,
        scores={c.name: c.score for c in item.choices if c.score is not None},
        reverse=item.reverse,
        scale=item.scale,
        report=item.report,
    )


def scale_specs(instrument: Instrument) -> list[ScaleSpec]:
    """One scale per ``scale`` name used by the instrument's scored items."""
    members: dict[str, list[str]] = {}
    for item in instrument.answerable_items:
        if item.scale and any(c.score is not None for c in item.choices):
            members.setdefault(item.scale, []).append(item.name)
    return [ScaleSpec(name=name, items=tuple(names)) for name, names in members.items()]


def load_instrument_data(
    session: Session,
    wave: Wave,
    instrument_id: str,
    *,
    site_kind: str | None = None,
) -> InstrumentData:
    """Responses of ``wave`` to every version of ``instrument_id`` as a frame.

    The frame is :func:`surveys.frames.load_responses` plus ``instrument_version``,
    ``language`` and ``submitted_at`` for each response.
    """
    combined = combined_instrument(session, instrument_id)
    frame = load_responses(session, wave=wave, instrument_id=instrument_id, site_kind=site_kind)
    meta = session.execute(
        select(
            Response.id,
            InstrumentVersion.version,
            Response.language,
            Response.submitted_at,
        )
        .join(InstrumentVersion, Response.instrument_version_id == InstrumentVersion.id)
        .where(
            Response.wave_id == wave.id,
            InstrumentVersion.instrument_id == instrument_id,
        )
    ).all()
    by_id = {rid: (version, lang, submitted) for rid, version, lang, submitted in meta}
    ids = frame["response_id"].tolist()
    frame.insert(4, "instrument_version", [by_id[r][0] if r in by_id else None for r in ids])
    frame.insert(5, "language", [by_id[r][1] if r in by_id else None for r in ids])
    frame.insert(6, "submitted_at", [by_id[r][2] if r in by_id else None for r in ids])
    versions = sorted({v for v, _, _ in by_id.values()}) or [combined.newest.version]
    instrument = combined.newest
    items = [_spec(item, "en") for item in combined.items]
    return InstrumentData(
        instrument=instrument,
        versions=versions,
        frame=frame,
        items=items,
        scales=scale_specs(instrument),
        all_items=list(combined.items),
    )
