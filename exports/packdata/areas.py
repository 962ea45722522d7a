"""The contexts of neighbourhood reports: one per area and one for the whole community."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from analysis.spec import ALL_SITES
from analysis.summary import summarise_wave
from analysis.suppression import (
    PACK_MIN_RESPONSES,
    pack_eligibility,
)
from exports.dataset import InstrumentData
from exports.packdata.cells import (
    Context,
    analysis_frame,
    as_number,
    as_text,
    domain_items,
    domain_score,
    domain_title,
    headlines,
    item_row,
    percent_cell,
    positive_answers,
    themes_context,
)

__all__ = ["area_contexts"]


def area_contexts(
    data: InstrumentData,
    *,
    wave: str,
    community: str,
    k: int,
    populations: Mapping[str, int | None],
    margins: pd.DataFrame | None = None,
    themes: pd.DataFrame | None = None,
    quotes: Mapping[str, Sequence[Context]] | None = None,
    themes_note: str = "",
    min_responses: int = PACK_MIN_RESPONSES,
) -> tuple[list[Context], list[Context]]:
    """Neighbourhood report contexts: each area, then the whole community."""
    frame = analysis_frame(data)
    summary = summarise_wave(frame, data.items, wave=wave, level="area", k=k, margins=margins)
    labels = {i.name: i.label for i in data.items}
    positives = positive_answers(data)
    eligible = pack_eligibility(frame, min_responses=min_responses)
    by_site = dict(tuple(summary.groupby("site", sort=False)))
    community_rows = {
        str(r["item"]): item_row(r, labels, positives)
        for r in by_site.get(ALL_SITES, summary.iloc[0:0]).to_dict("records")
    }
    weighted = margins is not None
    contexts: list[Context] = []
    notes: list[Context] = []
    area_names: dict[str, str] = {}
    for site, name, n_resp, gets in eligible.itertuples(index=False):
        area_names[site] = name
        if not gets:
            notes.append(
                {
                    "site": site,
                    "site_name": name,
                    "responses": int(n_resp),
                    "reason": f"{n_resp} responses: fewer than {min_responses}, so no report",
                }
            )
            continue
        rows = [
            item_row(r, labels, positives)
            for r in by_site.get(site, summary.iloc[0:0]).to_dict("records")
        ]
        for row in rows:
            whole = community_rows.get(row["item"])
            row["community"] = whole["pct"] if whole else ""
        population = populations.get(site)
        contexts.append(
            _area_context(
                data,
                rows,
                wave=wave,
                community=community,
                site=site,
                name=name,
                responses=int(n_resp),
                population=population,
                k=k,
                weighted=weighted,
                themes=themes_context(themes, site, themes_note),
                quotes=list((quotes or {}).get(site, [])),
                min_responses=min_responses,
            )
        )
    # The whole community: every area side by side per item.
    comparison: dict[str, list[Context]] = {}
    for site, part in by_site.items():
        if site == ALL_SITES:
            continue
        for r in part.to_dict("records"):
            supp = bool(r.get("suppressed"))
            comparison.setdefault(str(r["item"]), []).append(
                {
                    "site": str(site),
                    "area": area_names.get(str(site), str(site)),
                    "pct": percent_cell(r.get("weighted_pct"), supp),
                    "flag": "" if supp else as_text(r.get("flag")),
                    "chart": None
                    if supp
                    else {
                        "pct": as_number(r.get("weighted_pct")),
                        "low": as_number(r.get("ci_low")),
                        "high": as_number(r.get("ci_high")),
                        "bench": None,
                        "flag": as_text(r.get("flag")),
                    },
                }
            )
    whole_rows = list(community_rows.values())
    for row in whole_rows:
        row["areas"] = comparison.get(row["item"], [])
        row["community"] = row["pct"]
    if len(frame) >= min_responses:
        ctx = _area_context(
            data,
            whole_rows,
            wave=wave,
            community=community,
            site="community",
            name=f"{community}: all areas",
            responses=len(frame),
            population=sum(v for v in populations.values() if v) or None,
            k=k,
            weighted=weighted,
            themes=themes_context(themes, ALL_SITES, themes_note),
            quotes=[q for qs in (quotes or {}).values() for q in qs][:8],
            min_responses=min_responses,
        )
        ctx["whole_community"] = True
        contexts.append(ctx)
    return contexts, notes


def _area_context(
    data: InstrumentData,
    rows: list[Context],
    *,
    wave: str,
    community: str,
    site: str,
    name: str,
    responses: int,
    population: int | None,
    k: int,
    weighted: bool,
    themes: Context,
    quotes: list[Context],
    min_responses: int,
) -> Context:
    by_item = {r["item"]: r for r in rows}
    domains = []
    for domain, names in domain_items(data.items, by_item):
        domain_rows = [by_item[n] for n in names]
        domains.append(
            {
                "key": domain,
                "title": domain_title(domain, "area"),
                "items": domain_rows,
                "score": domain_score(domain_rows),
                "scales": [],
                "breakdowns": [],
            }
        )
    return {
        "kind": "area",
        "whole_community": False,
        "wave": wave,
        "previous_wave": None,
        "community": community,
        "site": site,
        "site_name": name,
        "responses": responses,
        "population": population,
        "response_rate": f"{100 * responses / population:.0f}%" if population else "not known",
        "k": k,
        "min_responses": min_responses,
        "instrument": data.instrument.title("en"),
        "instrument_version": ", ".join(data.versions),
        "benchmark_label": "Other areas",
        "weighted": weighted,
        "domains": domains,
        "headlines": headlines(rows),
        "themes": themes,
        "quotes": quotes,
    }
