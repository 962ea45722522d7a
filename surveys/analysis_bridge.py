"""Between the database and :mod:`analysis`: item metadata and a wave's summary.

:mod:`analysis` knows nothing of instruments or databases; this module turns an
instrument's items into :class:`~analysis.spec.ItemSpec` and its scales into
:class:`~analysis.spec.ScaleSpec`, loads the frames, and calls the analysis functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import (
    AnalysisError,
    ItemSpec,
    ScaleSpec,
    item_trends,
    summarise_wave,
    swemwbs_scale,
)
from analysis.spec import AREA_COLUMNS, SUMMARY_COLUMNS
from instruments import Instrument
from instruments.model import Item
from surveys.frames import combined_instrument, load_responses
from surveys.models import Community, Wave
from surveys.models.margins import ALL_AREAS, PopulationMargin

__all__ = [
    "DEFAULT_INSTRUMENT",
    "LEVELS",
    "WaveSummary",
    "item_spec",
    "item_specs",
    "margins_frame",
    "scale_specs",
    "wave_summary",
]

#: Levels of a summary, and the kind of site each one reports.
LEVELS = {"school": "school", "area": "area"}
#: The instrument summarised at each level when none is named.
DEFAULT_INSTRUMENT = {"school": "pupil_perception", "area": "resident_baseline"}
#: Scale names scored with a published table.
_TABLES = {"swemwbs"}


def item_spec(item: Item, *, label_language: str = "en") -> ItemSpec:
    """The analysis metadata of one instrument item."""
    return ItemSpec(
        name=item.name,
        label=item.label(label_language),
        domain=item.domain,
        kind=item.type,
        positive=frozenset(item.positive),
        missing=item.missing_choices,
        scores={c.name: c.score for c in item.choices if c.score is not None},
        reverse=item.reverse,
        scale=item.scale,
        report=item.report,
    )


def item_specs(items: Instrument | Iterable[Item], *, label_language: str = "en") -> list[ItemSpec]:
    """ItemSpecs for the answerable items, in form order."""
    chosen = items.answerable_items if isinstance(items, Instrument) else items
    return [item_spec(i, label_language=label_language) for i in chosen if i.answerable]


def scale_specs(items: Instrument | Iterable[Item]) -> list[ScaleSpec]:
    """One ScaleSpec per ``scale`` named in the items (SWEMWBS with its metric table)."""
    chosen = items.answerable_items if isinstance(items, Instrument) else items
    members: dict[str, list[str]] = {}
    for item in chosen:
        if item.scale:
            members.setdefault(item.scale, []).append(item.name)
    return [
        swemwbs_scale(names, name=name) if name in _TABLES else ScaleSpec(name, tuple(names))
        for name, names in members.items()
    ]


def margins_frame(
    session: Session, community: Community | int, areas: Sequence[str] | None = None
) -> pd.DataFrame | None:
    """The stored population margins as the raking input, or None when there are none.

    With ``areas``, each area gets its own margins where stored, else the community-wide
    (``ALL``) ones; the frame then has a ``site`` column. An area with neither is left
    out of the frame (the caller decides what to do).
    """
    community_id = community if isinstance(community, int) else community.id
    rows = session.execute(
        select(
            PopulationMargin.area,
            PopulationMargin.variable,
            PopulationMargin.category,
            PopulationMargin.proportion,
        ).where(PopulationMargin.community_id == community_id)
    ).all()
    if not rows:
        return None
    table = pd.DataFrame(rows, columns=["area", "variable", "category", "proportion"])
    if areas is None:
        return table
    parts = []
    for area in areas:
        own = table[table["area"] == area]
        chosen = own if not own.empty else table[table["area"] == ALL_AREAS]
        if not chosen.empty:
            parts.append(chosen.assign(site=area))
    if not parts:
        return None
    out = pd.concat(parts, ignore_index=True)
    return out.loc[:, ["site", "variable", "category", "proportion"]]


@dataclass(frozen=True)
class WaveSummary:
    """A wave's summary rows, with what went into them."""

    #: One row per site x item (plus whole-wave rows): the ``summary`` CSV columns.
    items: pd.DataFrame
    #: Change since the previous wave (None without a previous wave).
    trends: pd.DataFrame | None
    instrument_id: str
    level: str
    k: int
    responses: int
    #: For areas: whether residents were weighted to stored population margins.
    weighted: bool
    notes: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns of :attr:`items`, in order."""
        return AREA_COLUMNS if self.level == "area" else SUMMARY_COLUMNS


def _summarise(
    session: Session,
    *,
    wave: Wave,
    level: str,
    instrument_id: str,
    k: int,
    specs: Sequence[ItemSpec],
) -> tuple[pd.DataFrame, int, bool, list[str]]:
    frame = load_responses(session, wave=wave, instrument_id=instrument_id, site_kind=level)
    notes: list[str] = []
    margins = None
    if level == "area":
        areas = sorted(frame["site"].dropna().astype(str).unique())
        margins = margins_frame(session, wave.community_id, areas) if areas else None
        if margins is None:
            notes.append(
                "no population margins are stored, so residents are not weighted"
                " (design effect 1); add them with 'placevoice margins import'"
            )
        elif set(margins["site"]) != set(areas):
            missing = sorted(set(areas) - set(margins["site"]))
            notes.append(
                "no population margins for area(s) "
                + ", ".join(missing)
                + " and no community-wide ('ALL') margins, so residents are not weighted"
            )
            margins = None
        if margins is not None:
            variables = {v for name in margins["variable"] for v in name.split(":")}
            absent = sorted(v for v in variables if v not in frame.columns)
            if absent:
                notes.append(
                    "the margins name " + ", ".join(absent) + f", which '{instrument_id}'"
                    " does not ask, so residents are not weighted"
                )
                margins = None
    if margins is not None:
        try:
            table = summarise_wave(frame, specs, wave=wave.name, level=level, k=k, margins=margins)
        except AnalysisError as err:
            notes.append(f"residents are not weighted: {err}")
            margins = None
    if margins is None:
        table = summarise_wave(frame, specs, wave=wave.name, level=level, k=k)
    return table, len(frame), margins is not None, notes


def wave_summary(
    session: Session,
    wave: Wave,
    level: str,
    instrument_id: str | None = None,
    k: int | None = None,
    *,
    trends: bool = True,
) -> WaveSummary:
    """Summarise ``wave`` at ``level`` ("school" or "area"), with trends if it has a previous.

    Parameters
    ----------
    session
        A database session (only read).
    wave
        The wave.
    level
        "school" (pupils at schools) or "area" (residents at areas, raked to the stored
        population margins when there are any).
    instrument_id
        Default: ``pupil_perception`` for schools, ``resident_baseline`` for areas.
    k
        Suppression threshold; default the community's ``suppression_k``.
    trends
        Also compare with the previous wave (``WaveSummary.trends``); False skips
        loading it when only this wave's rows are wanted.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be 'school' or 'area', not '{level}'")
    instrument_id = instrument_id or DEFAULT_INSTRUMENT[level]
    threshold = k if k is not None else wave.community.suppression_k
    combined = combined_instrument(session, instrument_id)
    specs = item_specs(combined.items, label_language=combined.newest.default_language)
    table, count, weighted, notes = _summarise(
        session, wave=wave, level=level, instrument_id=instrument_id, k=threshold, specs=specs
    )
    changes = None
    if trends and wave.previous is not None:
        before, _, _, _ = _summarise(
            session,
            wave=wave.previous,
            level=level,
            instrument_id=instrument_id,
            k=threshold,
            specs=specs,
        )
        changes = item_trends(table, before, k=threshold)
    return WaveSummary(
        items=table,
        trends=changes,
        instrument_id=instrument_id,
        level=level,
        k=threshold,
        responses=count,
        weighted=weighted,
        notes=tuple(notes),
    )
