"""Agreement between two coders (Cohen's kappa per theme), reconciliation, final themes."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from analysis.themes import cohen_kappa
from surveys.models import Community, Response, Site, Wave
from surveys.models.field import CodedUnit, Coding, Reconciliation
from surveys.services.audit import audit
from surveys.services.coding.codebook import check_themes, themes
from surveys.services.coding.codes import codes_by_coder
from surveys.services.coding.units import CodingError, coders_by_unit, get_unit, open_units
from surveys.services.field import counts_in_analysis

__all__ = ["Agreement", "agreement", "disagreements", "final_themes", "reconcile", "theme_codings"]


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
    coders = coders_by_unit(session, {u.response_id for u in units})
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
    wanted = check_themes(session, community_id, theme_ids)
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
    audit(
        session, actor_id, "reconcile_codes", "response", response_id, item=item, themes=len(wanted)
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
