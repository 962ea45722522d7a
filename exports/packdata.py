"""What goes in each pack: a wave's summaries computed once, then cut per site.

:func:`school_contexts` and :func:`area_contexts` run the analysis for the whole wave in
one go (summaries, breakdowns, scales, trends, themes, suppression) and return one small,
picklable context per pack: plain dicts of display strings and the unsuppressed numbers
the charts need. Every figure passes through :func:`analysis.suppression.display_value`,
so a suppressed cell can only ever read ``[c]``; suppressed rows carry no numbers at all.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from analysis.breakdowns import item_breakdowns
from analysis.items import item_summary
from analysis.scales import scale_summary
from analysis.spec import ALL_SITES, NOT_STATED, ItemSpec
from analysis.summary import summarise_wave
from analysis.suppression import (
    PACK_MIN_RESPONSES,
    SUPPRESSED_MARKER,
    display_value,
    pack_eligibility,
)
from analysis.trends import item_trends
from exports.dataset import InstrumentData

__all__ = [
    "DOMAIN_TITLES",
    "Context",
    "area_contexts",
    "domain_title",
    "school_contexts",
    "slugify",
]

Context = dict[str, Any]

#: Reader-facing titles of the built-in domains; others are title-cased.
DOMAIN_TITLES: Mapping[str, str] = {
    "wellbeing": "Wellbeing",
    "safety": "Feeling safe",
    "belonging": "Belonging at school",
    "relationships": "People to talk to",
    "bullying": "Bullying",
    "aspirations": "Hopes for the future",
    "neighbourhood": "Where pupils live",
    "activities": "Out of school",
    "place": "The area as a place to live",
    "cohesion": "Getting on together",
    "participation": "Having a say",
    "services": "Local services",
    "awareness": "Knowing about the Children's Community",
}

#: Plural headings for gender groups in breakdown tables.
_GROUP_TITLES: Mapping[str, str] = {
    "girl": "Girls",
    "boy": "Boys",
    "another_way": "Another way",
    "pnts": "Prefer not to say",
    NOT_STATED: "Not stated",
}


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by hyphens (file names).

    >>> slugify("Spring 2027 / Wave 1")
    'spring-2027-wave-1'
    """
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "wave"


#: Titles that read differently in a neighbourhood report.
AREA_DOMAIN_TITLES: Mapping[str, str] = {
    "belonging": "Belonging to the neighbourhood",
    "wellbeing": "Residents' wellbeing",
}


def domain_title(domain: str, kind: str = "school") -> str:
    """The heading for a domain code in a school pack or (``kind="area"``) a report."""
    if kind == "area" and domain in AREA_DOMAIN_TITLES:
        return AREA_DOMAIN_TITLES[domain]
    return DOMAIN_TITLES.get(domain) or domain.replace("_", " ").capitalize() or "Other"


def _num(value: object) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _text(value: object) -> str:
    return (
        ""
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
        else str(value)
    )


def _pct(value: object, suppressed: bool) -> str:
    shown = display_value(value, suppressed=suppressed)
    return shown if shown in ("", SUPPRESSED_MARKER) else f"{shown}%"


def _signed(value: object, suppressed: bool) -> str:
    number = _num(value)
    if suppressed:
        return SUPPRESSED_MARKER
    if number is None:
        return ""
    shown = display_value(number)
    if shown in ("0", "-0"):
        return "0"
    return shown.replace("-", "−") if shown.startswith("-") else f"+{shown}"


