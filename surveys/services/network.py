"""The partnership network: the organisation list, and the ties partnership responses name.

Respondents name their organisation and partners by code or name (the ``partnership``
instrument). Matching happens here, each time a wave's network is read, so a name that
matches no organisation is never dropped: it is listed as *needing review*, and it is
mapped as soon as the core team adds (or renames) the organisation it means.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.network import RATINGS, build_graph
from surveys.csvfiles import csv_rows
from surveys.errors import RowErrors, ServiceError, ServiceMessage
from surveys.models import (
    ORGANISATION_KINDS,
    Community,
    InstrumentVersion,
    Organisation,
    Response,
    Wave,
)

__all__ = [
    "INSTRUMENT_ID",
    "PARTNER_SLOTS",
    "Review",
    "WaveNetwork",
    "edges_csv",
    "graphml_bytes",
    "import_organisations",
    "parse_organisations_csv",
    "wave_network",
]

#: The built-in instrument whose responses make the network.
INSTRUMENT_ID = "partnership"
#: Partner slots in the instrument (``partner_1`` .. ``partner_10``).
PARTNER_SLOTS = 10
#: The score of each rating choice (the instrument's choice lists, 4 = highest).
SCORES = {
    "frequency": {"weekly": 4, "monthly": 3, "termly": 2, "yearly": 1},
    "trust": {"completely": 4, "mostly": 3, "a_little": 2, "not_at_all": 1},
    "value": {"a_lot": 4, "some": 3, "a_little": 2, "nothing": 1},
}


def parse_organisations_csv(data: bytes, *, source: str) -> list[tuple[str, str, str]]:
    """Check an organisations CSV (columns ``code, name, kind``); every problem at once.

    Returns ``(code, name, kind)`` rows; raises :class:`RowErrors` naming each bad row
    and column, or :class:`ServiceError` for an unreadable file or missing columns.
    """
    table = csv_rows(data, source=source, required=("code", "name", "kind"))
    problems: list[str] = []
    rows: list[tuple[str, str, str]] = []
    seen: dict[str, int] = {}
    for number, row in table:

        def bad(column: str, detail: str, number: int = number) -> None:
            problems.append(
                ServiceMessage.CSV_ROW.format(
                    source=source, row=number, column=column, detail=detail
                )
            )

        code, name, kind = row.get("code", ""), row.get("name", ""), row.get("kind", "").lower()
        if not code:
            bad("code", "is empty")
        elif len(code) > 40:
            bad("code", "is longer than 40 characters")
        elif code.casefold() in seen:
            bad("code", f"'{code}' is also on row {seen[code.casefold()]}")
        seen.setdefault(code.casefold(), number)
        if not name:
            bad("name", "is empty")
        elif len(name) > 200:
            bad("name", "is longer than 200 characters")
        if kind not in ORGANISATION_KINDS:
            bad("kind", f"'{kind}' is not one of {', '.join(ORGANISATION_KINDS)}")
        rows.append((code, name, kind))
    if problems:
        raise RowErrors(problems)
    if not rows:
        raise ServiceError(ServiceMessage.CSV_EMPTY, source=source)
    return rows


def import_organisations(
    session: Session, *, community: Community, rows: list[tuple[str, str, str]]
) -> tuple[int, int]:
    """Add new organisations and update the name and kind of known codes.

    Nothing is deleted (ties in earlier waves still name them). Returns
    ``(added, updated)``.
    """
    known = {
        o.code.casefold(): o
        for o in session.scalars(
            select(Organisation).where(Organisation.community_id == community.id)
        )
    }
    added = updated = 0
    for code, name, kind in rows:
        existing = known.get(code.casefold())
        if existing is None:
            org = Organisation(community_id=community.id, code=code, name=name, kind=kind)
            session.add(org)
            known[code.casefold()] = org
            added += 1
        elif (existing.name, existing.kind) != (name, kind):
            existing.name, existing.kind = name, kind
            updated += 1
    session.flush()
    return added, updated


@dataclass(frozen=True)
class Review:
    """A name in a partnership response that matches no organisation (kept, not dropped)."""

    response_id: str
    #: The answer that holds it: ``organisation`` or ``partner_N``.
    question: str
    text: str
    #: What is wrong: "unknown organisation" or "answered again later".
    reason: str


@dataclass
class WaveNetwork:
    """A wave's partnership network, ready for :mod:`analysis.network`."""

    organisations: pd.DataFrame
    ties: pd.DataFrame
    responses: int
    review: list[Review] = field(default_factory=list)

    def graph(self) -> nx.DiGraph:
        """The directed graph (see :func:`analysis.network.build_graph`)."""
        return build_graph(ties=self.ties, organisations=self.organisations)


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def _score(rating: str, answer: Any) -> float | None:
    value = SCORES[rating].get(str(answer)) if answer is not None else None
    return float(value) if value is not None else None


