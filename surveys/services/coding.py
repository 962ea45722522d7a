"""Participatory thematic coding of open answers.

Residents and the core team build a codebook of themes as they go, tag each open answer
(or a highlighted part of it) with themes, and code a sample twice, independently, so
agreement can be measured with Cohen's kappa per theme. Disagreements are reconciled
into agreed codes. Quotes are cleared for reports only after PII screening.

An *open answer* is the answer to a ``text`` item with the ``multiline`` appearance,
in a submitted or approved response. A *unit* is one open answer: (response, item).
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from analysis.themes import cohen_kappa
from instruments import Instrument
from surveys.field_models import CodedUnit, Coding, QuoteApproval, Reconciliation, Theme
from surveys.models import AuditEntry, Community, Response, Site, Wave
from surveys.pii import Span, screen
from surveys.services.field import counts_in_analysis, research_settings
from surveys.services.setup import instrument_of

__all__ = [
    "Agreement",
    "CodingError",
    "Unit",
    "add_span_coding",
    "add_theme",
    "agreement",
    "approve_quote",
    "codes_by_coder",
    "disagreements",
    "final_themes",
    "get_unit",
    "in_double_sample",
    "next_unit",
    "open_items",
    "open_units",
    "reconcile",
    "remove_coding",
    "save_unit_codes",
    "school_names",
    "screen_quote",
    "theme_codings",
    "themes",
    "update_theme",
]

CODABLE_STATUSES = ("submitted", "approved")


class CodingError(ValueError):
    """A coding action that cannot be done; the message says why."""


@dataclass(frozen=True)
class Unit:
    """One open answer to code."""

    response_id: str
    item: str
    question: str
    text: str
    site_id: int | None


def open_items(instrument: Instrument) -> list[str]:
    """Names of the instrument's open questions (multiline text items)."""
    return [i.name for i in instrument.items if i.type == "text" and "multiline" in i.appearance]


def _community_responses(session: Session, community_id: int) -> list[Response]:
    return list(
        session.scalars(
            select(Response)
            .join(Wave, Wave.id == Response.wave_id)
            .where(Wave.community_id == community_id, Response.status.in_(CODABLE_STATUSES))
            .order_by(Response.submitted_at, Response.id)
        )
    )


def _unit(response: Response, item: str) -> Unit | None:
    instrument = instrument_of(response.instrument_version)
    text = response.answers.get(item)
    if item not in open_items(instrument) or not isinstance(text, str) or not text.strip():
        return None
    language = response.language or instrument.default_language
    question = instrument.item(item).label(language, instrument.default_language)
    return Unit(response.id, item, question, text, response.site_id)


def open_units(session: Session, community_id: int) -> list[Unit]:
    """Every open answer in the community that can be coded, oldest first."""
    units = []
    for response in _community_responses(session, community_id):
        for item in open_items(instrument_of(response.instrument_version)):
            unit = _unit(response, item)
            if unit is not None:
                units.append(unit)
    return units


def get_unit(session: Session, community_id: int, response_id: str, item: str) -> Unit:
    """One open answer; :class:`CodingError` if it is not codable in this community."""
    response = session.get(Response, response_id)
    if (
        response is None
        or response.wave.community_id != community_id
        or response.status not in CODABLE_STATUSES
    ):
        raise CodingError("there is no such open answer")
    unit = _unit(response, item)
    if unit is None:
        raise CodingError("there is no such open answer")
    return unit