def _item_row(
    row: Mapping[Any, Any], labels: Mapping[str, str], positives: Mapping[str, str]
) -> Context:
    """Display strings (and chart numbers when shown) for one summary row."""
    supp = bool(row.get("suppressed"))
    pct_col = "weighted_pct" if "weighted_pct" in row else "pct_positive"
    out: Context = {
        "item": row["item"],
        "label": labels.get(str(row["item"]), str(row["item"])),
        "positive": positives.get(str(row["item"]), ""),
        "suppressed": supp,
        "n": display_value(row.get("n"), suppressed=supp),
        "pct": _pct(row.get(pct_col), supp),
        "ci": (
            SUPPRESSED_MARKER
            if supp
            else (
                f"{display_value(row.get('ci_low'))}–{display_value(row.get('ci_high'))}"
                if _num(row.get("ci_low")) is not None
                else ""
            )
        ),
        "benchmark": _pct(row.get("benchmark_pct"), supp),
        "diff": _signed(row.get("diff"), supp),
        "flag": "" if supp else _text(row.get("flag")),
        "p_adjusted": display_value(row.get("p_adjusted"), suppressed=supp, digits=3),
        "chart": None,
    }
    if "design_effect" in row:
        out["design_effect"] = display_value(row.get("design_effect"), suppressed=supp, digits=2)
        out["n_effective"] = display_value(row.get("n_effective"), suppressed=supp)
    if not supp and _num(row.get(pct_col)) is not None:
        out["chart"] = {
            "pct": _num(row.get(pct_col)),
            "low": _num(row.get("ci_low")),
            "high": _num(row.get("ci_high")),
            "bench": _num(row.get("benchmark_pct")),
            "flag": out["flag"],
        }
    return out


def positive_answers(data: InstrumentData) -> dict[str, str]:
    """Item -> the answers counted as positive, as readers see them ("Never")."""
    out: dict[str, str] = {}
    for spec in data.items:
        if not spec.positive or not data.instrument.has_item(spec.name):
            continue
        item = data.instrument.item(spec.name)
        chosen = [c for c in item.choices if c.name in spec.positive]
        numbers = sorted(int(c.name) for c in chosen if c.name.lstrip("-").isdigit())
        if len(numbers) == len(chosen) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1)):
            out[spec.name] = f"{numbers[0]} to {numbers[-1]}"
            continue
        names = [c.label("en") for c in chosen]
        if not names:  # numeric rules such as ">=7"
            names = sorted(spec.positive)
        if len(names) > 3:
            names = [f"any of {len(names)} answers ({names[0]}, {names[1]}…)"]
        out[spec.name] = " or ".join(names) if len(names) < 3 else ", ".join(names)
    return out


def _trend_cells(trend: Mapping[Any, Any] | None) -> Context:
    if trend is None:
        return {"previous": "", "change": "", "change_flag": ""}
    supp = bool(trend.get("suppressed"))
    previous = _num(trend.get("previous_pct"))
    return {
        "previous": "" if previous is None and not supp else _pct(previous, supp),
        "change": "" if previous is None and not supp else _signed(trend.get("change"), supp),
        "change_flag": "" if supp else _text(trend.get("change_flag")),
    }


def _group_label(value: str, labels: Mapping[str, str]) -> str:
    return labels.get(value) or _GROUP_TITLES.get(value) or value


def _choice_labels(data: InstrumentData, item: str) -> dict[str, str]:
    if not data.instrument.has_item(item):
        return {}
    labels = {c.name: c.label("en") for c in data.instrument.item(item).choices}
    if item == "gender":
        labels = {name: _GROUP_TITLES.get(name, text) for name, text in labels.items()}
    return labels


#: Breakdown cells of one site: grouping variable -> [(item, group value, shown text)].
SiteBreakdowns = dict[str, list[tuple[str, str, str]]]


def _index_breakdowns(breakdowns: pd.DataFrame) -> dict[str, SiteBreakdowns]:
    """Site -> its breakdown cells as display text, in one pass over the table."""
    if breakdowns.empty:
        return {}
    supp = breakdowns["suppressed"].fillna(False).to_numpy(dtype=bool)
    pct = pd.to_numeric(breakdowns["pct_positive"], errors="coerce").to_numpy(dtype=float)
    out: dict[str, SiteBreakdowns] = {}
    columns = zip(
        breakdowns["site"].astype(str),
        breakdowns["group_var"].astype(str),
        breakdowns["item"].astype(str),
        breakdowns["group_value"].astype(str),
        pct,
        supp,
        strict=True,
    )
    for site, var, item, value, number, hidden in columns:
        text = _pct(None if math.isnan(number) else float(number), bool(hidden))
        out.setdefault(site, {}).setdefault(var, []).append((item, value, text))
    return out


