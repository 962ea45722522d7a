"""The building blocks of pack contexts: display cells, item rows, tables, headlines."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from analysis.spec import NOT_STATED, ItemSpec
from analysis.suppression import (
    COMPLEMENT,
    REASON_COLUMN,
    SUPPRESSED_MARKER,
    display_value,
)
from exports.dataset import InstrumentData

__all__ = [
    "COMPLEMENT_MARKER",
    "DOMAIN_TITLES",
    "Context",
    "analysis_frame",
    "as_number",
    "as_text",
    "breakdown_tables",
    "choice_labels",
    "domain_items",
    "domain_score",
    "domain_title",
    "domains_shown",
    "headlines",
    "hidden_marker",
    "index_breakdowns",
    "is_hidden",
    "item_row",
    "p_cell",
    "percent_cell",
    "positive_answers",
    "scale_tables",
    "signed_cell",
    "slugify",
    "themes_context",
    "trend_cells",
]

Context = dict[str, Any]

#: A figure hidden only so that another hidden figure cannot be worked out.
COMPLEMENT_MARKER = "[c]*"

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


def as_number(value: object) -> float | None:
    """A number, or None for a missing or non-numeric value."""
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def as_text(value: object) -> str:
    """A value as text; missing values as ""."""
    return (
        ""
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
        else str(value)
    )


def percent_cell(value: object, suppressed: bool) -> str:
    """A percentage for display ("[c]" when suppressed, "" when missing)."""
    shown = display_value(value, suppressed=suppressed)
    return shown if shown in ("", SUPPRESSED_MARKER) else f"{shown}%"


def p_cell(value: object, suppressed: bool) -> str:
    """A p-value for display: three decimals, "<0.001" below that, "[c]" when hidden.

    >>> p_cell(0.0000123, False), p_cell(0.0312, False), p_cell(None, False)
    ('<0.001', '0.031', '')
    """
    number = as_number(value)
    if suppressed:
        return SUPPRESSED_MARKER
    if number is None:
        return ""
    return "<0.001" if number < 0.0005 else f"{number:.3f}"


def signed_cell(value: object, suppressed: bool) -> str:
    """A change in points for display, with its sign ("+3", "−2", "0")."""
    number = as_number(value)
    if suppressed:
        return SUPPRESSED_MARKER
    if number is None:
        return ""
    shown = display_value(number)
    if shown in ("0", "-0"):
        return "0"
    return shown.replace("-", "−") if shown.startswith("-") else f"+{shown}"


def item_row(
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
        "pct": percent_cell(row.get(pct_col), supp),
        "ci": (
            SUPPRESSED_MARKER
            if supp
            else (
                f"{display_value(row.get('ci_low'))}–{display_value(row.get('ci_high'))}"
                if as_number(row.get("ci_low")) is not None
                else ""
            )
        ),
        "benchmark": percent_cell(row.get("benchmark_pct"), supp),
        "diff": signed_cell(row.get("diff"), supp),
        "flag": "" if supp else as_text(row.get("flag")),
        "p_value": p_cell(row.get("p_value"), supp),
        "p_adjusted": p_cell(row.get("p_adjusted"), supp),
        "chart": None,
    }
    if "design_effect" in row:
        out["design_effect"] = display_value(row.get("design_effect"), suppressed=supp, digits=2)
        out["n_effective"] = display_value(row.get("n_effective"), suppressed=supp)
    if not supp and as_number(row.get(pct_col)) is not None:
        out["chart"] = {
            "pct": as_number(row.get(pct_col)),
            "low": as_number(row.get("ci_low")),
            "high": as_number(row.get("ci_high")),
            "bench": as_number(row.get("benchmark_pct")),
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


def trend_cells(trend: Mapping[Any, Any] | None) -> Context:
    """The previous wave's figure, the change and its flag, for display."""
    if trend is None:
        return {"previous": "", "change": "", "change_flag": ""}
    supp = bool(trend.get("suppressed"))
    previous = as_number(trend.get("previous_pct"))
    return {
        "previous": "" if previous is None and not supp else percent_cell(previous, supp),
        "change": "" if previous is None and not supp else signed_cell(trend.get("change"), supp),
        "change_flag": "" if supp else as_text(trend.get("change_flag")),
    }


def _group_label(value: str, labels: Mapping[str, str]) -> str:
    return labels.get(value) or _GROUP_TITLES.get(value) or value


def choice_labels(data: InstrumentData, item: str) -> dict[str, str]:
    """An item's answers (name -> English label), in the questionnaire's order."""
    return _choice_labels(data, item)


def _choice_labels(data: InstrumentData, item: str) -> dict[str, str]:
    if not data.instrument.has_item(item):
        return {}
    labels = {c.name: c.label("en") for c in data.instrument.item(item).choices}
    if item == "gender":
        labels = {name: _GROUP_TITLES.get(name, text) for name, text in labels.items()}
    return labels


#: Breakdown cells of one site: grouping variable -> [(item, group value, shown text)].
SiteBreakdowns = dict[str, list[tuple[str, str, str]]]


def hidden_marker(reason: str) -> str:
    """How a hidden cell reads: ``[c]`` (too few people) or ``[c]*`` (a complement).

    >>> hidden_marker("small"), hidden_marker("complement")
    ('[c]', '[c]*')
    """
    return COMPLEMENT_MARKER if reason == COMPLEMENT else SUPPRESSED_MARKER


def is_hidden(text: str) -> bool:
    """Whether a display cell is a hidden figure (either marker)."""
    return text in (SUPPRESSED_MARKER, COMPLEMENT_MARKER)