def wave_network(session: Session, wave: Wave) -> WaveNetwork:
    """Read a wave's submitted partnership responses into organisations and ties.

    Each organisation's latest response counts; earlier ones are listed for review. A
    respondent or partner that matches no organisation's code or name is listed for
    review and left out of the ties until the organisation is added.
    """
    orgs = session.scalars(
        select(Organisation)
        .where(Organisation.community_id == wave.community_id)
        .order_by(Organisation.code)
    ).all()
    lookup: dict[str, Organisation] = {}
    for org in orgs:
        lookup.setdefault(_key(org.name), org)
    for org in orgs:
        lookup[_key(org.code)] = org  # codes win over names
    responses = session.scalars(
        select(Response)
        .join(InstrumentVersion, Response.instrument_version_id == InstrumentVersion.id)
        .where(
            Response.wave_id == wave.id,
            InstrumentVersion.instrument_id == INSTRUMENT_ID,
            Response.status.in_(("submitted", "approved")),
        )
        .order_by(Response.submitted_at, Response.id)
    ).all()
    review: list[Review] = []
    latest: dict[str, Response] = {}
    for response in responses:
        named = str(response.answers.get("organisation") or "").strip()
        found = lookup.get(_key(named))
        if found is None:
            review.append(Review(response.id, "organisation", named, "unknown organisation"))
            continue
        if found.code in latest:
            earlier = latest[found.code]
            review.append(Review(earlier.id, "organisation", named, "answered again later"))
        latest[found.code] = response
    ties: dict[tuple[str, str], dict[str, Any]] = {}
    for code, response in latest.items():
        for slot in range(1, PARTNER_SLOTS + 1):
            named = str(response.answers.get(f"partner_{slot}") or "").strip()
            if not named:
                continue
            partner = lookup.get(_key(named))
            if partner is None:
                review.append(Review(response.id, f"partner_{slot}", named, "unknown organisation"))
                continue
            if partner.code == code:
                continue
            ties[(code, partner.code)] = {
                "source": code,
                "target": partner.code,
                **{r: _score(r, response.answers.get(f"{r}_{slot}")) for r in RATINGS},
            }
    organisations = pd.DataFrame(
        {
            "code": [o.code for o in orgs],
            "name": [o.name for o in orgs],
            "kind": [o.kind for o in orgs],
            "responded": [o.code in latest for o in orgs],
        }
    )
    tie_frame = pd.DataFrame(
        list(ties.values()), columns=["source", "target", *RATINGS], dtype=object
    )
    for rating in RATINGS:
        tie_frame[rating] = pd.to_numeric(tie_frame[rating])
    return WaveNetwork(organisations, tie_frame, len(latest), review)


def edges_csv(network: WaveNetwork) -> str:
    """The ties as a CSV edge list (Gephi and Kumu read it): source, target, names, ratings."""
    names = dict(zip(network.organisations["code"], network.organisations["name"], strict=True))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["source", "target", "source_name", "target_name", *RATINGS])
    for row in network.ties.to_dict("records"):
        ratings = ["" if pd.isna(row[r]) else f"{float(row[r]):g}" for r in RATINGS]
        source, target = str(row["source"]), str(row["target"])
        writer.writerow([source, target, names[source], names[target], *ratings])
    return out.getvalue()


def graphml_bytes(network: WaveNetwork) -> bytes:
    """The network as GraphML (``networkx.write_graphml``), nodes keyed by code."""
    buffer = io.BytesIO()
    nx.write_graphml(network.graph(), buffer)
    return buffer.getvalue()
