"""The contexts of school feedback packs: one per school, with benchmarks and trends."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from analysis.breakdowns import item_breakdowns
from analysis.items import item_summary
from analysis.scales import scale_summary
from analysis.spec import ALL_SITES
from analysis.suppression import (
    PACK_MIN_RESPONSES,
    pack_eligibility,
)
from analysis.trends import item_trends
from exports.dataset import InstrumentData
from exports.packdata.cells import (
    Context,
    analysis_frame,
    breakdown_tables,
    domain_items,
    domain_score,
    domain_title,
    headlines,
    index_breakdowns,
    item_row,
    positive_answers,
    scale_tables,
    themes_context,
    trend_cells,
)

__all__ = ["school_contexts"]


def school_contexts(
    data: InstrumentData,
    *,
    wave: str,
    community: str,
    k: int,
    populations: Mapping[str, int | None],
    previous: InstrumentData | None = None,
    previous_wave: str | None = None,
    themes: pd.DataFrame | None = None,
    themes_note: str = "",
    min_responses: int = PACK_MIN_RESPONSES,
) -> tuple[list[Context], list[Context]]:
    """Contexts for every school with enough responses, and notes for the others.

    Every summary is computed once for the whole wave; each context holds only its own
    school's rows (plus the benchmark figures already in them).
    """
    frame = analysis_frame(data)
    by = [c for c in ("year_group", "gender") if c in frame.columns]
    summary = item_summary(frame, data.items, wave=wave, level="school", k=k)
    breakdowns = (
        item_breakdowns(frame, data.items, wave=wave, by=by, level="school", k=k)
        if by
        else pd.DataFrame(columns=["site", "item", "group_var", "group_value"])
    )
    scales = (
        scale_summary(frame, data.items, data.scales, wave=wave, level="school", k=k)
        if data.scales
        else pd.DataFrame()
    )
    trends = None
    if previous is not None and not previous.frame.empty:
        prev_summary = item_summary(
            analysis_frame(previous), previous.items, wave=previous_wave or "", k=k
        )
        trends = item_trends(summary, prev_summary, k=k)
    labels = {i.name: i.label for i in data.items}
    positives = positive_answers(data)
    eligible = pack_eligibility(frame, min_responses=min_responses)
    summary_by_site = dict(tuple(summary.groupby("site", sort=False)))
    breakdown_by_site = index_breakdowns(breakdowns)
    scales_by_site = scale_tables(scales, data.items)
    trend_by_site = dict(tuple(trends.groupby("site", sort=False))) if trends is not None else {}
    whole = summary_by_site.get(ALL_SITES)
    overall = {
        "responses": len(frame),
        "schools": int((eligible["site"] != ALL_SITES).sum()),
        "population": sum(v for v in populations.values() if v) or None,
    }
    contexts: list[Context] = []
    notes: list[Context] = []
    for site, name, n_resp, gets in eligible.itertuples(index=False):
        population = populations.get(site)
        rate = f"{100 * n_resp / population:.0f}%" if population else "not known"
        if not gets:
            notes.append(
                {
                    "site": site,
                    "site_name": name,
                    "responses": int(n_resp),
                    "reason": f"{n_resp} responses: fewer than {min_responses}, so no pack",
                }
            )
            continue
        rows_all = summary_by_site.get(site, summary.iloc[0:0])
        trend_rows = (
            {str(t["item"]): t for t in trend_by_site.get(site, pd.DataFrame()).to_dict("records")}
            if site in trend_by_site
            else {}
        )
        item_rows = []
        for row in rows_all.to_dict("records"):
            ctx = item_row(row, labels, positives)
            ctx.update(trend_cells(trend_rows.get(str(row["item"]))))
            item_rows.append(ctx)
        by_item = {r["item"]: r for r in item_rows}
        scale_rows = scales_by_site.get(site, {})
        domains = []
        for domain, names in domain_items(data.items, by_item):
            rows = [by_item[n] for n in names]
            domains.append(
                {
                    "key": domain,
                    "title": domain_title(domain),
                    "items": rows,
                    "score": domain_score(rows),
                    "scales": scale_rows.get(domain, []),
                    "breakdowns": breakdown_tables(
                        breakdown_by_site.get(site, {}), names, data, labels
                    ),
                }
            )
        contexts.append(
            {
                "kind": "school",
                "wave": wave,
                "previous_wave": previous_wave if trends is not None else None,
                "community": community,
                "site": site,
                "site_name": name,
                "responses": int(n_resp),
                "population": population,
                "response_rate": rate,
                "k": k,
                "min_responses": min_responses,
                "instrument": data.instrument.title("en"),
                "instrument_version": ", ".join(data.versions),
                "benchmark_label": "Other schools",
                "domains": domains,
                "headlines": headlines(item_rows),
                "themes": themes_context(themes, site, themes_note),
                "overall": overall,
                "has_whole": whole is not None,
            }
        )
    return contexts, notes