def _breakdown_tables(
    site_cells: SiteBreakdowns,
    items: Sequence[str],
    data: InstrumentData,
    labels: Mapping[str, str],
) -> list[Context]:
    """One table per grouping variable: rows = items, columns = group values."""
    tables = []
    wanted = set(items)
    for var, triples in site_cells.items():
        mine = [t for t in triples if t[0] in wanted]
        values = list(dict.fromkeys(value for _, value, _ in mine))
        choice_labels = _choice_labels(data, var)
        cells = {(item, value): text for item, value, text in mine}
        present = [i for i in items if any((i, v) in cells for v in values)]
        # A group hidden in every row is named in a note instead of a column of [c].
        hidden = [
            v
            for v in values
            if all(cells.get((i, v), "") in ("", SUPPRESSED_MARKER) for i in present)
        ]
        shown = [v for v in values if v not in hidden]
        rows = [
            {"label": labels.get(item, item), "cells": [cells.get((item, v), "") for v in shown]}
            for item in present
        ]
        if rows and shown:
            tables.append(
                {
                    "var": var,
                    "title": "Year group"
                    if var == "year_group"
                    else var.replace("_", " ").capitalize(),
                    "columns": [_group_label(v, choice_labels) for v in shown],
                    "rows": rows,
                    "hidden": [_group_label(v, choice_labels) for v in hidden],
                }
            )
    return tables


def _domains(items: Sequence[ItemSpec], shown: Iterable[str]) -> list[str]:
    names = set(shown)
    return list(dict.fromkeys(i.domain or "other" for i in items if i.name in names))


def _mean(values: Iterable[float | None]) -> float | None:
    numbers = [v for v in values if v is not None]
    return sum(numbers) / len(numbers) if numbers else None


def _domain_score(rows: Sequence[Context]) -> Context:
    """Average percentage positive over the domain's items (only if none is hidden)."""
    if any(r["suppressed"] for r in rows):
        return {"pct": SUPPRESSED_MARKER, "benchmark": SUPPRESSED_MARKER, "count": len(rows)}
    charts = [r["chart"] for r in rows if r["chart"]]
    pct = _mean(c["pct"] for c in charts)
    bench = _mean(c["bench"] for c in charts)
    return {
        "pct": _pct(pct, False),
        "benchmark": _pct(bench, False),
        "count": len(rows),
    }


def _scale_rows(
    scales: pd.DataFrame, items: Sequence[ItemSpec]
) -> dict[str, dict[str, list[Context]]]:
    """Site -> domain -> scale results (a scale belongs to its items' domain)."""
    if scales.empty:
        return {}
    domain_of: dict[str, str] = {}
    for item in items:
        if item.scale:
            domain_of.setdefault(item.scale, item.domain or "other")
    out: dict[str, dict[str, list[Context]]] = {}
    for row in scales.to_dict("records"):
        supp = bool(row.get("suppressed"))
        mine = out.setdefault(str(row["site"]), {})
        mine.setdefault(domain_of.get(str(row["scale"]), "other"), []).append(
            {
                "name": str(row["scale"]).replace("_", " ").capitalize(),
                "n": display_value(row.get("n"), suppressed=supp),
                "mean": display_value(row.get("mean"), suppressed=supp, digits=2),
                "benchmark": display_value(row.get("benchmark_mean"), suppressed=supp, digits=2),
                "diff": "" if supp else display_value(row.get("diff"), digits=2),
                "flag": "" if supp else _text(row.get("flag")),
            }
        )
    return out


def _headlines(rows: Sequence[Context], count: int = 3) -> Context:
    """Strongest and weakest results against the benchmark, by the analysis flags."""
    flagged = [
        r for r in rows if not r["suppressed"] and r["chart"] and r["chart"]["bench"] is not None
    ]
    higher = sorted(
        (r for r in flagged if r["flag"] == "higher"),
        key=lambda r: -(r["chart"]["pct"] - r["chart"]["bench"]),
    )
    lower = sorted(
        (r for r in flagged if r["flag"] == "lower"),
        key=lambda r: r["chart"]["pct"] - r["chart"]["bench"],
    )
    return {
        "strong": higher[:count],
        "weak": lower[:count],
        "n_higher": len(higher),
        "n_lower": len(lower),
    }


