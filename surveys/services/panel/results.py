"""What the linked panel shows: paired change per school and item, and the match report.

Both are read from what :func:`surveys.services.panel.linking.link_waves` stored; nothing
here links. Suppression (the community's k) is applied to both before anything is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.panel import paired_changes
from analysis.suppression import SUPPRESSED_MARKER
from surveys.analysis_bridge import item_specs
from surveys.frames import combined_instrument, load_responses
from surveys.models import Site, Wave
from surveys.models.panel import PanelRun
from surveys.services.panel.linking import REPORT_COUNTS, linked_pairs

__all__ = ["MATCH_COLUMNS", "PanelResult", "match_rows", "panel_result", "site_names"]

#: The match report's columns as shown, in order (counts of later-wave pupils, then the
#: previous wave's codes at the school).
MATCH_COLUMNS = (
    "responses",
    "codes",
    "exact",
    "fuzzy1",
    "fuzzy2",
    "ambiguous",
    "unmatched",
    "incomplete",
    "no_year",
    "previous_codes",
)


@dataclass(frozen=True)
class PanelResult:
    """A wave's panel: the previous wave, the match report and the paired changes."""

    previous_wave: str
    report: Mapping[str, Any]
    #: :data:`analysis.panel.PANEL_COLUMNS`, suppressed with the community's k.
    changes: pd.DataFrame
    k: int
    #: Item name -> its short label.
    labels: Mapping[str, str]


def match_rows(
    report: Mapping[str, Any], sites: Mapping[int, tuple[str, str]], *, k: int
) -> list[dict[str, Any]]:
    """The match report as display rows, whole wave first, counts below k as ``[c]``.

    ``sites`` maps site id to (code, name). A school with fewer than k linked-wave
    responses shows only its name. A count of 0 is shown (it discloses nobody); when a
    single count of a school is hidden, the next smallest non-zero one is hidden too, so
    it cannot be worked out from the school's total.
    """
    rows: list[dict[str, Any]] = []
    entries = [("ALL", "All schools", report.get("all", {}))]
    for site_id, counts in sorted(
        report.get("sites", {}).items(), key=lambda kv: sites.get(int(kv[0]), ("", ""))[1]
    ):
        code, name = sites.get(int(site_id), (str(site_id), str(site_id)))
        entries.append((code, name, counts))
    for code, name, counts in entries:
        values = {c: int(counts.get(c, 0)) for c in REPORT_COUNTS}
        hidden = {c for c, v in values.items() if 0 < v < k}
        parts = [c for c in MATCH_COLUMNS if c not in ("responses", "codes", "previous_codes")]
        if len(hidden & set(parts)) == 1:
            shown = sorted((values[c], c) for c in parts if c not in hidden and values[c] > 0)
            if shown:
                hidden.add(shown[0][1])
        linked = values["exact"] + values["fuzzy1"] + values["fuzzy2"]
        row: dict[str, Any] = {"site": code, "name": name}
        for column in MATCH_COLUMNS:
            row[column] = SUPPRESSED_MARKER if column in hidden else values[column]
        complete = values["codes"] - values["incomplete"] - values["no_year"]
        row["linked"] = SUPPRESSED_MARKER if 0 < linked < k else linked
        row["pct_linked"] = (
            f"{100.0 * linked / complete:.0f}%" if complete >= k and not (0 < linked < k) else ""
        )
        rows.append(row)
    return rows


def site_names(session: Session, community_id: int) -> dict[int, tuple[str, str]]:
    return {
        int(r.id): (r.code, r.name)
        for r in session.execute(
            select(Site.id, Site.code, Site.name).where(Site.community_id == community_id)
        )
    }


def panel_result(
    session: Session, wave: Wave, *, instrument_id: str = "pupil_perception"
) -> PanelResult | None:
    """The wave's panel, or None when the wave has not been linked."""
    run = session.scalar(select(PanelRun).where(PanelRun.wave_id == wave.id))
    if run is None:
        return None
    previous = session.get(Wave, run.previous_wave_id)
    if previous is None:
        return None
    k = wave.community.suppression_k
    pairs = linked_pairs(session, wave)
    now = load_responses(session, wave=wave, instrument_id=instrument_id, site_kind="school")
    before = load_responses(session, wave=previous, instrument_id=instrument_id, site_kind="school")
    now = now.set_index("response_id", drop=False)
    before = before.set_index("response_id", drop=False)
    kept = [(a, b) for a, b in pairs if a in now.index and b in before.index]
    after_rows = now.loc[[a for a, _ in kept]]
    before_rows = before.loc[[b for _, b in kept]]
    items = item_specs(combined_instrument(session, instrument_id).items)
    labels = {i.name: i.label or i.name for i in items}
    changes = paired_changes(
        before_rows, after_rows, items, wave=wave.name, previous_wave=previous.name, k=k
    )
    return PanelResult(
        previous_wave=previous.name, report=run.report, changes=changes, k=k, labels=labels
    )
