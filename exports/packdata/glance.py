"""The "at a glance" figures: who answered, the clearest strengths and concerns, and change.

Data only (display strings and sentences), no layout: the pack's first page and the web
results explorer show the same strengths, concerns and sentences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from analysis.spec import NOT_STATED
from analysis.suppression import (
    COMPLEMENT,
    REASON_COLUMN,
    SUPPRESSED_MARKER,
    apply_suppression,
    display_value,
)
from exports.packdata.cells import Context

__all__ = ["change_sentence", "glance", "respondent_groups", "result_sentence"]

_GENDER_WORDS: Mapping[str, str] = {
    "girl": "Girls",
    "boy": "Boys",
    "another_way": "Another way",
    "pnts": "Prefer not to say",
    NOT_STATED: "Not stated",
}


def respondent_groups(
    frame: pd.DataFrame, *, k: int, labels: Mapping[str, Mapping[str, str]] | None = None
) -> dict[str, dict[str, list[Context]]]:
    """Site -> grouping -> how many respondents were in each group, suppressed.

    Counts below k are ``[c]``, and so is a second group where one hidden group could
    be worked out from the site's total (the same rule as every other table). Groups
    come in the order of ``labels`` (the questionnaire's answers), "not stated" last.
    """
    out: dict[str, dict[str, list[Context]]] = {}
    for var in ("year_group", "gender"):
        if var not in frame.columns:
            continue
        names = dict((labels or {}).get(var, {}))
        values = frame[var].astype(object).where(frame[var].notna(), NOT_STATED).astype(str)
        counts = (
            pd.DataFrame({"site": frame["site"].astype(str), "group_value": values})
            .groupby(["site", "group_value"], sort=False)
            .size()
            .rename("n")
            .reset_index()
            .assign(group_var=var, item="respondents")
        )
        rank = {value: i for i, value in enumerate(names)}
        counts["_order"] = [
            len(rank) + 1 if v == NOT_STATED else rank.get(v, len(rank)) for v in counts.group_value
        ]
        counts = counts.sort_values(["site", "_order", "group_value"]).drop(columns="_order")
        shown = apply_suppression(counts, k=k, across_sites=False, reasons=True)
        for row in shown.to_dict("records"):
            value = str(row["group_value"])
            label = names.get(value) or _GENDER_WORDS.get(value) or value.replace("_", " ")
            out.setdefault(str(row["site"]), {}).setdefault(var, []).append(
                {
                    "group": label[:1].upper() + label[1:],
                    "n": display_value(row["n"], suppressed=bool(row["suppressed"])),
                    "reason": row[REASON_COLUMN],
                }
            )
    return out


def result_sentence(row: Mapping[str, Any], *, who: str, against: str) -> str:
    """A flagged result in plain English, built from its figures.

    >>> row = {"label": "How safe do you feel at school?", "positive": "Very safe",
    ...        "pct": "61%", "benchmark": "74%", "flag": "lower"}
    >>> text = result_sentence(row, who="your pupils", against="elsewhere")
    >>> print(text)  # doctest: +NORMALIZE_WHITESPACE
    Fewer of your pupils answered Very safe to “How safe do you feel at school?”:
    61% compared with 74% elsewhere.
    """
    more = "More" if row["flag"] == "higher" else "Fewer"
    answered = f"answered {row['positive']}" if row.get("positive") else "answered positively"
    label = str(row["label"]).rstrip(".")
    return (
        f"{more} of {who} {answered} to “{label}”: {row['pct']} compared with"
        f" {row['benchmark']} {against}."
    )


def change_sentence(row: Mapping[str, Any], *, previous_wave: str) -> str:
    """A flagged change since the last wave in plain English.

    >>> change_sentence({"label": "I like being at my school.", "previous": "58%",
    ...                  "pct": "71%", "change_flag": "improved"}, previous_wave="Spring 2026")
    '“I like being at my school”: up from 58% in Spring 2026 to 71%.'
    """
    way = "up" if row["change_flag"] == "improved" else "down"
    label = str(row["label"]).rstrip(".")
    return f"“{label}”: {way} from {row['previous']} in {previous_wave} to {row['pct']}."


def _gap(row: Context) -> float:
    chart = row["chart"]
    return float(chart["pct"] - chart["bench"])


def glance(
    rows: Sequence[Context],
    *,
    who: str,
    against: str,
    previous_wave: str | None,
    count: int = 3,
) -> Context:
    """Strengths, concerns and changes for the first page, clearest first.

    Only results the analysis flagged (p < 0.05 and at least 5 points) are used, never a
    hidden one; each carries a sentence generated from its own figures.
    """
    shown = [
        r
        for r in rows
        if not r["suppressed"] and r.get("chart") and r["chart"].get("bench") is not None
    ]
    strengths = sorted((r for r in shown if r["flag"] == "higher"), key=lambda r: -_gap(r))
    concerns = sorted((r for r in shown if r["flag"] == "lower"), key=_gap)

    def entry(r: Context) -> Context:
        return {
            "label": r["label"],
            "pct": r["pct"],
            "benchmark": r["benchmark"],
            "diff": r["diff"],
            "similar": r.get("similar", ""),
            "sentence": result_sentence(r, who=who, against=against),
        }

    changes: list[Context] = []
    n_improved = n_declined = 0
    if previous_wave:
        moved = [
            r
            for r in rows
            if not r["suppressed"]
            and r.get("change_flag") in ("improved", "declined")
            and r.get("previous") not in ("", SUPPRESSED_MARKER)
        ]
        n_improved = sum(r["change_flag"] == "improved" for r in moved)
        n_declined = len(moved) - n_improved
        changes = [
            {
                "label": r["label"],
                "flag": r["change_flag"],
                "sentence": change_sentence(r, previous_wave=previous_wave),
            }
            for r in moved[: 2 * count]
        ]
    return {
        "strengths": [entry(r) for r in strengths[:count]],
        "concerns": [entry(r) for r in concerns[:count]],
        "n_higher": len(strengths),
        "n_lower": len(concerns),
        "changes": changes,
        "n_improved": n_improved,
        "n_declined": n_declined,
    }


def hidden_reason_text(reason: str, *, k: int, who: str) -> str:
    """Why a figure is hidden, for readers."""
    if reason == COMPLEMENT:
        return "hidden so that another hidden figure cannot be worked out from the totals"
    return f"fewer than {k} {who}"
