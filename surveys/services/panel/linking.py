"""Link a wave's pupils to the previous wave's, store the links and the match report.

The matching itself is :func:`analysis.linkage.link_codes` (pure, on the digests); this
module reads the codes with each pupil's school and year group, replaces the wave's links
in one transaction, and keeps a report of what became of every pupil, per school.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd
from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.orm import Session

from analysis.linkage import OUTCOMES, CodeTable, link_codes
from surveys.errors import ServiceError, ServiceMessage
from surveys.frames import analysis_condition
from surveys.models import Response, SchoolClass, Site, Wave, utcnow
from surveys.models.panel import PanelCode, PanelLink, PanelRun
from surveys.services.audit import audit

__all__ = [
    "REPORT_COUNTS",
    "PanelProblem",
    "link_waves",
    "linked_pairs",
    "report_of",
    "wave_codes",
]

#: The counts a report holds for each school and for the whole wave (``"all"``).
REPORT_COUNTS = ("responses", "codes", *OUTCOMES, "previous_codes")
_DIGITS = re.compile(r"\d+")
#: Links are written through Core: tens of thousands of rows, no ORM objects needed.
_LINKS = cast(Table, PanelLink.__table__)


class PanelProblem(ServiceError):
    """Two waves that cannot be linked, with what to do."""


@dataclass(frozen=True)
class _Codes:
    table: CodeTable
    responses: Counter[int]


def _year(answer: object, class_year: int | None) -> int:
    """The pupil's year group: their answer (``year7`` -> 7), else their class's; -1."""
    if isinstance(answer, str):
        found = _DIGITS.search(answer)
        if found:
            return int(found.group())
    return class_year if class_year is not None else -1


def wave_codes(session: Session, wave: Wave) -> _Codes:
    """The codes of a wave's counted pupil responses at schools, and responses per school."""
    counted = analysis_condition(session, wave.id)
    schools = select(Site.id).where(Site.kind == "school", Site.community_id == wave.community_id)
    responses: Counter[int] = Counter(
        {
            int(site or 0): int(n)
            for site, n in session.execute(
                select(Response.site_id, func.count())
                .where(Response.wave_id == wave.id, counted, Response.site_id.in_(schools))
                .group_by(Response.site_id)
            )
        }
    )
    rows = session.execute(
        select(
            PanelCode.response_id,
            Response.site_id,
            Response.answers["year_group"].as_string(),
            SchoolClass.year_group,
            PanelCode.digests,
            PanelCode.missing_parts,
        )
        .join(Response, Response.id == PanelCode.response_id)
        .outerjoin(SchoolClass, SchoolClass.id == Response.class_id)
        .where(Response.wave_id == wave.id, counted, Response.site_id.in_(schools))
        .order_by(PanelCode.response_id)
    ).all()
    table = CodeTable.build(
        [r[0] for r in rows],
        [int(r[1]) for r in rows],
        [_year(r[2], r[3]) for r in rows],
        [bytes(r[4]) for r in rows],
        [int(r[5]) for r in rows],
    )
    return _Codes(table, responses)


def _report(linked: pd.DataFrame, current: _Codes, previous: _Codes) -> dict[str, Any]:
    """Counts per school (site id as text) and for the whole wave (``all``)."""
    report: dict[str, dict[str, int]] = {}
    sites = set(current.responses) | set(previous.responses)
    sites |= {int(s) for s in current.table.site} | {int(s) for s in previous.table.site}
    for site in sorted(sites):
        report[str(site)] = dict.fromkeys(REPORT_COUNTS, 0)
        report[str(site)]["responses"] = current.responses.get(site, 0)
    for site, outcome in zip(linked["site"], linked["outcome"], strict=True):
        report[str(int(site))][str(outcome)] += 1
        report[str(int(site))]["codes"] += 1
    for site in previous.table.site:
        report[str(int(site))]["previous_codes"] += 1
    total = dict.fromkeys(REPORT_COUNTS, 0)
    for counts in report.values():
        for name in REPORT_COUNTS:
            total[name] += counts[name]
    return {"sites": report, "all": total}


def link_waves(
    session: Session,
    *,
    wave: Wave,
    previous: Wave,
    actor: object = None,
    max_distance: int = 2,
) -> PanelRun:
    """Link ``wave``'s pupils to ``previous``'s, replacing any earlier links of ``wave``.

    Raises :class:`PanelProblem` when the waves are not of one community, are the same
    wave, or asked codes of different shapes. Nothing is changed on error.
    """
    started = time.perf_counter()
    if wave.community_id != previous.community_id:
        raise PanelProblem(ServiceMessage.PANEL_COMMUNITIES, wave=wave.name, previous=previous.name)
    if wave.id == previous.id:
        raise PanelProblem(ServiceMessage.PANEL_SAME, wave=wave.name)
    current = wave_codes(session, wave)
    earlier = wave_codes(session, previous)
    try:
        result = link_codes(earlier.table, current.table, max_distance=max_distance)
    except ValueError as err:
        raise PanelProblem(
            ServiceMessage.PANEL_SHAPE, wave=wave.name, previous=previous.name, detail=str(err)
        ) from err
    session.execute(delete(PanelLink).where(PanelLink.wave_id == wave.id))
    links = result.links
    rows = [
        {
            "wave_id": wave.id,
            "previous_wave_id": previous.id,
            "response_id": str(rid),
            "previous_response_id": str(prev),
            "rule": str(rule),
            "distance": int(distance),
        }
        for rid, prev, rule, distance in zip(
            links["response_id"].tolist(),
            links["previous_response_id"].tolist(),
            links["rule"].tolist(),
            links["distance"].tolist(),
            strict=True,
        )
    ]
    for start in range(0, len(rows), 5000):
        session.execute(insert(_LINKS), rows[start : start + 5000])
    report = _report(result.outcomes, current, earlier)
    run = session.scalar(select(PanelRun).where(PanelRun.wave_id == wave.id))
    if run is None:
        run = PanelRun(wave_id=wave.id, previous_wave_id=previous.id)
        session.add(run)
    run.previous_wave_id = previous.id
    run.report = report
    actor_id = getattr(actor, "id", actor)
    run.requested_by = actor_id if isinstance(actor_id, int) else None
    run.created_at = utcnow()
    run.seconds = time.perf_counter() - started
    session.flush()
    totals = report["all"]
    audit(
        session,
        actor,
        "panel_linked",
        "wave",
        wave.id,
        previous_wave=previous.id,
        **{k: totals[k] for k in REPORT_COUNTS},
    )
    return run


def linked_pairs(session: Session, wave: Wave) -> list[tuple[str, str]]:
    """The wave's links as (response id, previous response id), in response id order."""
    return [
        (str(a), str(b))
        for a, b in session.execute(
            select(PanelLink.response_id, PanelLink.previous_response_id)
            .where(PanelLink.wave_id == wave.id)
            .order_by(PanelLink.response_id)
        )
    ]


def report_of(session: Session, wave: Wave) -> Mapping[str, Any] | None:
    """The stored match report of the wave's last linking, or None."""
    run = session.scalar(select(PanelRun).where(PanelRun.wave_id == wave.id))
    return None if run is None else run.report