def in_double_sample(response_id: str, item: str, percent: int) -> bool:
    """Whether a unit is in the double-coding sample (stable, about ``percent`` %)."""
    digest = hashlib.sha256(f"{response_id}:{item}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent


def _coders_by_unit(
    session: Session, response_ids: Iterable[str]
) -> dict[tuple[str, str], list[int]]:
    rows = session.execute(
        select(CodedUnit.response_id, CodedUnit.item, CodedUnit.coder_id)
        .where(CodedUnit.response_id.in_(list(response_ids)))
        .order_by(CodedUnit.done_at, CodedUnit.coder_id)
    ).all()
    result: dict[tuple[str, str], list[int]] = defaultdict(list)
    for response_id, item, coder_id in rows:
        result[(response_id, item)].append(coder_id)
    return result


def next_unit(session: Session, *, coder_id: int, community_id: int) -> Unit | None:
    """The next answer for this coder: a sample answer awaiting its second coder, else
    an answer nobody has coded yet."""
    units = open_units(session, community_id)
    coders = _coders_by_unit(session, {u.response_id for u in units})
    percent = research_settings(session, community_id).double_code_percent
    second = [
        u
        for u in units
        if coders.get((u.response_id, u.item)) is not None
        and len(coders[(u.response_id, u.item)]) == 1
        and coder_id not in coders[(u.response_id, u.item)]
        and in_double_sample(u.response_id, u.item, percent)
    ]
    if second:
        return second[0]
    fresh = [u for u in units if (u.response_id, u.item) not in coders]
    return fresh[0] if fresh else None


# --- codebook -----------------------------------------------------------------------------


def themes(session: Session, community_id: int) -> list[Theme]:
    """The codebook, alphabetically."""
    return list(
        session.scalars(
            select(Theme).where(Theme.community_id == community_id).order_by(Theme.name)
        )
    )


def add_theme(
    session: Session,
    *,
    actor_id: int,
    community_id: int,
    name: str,
    description: str = "",
    example: str = "",
) -> Theme:
    """A new theme in the codebook (names are unique, ignoring case)."""
    name = " ".join(name.split())
    if not name:
        raise CodingError("give the theme a name")
    for theme in themes(session, community_id):
        if theme.name.lower() == name.lower():
            raise CodingError(f"there is already a theme called '{theme.name}'")
    theme = Theme(
        community_id=community_id,
        name=name,
        description=description.strip(),
        example=example.strip(),
        created_by=actor_id,
    )
    session.add(theme)
    session.flush()
    return theme


def update_theme(
    session: Session, *, community_id: int, theme_id: int, description: str, example: str
) -> Theme:
    """Change a theme's description or example (its name stays, so codes keep meaning)."""
    theme = session.get(Theme, theme_id)
    if theme is None or theme.community_id != community_id:
        raise CodingError("there is no such theme")
    theme.description = description.strip()
    theme.example = example.strip()
    session.flush()
    return theme


def _check_themes(session: Session, community_id: int, theme_ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(theme_ids))
    valid = {t.id for t in themes(session, community_id)}
    if not set(wanted) <= valid:
        raise CodingError("one of the themes is not in the codebook")
    return wanted


# --- coding -----------------------------------------------------------------------------


def save_unit_codes(
    session: Session,
    *,
    coder_id: int,
    community_id: int,
    response_id: str,
    item: str,
    theme_ids: Iterable[int],
) -> None:
    """Set the coder's whole-answer themes for one answer and mark it coded by them."""
    get_unit(session, community_id, response_id, item)
    wanted = _check_themes(session, community_id, theme_ids)
    session.execute(
        delete(Coding).where(
            Coding.coder_id == coder_id,
            Coding.response_id == response_id,
            Coding.item == item,
            Coding.start.is_(None),
            Coding.reconciled.is_(False),
        )
    )
    for theme_id in wanted:
        session.add(
            Coding(coder_id=coder_id, response_id=response_id, item=item, theme_id=theme_id)
        )
    if session.get(CodedUnit, (coder_id, response_id, item)) is None:
        session.add(CodedUnit(coder_id=coder_id, response_id=response_id, item=item))
    session.flush()


def add_span_coding(
    session: Session,
    *,
    coder_id: int,
    community_id: int,
    response_id: str,
    item: str,
    theme_id: int,
    excerpt: str = "",
    start: int | None = None,
    end: int | None = None,
) -> Coding:
    """Tag a highlighted part of an answer (given as offsets, or as the exact excerpt)."""
    unit = get_unit(session, community_id, response_id, item)
    _check_themes(session, community_id, [theme_id])
    if start is None or end is None:
        excerpt = excerpt.strip()
        position = unit.text.find(excerpt) if excerpt else -1
        if position < 0:
            raise CodingError("the highlighted part is not in the answer; copy it exactly")
        start, end = position, position + len(excerpt)
    if not 0 <= start < end <= len(unit.text):
        raise CodingError("the highlighted part is outside the answer")
    coding = Coding(
        coder_id=coder_id,
        response_id=response_id,
        item=item,
        theme_id=theme_id,
        start=start,
        end=end,
    )
    session.add(coding)
    if session.get(CodedUnit, (coder_id, response_id, item)) is None:
        session.add(CodedUnit(coder_id=coder_id, response_id=response_id, item=item))
    session.flush()
    return coding


def remove_coding(session: Session, *, coder_id: int, coding_id: int) -> None:
    """Remove one of the coder's own codes."""
    coding = session.get(Coding, coding_id)
    if coding is None or coding.coder_id != coder_id:
        raise CodingError("there is no such code of yours")
    session.delete(coding)
    session.flush()


def codes_by_coder(session: Session, response_id: str, item: str) -> dict[int, list[Coding]]:
    """Each coder's codes (not the reconciled ones) on one answer."""
    result: dict[int, list[Coding]] = defaultdict(list)
    for coding in session.scalars(
        select(Coding)
        .where(Coding.response_id == response_id, Coding.item == item, Coding.reconciled.is_(False))
        .order_by(Coding.id)
    ):
        result[coding.coder_id].append(coding)
    return result


# --- agreement and reconciliation ---------------------------------------------------------


@dataclass(frozen=True)
class Agreement:
    """Two coders' agreement on one theme over the answers both coded."""

    theme: str
    n_answers: int
    n_first: int
    n_second: int
    agreement: float
    kappa: float | None


def _double_coded(
    session: Session, community_id: int
) -> list[tuple[tuple[str, str], set[int], set[int]]]:
    """Units with two coders: (unit, first coder's themes, second coder's themes)."""
    units = open_units(session, community_id)
    coders = _coders_by_unit(session, {u.response_id for u in units})
    result = []
    for unit in units:
        key = (unit.response_id, unit.item)
        who = coders.get(key, [])
        if len(who) < 2:
            continue
        codes = codes_by_coder(session, *key)
        first = {c.theme_id for c in codes.get(who[0], [])}
        second = {c.theme_id for c in codes.get(who[1], [])}
        result.append((key, first, second))
    return result


def agreement(session: Session, community_id: int) -> list[Agreement]:
    """Cohen's kappa per theme (present/absent) over all double-coded answers."""
    double = _double_coded(session, community_id)
    rows = []
    for theme in themes(session, community_id):
        a = [theme.id in first for _, first, _ in double]
        b = [theme.id in second for _, _, second in double]
        if not a:
            rows.append(Agreement(theme.name, 0, 0, 0, math.nan, None))
            continue
        kappa = cohen_kappa(a, b)
        agree = sum(x == y for x, y in zip(a, b, strict=True)) / len(a)
        rows.append(
            Agreement(
                theme=theme.name,
                n_answers=len(a),
                n_first=sum(a),
                n_second=sum(b),
                agreement=agree,
                kappa=None if math.isnan(kappa) else kappa,
            )
        )
    return rows


def _reconciled_units(session: Session) -> set[tuple[str, str]]:
    return {
        (r, i) for r, i in session.execute(select(Reconciliation.response_id, Reconciliation.item))
    }


def disagreements(session: Session, community_id: int) -> list[tuple[str, str]]:
    """Double-coded answers whose two coders chose different themes, not yet reconciled."""
    done = _reconciled_units(session)
    return [
        key
        for key, first, second in _double_coded(session, community_id)
        if first != second and key not in done
    ]


def reconcile(
    session: Session,
    *,
    actor_id: int,
    community_id: int,
    response_id: str,
    item: str,
    theme_ids: Sequence[int],
    agreed_none: bool = False,
) -> None:
    """Record the agreed themes for an answer the coders disagreed on."""
    get_unit(session, community_id, response_id, item)
    wanted = _check_themes(session, community_id, theme_ids)
    if not wanted and not agreed_none:
        raise CodingError("choose the agreed themes, or confirm that no theme applies")
    session.execute(
        delete(Coding).where(
            Coding.response_id == response_id, Coding.item == item, Coding.reconciled.is_(True)
        )
    )
    for theme_id in wanted:
        session.add(
            Coding(
                coder_id=actor_id,
                response_id=response_id,
                item=item,
                theme_id=theme_id,
                reconciled=True,
            )
        )
    marker = session.get(Reconciliation, (response_id, item))
    if marker is None:
        session.add(Reconciliation(response_id=response_id, item=item, reconciled_by=actor_id))
    else:
        marker.reconciled_by = actor_id
    session.add(
        AuditEntry(
            user_id=actor_id,
            action="reconcile_codes",
            object_type="response",
            object_id=response_id,
            detail={"item": item, "themes": len(wanted)},
        )
    )
    session.flush()


def final_themes(session: Session, response_id: str, item: str) -> set[int]:
    """The themes an answer counts with: the reconciled ones if any, else every coder's."""
    codings = list(
        session.scalars(
            select(Coding).where(Coding.response_id == response_id, Coding.item == item)
        )
    )
    if session.get(Reconciliation, (response_id, item)) is not None:
        return {c.theme_id for c in codings if c.reconciled}
    return {c.theme_id for c in codings}


def theme_codings(session: Session, wave: Wave) -> list[dict[str, Any]]:
    """Coded open answers of a wave, one dict per response x theme, for analysis.

    Keys ``response_id``, ``site`` (site code), ``site_name``, ``theme`` (theme name;
    an empty string for a response whose coded answers got no theme, so it still counts
    as having answered). Only responses that count in analysis are included.
    """
    community = session.get(Community, wave.community_id)
    if community is None:  # pragma: no cover - foreign key
        return []
    names = {t.id: t.name for t in themes(session, community.id)}
    responses = {
        r.id: r
        for r in session.scalars(
            select(Response).where(Response.wave_id == wave.id, counts_in_analysis(community))
        )
    }
    coded = session.execute(
        select(CodedUnit.response_id, CodedUnit.item).where(
            CodedUnit.response_id.in_(list(responses))
        )
    ).all()
    sites = {
        s.id: s for s in session.scalars(select(Site).where(Site.community_id == community.id))
    }
    by_response: dict[str, set[str]] = defaultdict(set)
    for response_id, item in sorted(set(coded)):
        by_response[response_id] |= {names[t] for t in final_themes(session, response_id, item)}
    rows: list[dict[str, Any]] = []
    for response_id in sorted(by_response):
        response = responses[response_id]
        site = sites.get(response.site_id) if response.site_id else None
        rows.extend(
            {
                "response_id": response_id,
                "site": site.code if site else "",
                "site_name": site.name if site else "",
                "theme": theme,
            }
            for theme in sorted(by_response[response_id]) or [""]
        )
    return rows


# --- quotes -------------------------------------------------------------------------------


def school_names(session: Session, community_id: int) -> list[str]:
    """The community's school names (screened for in quotes)."""
    return list(
        session.scalars(
            select(Site.name).where(Site.community_id == community_id, Site.kind == "school")
        )
    )


def screen_quote(session: Session, community_id: int, text: str) -> list[Span]:
    """Possible identifiers in ``text`` for the coder to redact."""
    return screen(text, school_names=school_names(session, community_id))


def approve_quote(
    session: Session,
    *,
    actor_id: int,
    community_id: int,
    response_id: str,
    item: str,
    excerpt: str,
    redacted: str,
    theme_id: int | None = None,
    checked_remaining: bool = False,
) -> QuoteApproval:
    """Clear a quote for reports. Only the redacted text is stored.

    ``excerpt`` must be part of the answer. When screening still flags something in
    ``redacted``, the coder must confirm they checked it (``checked_remaining``): a
    flagged word may be a place or an everyday word rather than a person.
    """
    unit = get_unit(session, community_id, response_id, item)
    excerpt = excerpt.strip()
    redacted = redacted.strip()
    if not excerpt or excerpt not in unit.text:
        raise CodingError("the quote must be part of the answer; copy it exactly")
    if not redacted:
        raise CodingError("write the quote as it may be published")
    if theme_id is not None:
        _check_themes(session, community_id, [theme_id])
    found = screen_quote(session, community_id, excerpt)
    remaining = screen_quote(session, community_id, redacted)
    if remaining and not checked_remaining:
        listed = ", ".join(f"'{s.text}' ({s.kind})" for s in remaining)
        raise CodingError(
            f"the quote still contains possible personal information: {listed}; redact it,"
            " or confirm that you checked it is not personal"
        )
    quote = QuoteApproval(
        response_id=response_id,
        item=item,
        theme_id=theme_id,
        text=redacted,
        flags_found=len(found),
        approved_by=actor_id,
    )
    session.add(quote)
    session.add(
        AuditEntry(
            user_id=actor_id,
            action="approve_quote",
            object_type="response",
            object_id=response_id,
            detail={"flags": len(found), "remaining": len(remaining)},
        )
    )
    session.flush()
    return quote
