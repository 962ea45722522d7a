"""A wave's partnership network, analysed and drawn: what the results page and pack show."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from analysis.network import (
    network_layout,
    network_summary,
    organisation_metrics,
    tie_changes,
)
from exports.network_map import network_svg
from surveys.models import Wave
from surveys.services.network import Review, WaveNetwork, wave_network

__all__ = ["MIN_RATERS", "NetworkReport", "build_report", "network_report"]

#: Fewest responding organisations that must rate an organisation before its scores show.
MIN_RATERS = 3


@dataclass
class NetworkReport:
    """Everything shown about one wave's network (and its change from the previous wave)."""

    wave_name: str
    previous_name: str | None
    network: WaveNetwork
    summary: pd.DataFrame
    metrics: pd.DataFrame
    #: Ties with their change from the previous wave (all ``kept`` without one).
    changes: pd.DataFrame
    svg: str
    previous_svg: str | None

    @property
    def review(self) -> list[Review]:
        """Names in responses that need the core team's review."""
        return self.network.review

    def change_counts(self) -> dict[str, int]:
        """How many ties are new, kept, lost, not comparable."""
        counts = self.changes["change"].value_counts()
        return {c: int(counts.get(c, 0)) for c in ("new", "kept", "lost", "not_comparable")}


def build_report(
    *,
    wave_name: str,
    network: WaveNetwork,
    previous_name: str | None = None,
    previous: WaveNetwork | None = None,
    min_raters: int = MIN_RATERS,
) -> NetworkReport:
    """Analyse a network (and its change from ``previous``) and draw the maps.

    Both maps use positions laid out on the union of the two waves' ties, so an
    organisation sits in the same place on each and the change is visible.
    """
    orgs, ties = network.organisations, network.ties
    metrics = organisation_metrics(ties=ties, organisations=orgs, min_raters=min_raters)
    summary = network_summary(ties=ties, organisations=orgs)
    edges = list(zip(ties["source"], ties["target"], strict=True))
    if previous is not None:
        both = set(orgs.loc[orgs["responded"], "code"]) & set(
            previous.organisations.loc[previous.organisations["responded"], "code"]
        )
        changes = tie_changes(before=previous.ties, after=ties, respondents=both)
        edges += list(zip(previous.ties["source"], previous.ties["target"], strict=True))
    else:
        changes = tie_changes(before=ties, after=ties)
    positions = network_layout(nodes=list(orgs["code"]), edges=edges)
    described = _describe(summary, changes, previous_name)
    svg = network_svg(
        organisations=metrics,
        ties=changes,
        positions=positions,
        title=f"Partnership map, {wave_name}",
        description=described,
        svg_id="map-current",
    )
    previous_svg = None
    if previous is not None:
        named = previous.ties["target"].value_counts()
        before = previous.organisations.assign(
            in_degree=[int(named.get(code, 0)) for code in previous.organisations["code"]]
        )
        previous_svg = network_svg(
            organisations=before,
            ties=previous.ties.loc[:, ["source", "target"]],
            positions=positions,
            title=f"Partnership map, {previous_name}",
            description=f"The same organisations in the same places, as {previous_name}"
            f" answered: {len(previous.ties)} ties.",
            svg_id="map-previous",
        )
    return NetworkReport(
        wave_name, previous_name, network, summary, metrics, changes, svg, previous_svg
    )


def _describe(summary: pd.DataFrame, changes: pd.DataFrame, previous_name: str | None) -> str:
    s = summary.set_index("measure")["value"]
    text = (
        f"{int(s['organisations'])} organisations, {int(s['responded'])} of which responded,"
        f" joined by {int(s['ties'])} ties in {int(s['communities'])} groups."
    )
    if previous_name is not None:
        counts = changes["change"].value_counts()
        text += (
            f" Since {previous_name}: {int(counts.get('new', 0))} new ties,"
            f" {int(counts.get('lost', 0))} lost, {int(counts.get('kept', 0))} kept."
        )
    return text + " The tables below give every organisation and tie."


def network_report(session: Session, wave: Wave) -> NetworkReport:
    """The report of a wave, compared with its previous wave when it has one."""
    network = wave_network(session, wave)
    previous = wave_network(session, wave.previous) if wave.previous is not None else None
    return build_report(
        wave_name=wave.name,
        network=network,
        previous_name=wave.previous.name if wave.previous is not None else None,
        previous=previous,
    )
