"""The panel section of a school's pack: change within the same pupils, and the match.

Added to each school context by :func:`attach_panel` when the wave has been linked to its
previous wave (``placevoice panel link``): ``context["panel"]`` holds display strings
only, already suppressed with the community's k.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from analysis.suppression import SUPPRESSED_MARKER
from exports.packdata.cells import Context, as_number, percent_cell, signed_cell
from surveys.models import Wave
from surveys.services.panel.results import PanelResult, match_rows, panel_result, site_names

__all__ = ["attach_panel", "p_text", "panel_rows", "site_panel"]


def p_text(value: object, suppressed: bool) -> str:
    """A p-value for display: "<0.001", "0.03", "[c]" or ""."""
    if suppressed:
        return SUPPRESSED_MARKER
    number = as_number(value)
    if number is None:
        return ""
    return "<0.001" if number < 0.001 else f"{number:.3f}"


def panel_rows(
    changes: pd.DataFrame, site: str, labels: Mapping[str, str], trends: Mapping[str, str]
) -> list[Context]:
    """Display rows of one site's (or ``ALL``'s) paired changes, in item order.

    Items no linked pupil answered in both waves are left out.
    """
    rows: list[Context] = []
    for record in changes[changes["site"] == site].to_dict("records"):
        hidden = bool(record["suppressed"])
        item = str(record["item"])
        n = as_number(record["n_pairs"])
        if not hidden and not n:
            continue
        rows.append(
            {
                "item": item,
                "label": labels.get(item, item),
                "n": SUPPRESSED_MARKER if hidden else ("" if n is None else f"{n:.0f}"),
                "before": percent_cell(record["pct_before"], hidden),
                "after": percent_cell(record["pct_after"], hidden),
                "change": signed_cell(record["change"], hidden),
                "p": p_text(record["p_value"], hidden),
                "score_p": p_text(record["score_p_value"], hidden),
                "flag": "" if hidden else str(record["flag"] or ""),
                "cross": trends.get(item, ""),
            }
        )
    return rows


def site_panel(
    result: PanelResult, site: str, match: Mapping[str, Any] | None, context: Context
) -> Context:
    """The panel section of one school's pack."""
    labels: dict[str, str] = dict(result.labels)
    trends: dict[str, str] = {}
    for domain in context.get("domains", ()):
        for row in domain.get("items", ()):
            labels[str(row["item"])] = str(row["label"])
            trends[str(row["item"])] = str(row.get("change") or "")
    rows = panel_rows(result.changes, site, labels, trends)
    return {
        "previous_wave": result.previous_wave,
        "k": result.k,
        "match": dict(match or {}),
        "rows": rows,
        "any_shown": any(r["n"] not in ("", SUPPRESSED_MARKER) for r in rows),
    }


def attach_panel(
    session: Session, wave: Wave, contexts: Sequence[Context], *, instrument_id: str
) -> None:
    """Add ``panel`` to every school context of a linked wave; nothing otherwise."""
    result = panel_result(session, wave, instrument_id=instrument_id)
    if result is None:
        return
    names = site_names(session, wave.community_id)
    matches = {row["site"]: row for row in match_rows(result.report, names, k=result.k)}
    for context in contexts:
        if context.get("kind") == "school":
            site = str(context["site"])
            context["panel"] = site_panel(result, site, matches.get(site), context)