def index_breakdowns(breakdowns: pd.DataFrame) -> dict[str, SiteBreakdowns]:
    """Site -> its breakdown cells as display text, in one pass over the table.

    A hidden cell reads ``[c]``, or ``[c]*`` when it is hidden only to protect another
    (``suppression_reason`` = complement, when the table has reasons).
    """
    if breakdowns.empty:
        return {}
    supp = breakdowns["suppressed"].fillna(False).to_numpy(dtype=bool)
    pct = pd.to_numeric(breakdowns["pct_positive"], errors="coerce").to_numpy(dtype=float)
    reasons = (
        breakdowns[REASON_COLUMN].astype(str).tolist()
        if REASON_COLUMN in breakdowns.columns
        else [""] * len(breakdowns)
    )
    out: dict[str, SiteBreakdowns] = {}
    columns = zip(
        breakdowns["site"].astype(str),
        breakdowns["group_var"].astype(str),
        breakdowns["item"].astype(str),
        breakdowns["group_value"].astype(str),
        pct,
        supp,
        reasons,
        strict=True,
    )
    for site, var, item, value, number, hidden, reason in columns:
        if hidden:
            text = hidden_marker(reason)
        else:
            text = percent_cell(None if math.isnan(number) else float(number), False)
        out.setdefault(site, {}).setdefault(var, []).append((item, value, text))
    return out


def _breakdown_title(var: str) -> str:
    return "Year group" if var == "year_group" else var.replace("_", " ").capitalize()


def breakdown_tables(
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
        if not present:
            continue
        # A group hidden in every row is named in a note instead of a column of [c].
        hidden = [
            v
            for v in values
            if all(cells.get((i, v), "") == "" or is_hidden(cells[(i, v)]) for i in present)
        ]
        shown = [v for v in values if v not in hidden]
        rows = [
            {"label": labels.get(item, item), "cells": [cells.get((item, v), "") for v in shown]}
            for item in present
        ]
        only_protecting = [
            v
            for v in hidden
            if all(cells.get((i, v), "") in ("", COMPLEMENT_MARKER) for i in present)
            and any(cells.get((i, v), "") == COMPLEMENT_MARKER for i in present)
        ]
        # Every breakdown is listed, even when all of it is withheld, so the pack can
        # say which breakdowns it does not show and why.
        tables.append(
            {
                "var": var,
                "title": _breakdown_title(var),
                "columns": [_group_label(v, choice_labels) for v in shown],
                "rows": rows if shown else [],
                "hidden": [_group_label(v, choice_labels) for v in hidden],
                "protecting": [_group_label(v, choice_labels) for v in only_protecting],
                "complements": any(text == COMPLEMENT_MARKER for text in cells.values()),
                "withheld": not shown,
            }
        )
    return tables


def domains_shown(items: Sequence[ItemSpec], shown: Iterable[str]) -> list[str]:
    """The domains of the ``shown`` items, in the instrument's order."""
    names = set(shown)
    return list(dict.fromkeys(i.domain or "other" for i in items if i.name in names))


def domain_items(items: Sequence[ItemSpec], shown: Iterable[str]) -> list[tuple[str, list[str]]]:
    """Each domain of the ``shown`` items with the names of those items, in order."""
    names = set(shown)
    return [
        (domain, [i.name for i in items if (i.domain or "other") == domain and i.name in names])
        for domain in domains_shown(items, names)
    ]


def _mean(values: Iterable[float | None]) -> float | None:
    numbers = [v for v in values if v is not None]
    return sum(numbers) / len(numbers) if numbers else None


def domain_score(rows: Sequence[Context]) -> Context:
    """Average percentage positive over the domain's items (only if none is hidden)."""
    if any(r["suppressed"] for r in rows):
        return {"pct": SUPPRESSED_MARKER, "benchmark": SUPPRESSED_MARKER, "count": len(rows)}
    charts = [r["chart"] for r in rows if r["chart"]]
    pct = _mean(c["pct"] for c in charts)
    bench = _mean(c["bench"] for c in charts)
    return {
        "pct": percent_cell(pct, False),
        "benchmark": percent_cell(bench, False),
        "count": len(rows),
    }


def scale_tables(
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
                "flag": "" if supp else as_text(row.get("flag")),
            }
        )
    return out


def headlines(rows: Sequence[Context], count: int = 3) -> Context:
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


def themes_context(themes: pd.DataFrame | None, site: str, note: str) -> Context:
    """The site's unsuppressed themes, most mentioned first, or ``note`` when none."""
    if themes is None or themes.empty:
        return {"rows": [], "note": note}
    mine = themes[(themes["site"] == site) & ~themes["suppressed"].astype(bool)]
    mine = mine[pd.to_numeric(mine["n_respondents"], errors="coerce") > 0]
    rows = [
        {
            "theme": str(r["theme"]),
            "n": display_value(r["n_respondents"]),
            "pct": percent_cell(r["pct"], False),
        }
        for r in mine.sort_values("n_respondents", ascending=False).to_dict("records")
    ]
    if not rows:
        return {"rows": [], "note": "No theme was mentioned by enough pupils to be shown."}
    return {"rows": rows, "note": ""}


def analysis_frame(data: InstrumentData) -> pd.DataFrame:
    """The columns analysis needs: ids, site and the items."""
    keep = ["response_id", "site", "site_name"] + [i.name for i in data.items]
    return data.frame.loc[:, [c for c in keep if c in data.frame.columns]]