def _themes_context(themes: pd.DataFrame | None, site: str, note: str) -> Context:
    if themes is None or themes.empty:
        return {"rows": [], "note": note}
    mine = themes[(themes["site"] == site) & ~themes["suppressed"].astype(bool)]
    mine = mine[pd.to_numeric(mine["n_respondents"], errors="coerce") > 0]
    rows = [
        {
            "theme": str(r["theme"]),
            "n": display_value(r["n_respondents"]),
            "pct": _pct(r["pct"], False),
        }
        for r in mine.sort_values("n_respondents", ascending=False).to_dict("records")
    ]
    if not rows:
        return {"rows": [], "note": "No theme was mentioned by enough pupils to be shown."}
    return {"rows": rows, "note": ""}


def _analysis_frame(data: InstrumentData) -> pd.DataFrame:
    keep = ["response_id", "site", "site_name"] + [i.name for i in data.items]
    return data.frame.loc[:, [c for c in keep if c in data.frame.columns]]


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
    frame = _analysis_frame(data)
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
            _analysis_frame(previous), previous.items, wave=previous_wave or "", k=k
        )
        trends = item_trends(summary, prev_summary, k=k)
    labels = {i.name: i.label for i in data.items}
    positives = positive_answers(data)
    eligible = pack_eligibility(frame, min_responses=min_responses)
    summary_by_site = dict(tuple(summary.groupby("site", sort=False)))
    breakdown_by_site = _index_breakdowns(breakdowns)
    scales_by_site = _scale_rows(scales, data.items)
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
            ctx = _item_row(row, labels, positives)
            ctx.update(_trend_cells(trend_rows.get(str(row["item"]))))
            item_rows.append(ctx)
        by_item = {r["item"]: r for r in item_rows}
        scale_rows = scales_by_site.get(site, {})
        domains = []
        for domain in _domains(data.items, by_item):
            names = [
                i.name for i in data.items if (i.domain or "other") == domain and i.name in by_item
            ]
            rows = [by_item[n] for n in names]
            domains.append(
                {
                    "key": domain,
                    "title": domain_title(domain),
                    "items": rows,
                    "score": _domain_score(rows),
                    "scales": scale_rows.get(domain, []),
                    "breakdowns": _breakdown_tables(
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
                "headlines": _headlines(item_rows),
                "themes": _themes_context(themes, site, themes_note),
                "overall": overall,
                "has_whole": whole is not None,
            }
        )
    return contexts, notes


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
    frame = _analysis_frame(data)
    summary = summarise_wave(frame, data.items, wave=wave, level="area", k=k, margins=margins)
    labels = {i.name: i.label for i in data.items}
    positives = positive_answers(data)
    eligible = pack_eligibility(frame, min_responses=min_responses)
    by_site = dict(tuple(summary.groupby("site", sort=False)))
    community_rows = {
        str(r["item"]): _item_row(r, labels, positives)
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
            _item_row(r, labels, positives)
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
                themes=_themes_context(themes, site, themes_note),
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
                    "area": area_names.get(str(site), str(site)),
                    "pct": _pct(r.get("weighted_pct"), supp),
                    "flag": "" if supp else _text(r.get("flag")),
                    "chart": None
                    if supp
                    else {
                        "pct": _num(r.get("weighted_pct")),
                        "low": _num(r.get("ci_low")),
                        "high": _num(r.get("ci_high")),
                        "bench": None,
                        "flag": _text(r.get("flag")),
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
            themes=_themes_context(themes, ALL_SITES, themes_note),
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
    for domain in _domains(data.items, by_item):
        names = [
            i.name for i in data.items if (i.domain or "other") == domain and i.name in by_item
        ]
        domain_rows = [by_item[n] for n in names]
        domains.append(
            {
                "key": domain,
                "title": domain_title(domain, "area"),
                "items": domain_rows,
                "score": _domain_score(domain_rows),
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
        "headlines": _headlines(rows),
        "themes": themes,
        "quotes": quotes,
    }
