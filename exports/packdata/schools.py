"""The contexts of school feedback packs: one per school, with benchmarks and trends."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from analysis.breakdowns import item_breakdowns
from analysis.items import item_summary
from analysis.scales import scale_summary
from analysis.similar import similar_benchmarks, similar_school_groups
from analysis.spec import ALL_SITES
from analysis.suppression import (
    COMPLEMENT,
    PACK_MIN_RESPONSES,
    REASON_COLUMN,
    pack_eligibility,
)
from analysis.trends import item_trends
from exports.dataset import InstrumentData
from exports.packdata.cells import (
    Context,
    analysis_frame,
    breakdown_tables,
    choice_labels,
    domain_items,
    domain_score,
    domain_title,
    headlines,
    index_breakdowns,
    item_row,
    percent_cell,
    positive_answers,
    scale_tables,
    themes_context,
    trend_cells,
)
from exports.packdata.glance import glance, respondent_groups

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
    site_info: Mapping[str, Mapping[str, str]] | None = None,
) -> tuple[list[Context], list[Context]]:
    """Contexts for every school: a full pack, or a short one below ``min_responses``.

    Every summary is computed once for the whole wave; each context holds only its own
    school's rows (plus the benchmark figures already in them). A school with fewer
    than ``min_responses`` responses gets a short context (``short = True``: its
    whole-school results above k and the community's, no breakdowns, scales or themes)
    and a note for the core team. ``site_info`` gives each school's ``phase`` and
    ``fsm_band`` for the similar-schools comparison.
    """
    frame = analysis_frame(data)
    by = [c for c in ("year_group", "gender") if c in frame.columns]
    summary = item_summary(frame, data.items, wave=wave, level="school", k=k, reasons=True)
    breakdowns = (
        item_breakdowns(frame, data.items, wave=wave, by=by, level="school", k=k, reasons=True)
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
    similar, similar_labels = _similar(summary, eligible, populations, site_info or {})
    who_answered = respondent_groups(
        frame, k=k, labels={var: choice_labels(data, var) for var in by}
    )
    summary_by_site = dict(tuple(summary.groupby("site", sort=False)))
    breakdown_by_site = index_breakdowns(breakdowns)
    scales_by_site = scale_tables(scales, data.items)
    trend_by_site = dict(tuple(trends.groupby("site", sort=False))) if trends is not None else {}
    whole = summary_by_site.get(ALL_SITES)
    community_pct = (
        {
            str(r["item"]): percent_cell(r["pct_positive"], bool(r["suppressed"]))
            for r in whole.to_dict("records")
        }
        if whole is not None
        else {}
    )
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
                    "reason": f"{n_resp} responses: fewer than {min_responses}, so a short pack",
                    "short": True,
                }
            )
        rows_all = summary_by_site.get(site, summary.iloc[0:0])
        trend_rows = (
            {str(t["item"]): t for t in trend_by_site.get(site, pd.DataFrame()).to_dict("records")}
            if site in trend_by_site
            else {}
        )
        item_rows = []
        mine_similar = similar.get(site, {})
        for row in rows_all.to_dict("records"):
            ctx = item_row(row, labels, positives)
            ctx["hidden_reason"] = (
                "protects another figure"
                if row.get(REASON_COLUMN) == COMPLEMENT
                else ("too few answers" if ctx["suppressed"] else "")
            )
            ctx["community"] = community_pct.get(str(row["item"]), "")
            ctx["similar"], similar_value = mine_similar.get(str(row["item"]), ("", None))
            if ctx["chart"] is not None:
                ctx["chart"]["similar"] = similar_value
            if gets:
                ctx.update(trend_cells(trend_rows.get(str(row["item"]))))
            else:
                ctx.update(trend_cells(None))
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
                    "scales": scale_rows.get(domain, []) if gets else [],
                    "breakdowns": breakdown_tables(
                        breakdown_by_site.get(site, {}), names, data, labels
                    )
                    if gets
                    else [],
                }
            )
        previous_shown = previous_wave if trends is not None and gets else None
        contexts.append(
            {
                "kind": "school",
                "wave": wave,
                "previous_wave": previous_shown,
                "short": not gets,
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
                "glance": glance(
                    item_rows,
                    who="your pupils",
                    against=f"across the other schools in {community}",
                    previous_wave=previous_shown,
                ),
                "who_answered": who_answered.get(site, {}),
                "similar_label": similar_labels.get(site, ("", 0))[0],
                "similar_count": similar_labels.get(site, ("", 0))[1],
                "themes": themes_context(themes, site, themes_note)
                if gets
                else {"rows": [], "note": ""},
                "overall": overall,
                "has_whole": whole is not None,
            }
        )
    return contexts, notes


def _similar(
    summary: pd.DataFrame,
    eligible: pd.DataFrame,
    populations: Mapping[str, int | None],
    site_info: Mapping[str, Mapping[str, str]],
) -> tuple[dict[str, dict[str, tuple[str, float | None]]], dict[str, tuple[str, int]]]:
    """Site -> item -> (similar schools' % as text, as a number); site -> (label, schools)."""
    sites = pd.DataFrame(
        {
            "site": eligible["site"],
            "phase": [site_info.get(s, {}).get("phase", "") for s in eligible["site"]],
            "fsm_band": [site_info.get(s, {}).get("fsm_band", "") for s in eligible["site"]],
            "size": [
                populations.get(s) or n
                for s, n in zip(eligible["site"], eligible["n_responses"], strict=True)
            ],
        }
    )
    groups = similar_school_groups(sites)
    figures = similar_benchmarks(summary, groups)
    out: dict[str, dict[str, tuple[str, float | None]]] = {}
    for row in figures.to_dict("records"):
        pct = row["similar_pct"]
        shown = pct == pct  # not NaN
        out.setdefault(str(row["site"]), {})[str(row["item"])] = (
            percent_cell(pct, False) if shown else "",
            float(pct) if shown else None,
        )
    labels = {
        str(s): (str(label), len(members))
        for s, label, members in groups[["site", "label", "members"]].itertuples(index=False)
    }
    return out, labels
