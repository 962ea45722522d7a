"""The results explorer's tables: a pack context cut by domain, breakdown and group.

The explorer never computes a figure. Every cell is a display string of the pack
context (:mod:`exports.packdata`) of the same site and wave, so the explorer shows the
pack's numbers with the pack's suppression, and nothing the pack hides. Breakdowns are
the pack's: one grouping variable at a time (year group, gender, and any others the
pack breaks down by), never two crossed, since crossed groups are small and one filter
subtracted from another could reveal a hidden cell.

:func:`explorer_table` gives columns and rows; :func:`table_csv` and
:func:`table_xlsx` write them as files; :mod:`exports.explore_chart` draws the chart.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from analysis.suppression import SUPPRESSED_MARKER
from exports.packdata.cells import Context

__all__ = [
    "ExplorerTable",
    "Series",
    "breakdown_choices",
    "explorer_table",
    "shown_number",
    "table_csv",
    "table_xlsx",
]


@dataclass(frozen=True)
class Series:
    """One column of figures the chart draws: its heading and one value per row."""

    name: str
    #: Row index -> (value, ci low, ci high); None when the cell is hidden or empty.
    values: tuple[tuple[float, float | None, float | None] | None, ...]


@dataclass
class ExplorerTable:
    """What an explorer page shows: headings, rows of display text, chart series."""

    title: str
    columns: list[str]
    #: Each row: ``domain`` (title), ``item``, ``label``, ``cells`` (one text a column).
    rows: list[Context]
    series: list[Series] = field(default_factory=list)
    #: Groups hidden in every row, named instead of shown as columns of [c].
    hidden: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def shown_number(text: str) -> float | None:
    """The number in a display cell ("73%", "+4", "−2"), None for "[c]" or "".

    >>> shown_number("73%"), shown_number("−2"), shown_number("[c]")
    (73.0, -2.0, None)
    """
    cleaned = text.replace("−", "-").rstrip("%").strip()
    try:
        return float(cleaned)
    except ValueError:
        return None


def breakdown_choices(context: Context) -> list[tuple[str, str, list[str]]]:
    """The pack's breakdowns of this site: (variable, title, group headings)."""
    seen: dict[str, tuple[str, list[str]]] = {}
    for domain in context["domains"]:
        for table in domain.get("breakdowns", []):
            _, groups = seen.setdefault(table["var"], (table["title"], []))
            for heading in [*table["columns"], *table.get("hidden", [])]:
                if heading not in groups:
                    groups.append(heading)
    return [(var, title, groups) for var, (title, groups) in seen.items()]


def _domains(context: Context, domain: str | None) -> list[Context]:
    return [d for d in context["domains"] if domain in (None, "", d["key"])]


def _item_columns(context: Context) -> list[tuple[str, str]]:
    here = "This school" if context["kind"] == "school" else "This area"
    if context.get("whole_community"):
        here = "All areas"
    columns = [("n", "Answers (n)"), ("pct", f"{here} %"), ("ci", "95% CI")]
    if not context.get("whole_community"):
        columns += [("benchmark", f"{context['benchmark_label']} %"), ("diff", "Difference")]
        columns += [("flag", "Flag")]
    if context["kind"] == "area" and not context.get("whole_community"):
        columns.append(("community", "Community %"))
    if context.get("previous_wave"):
        columns += [("previous", f"{context['previous_wave']} %"), ("change", "Change")]
    return columns


def _flag(text: str) -> str:
    return {"higher": "Higher", "lower": "Lower", "similar": "Similar"}.get(text, text)


def explorer_table(
    context: Context,
    *,
    domain: str | None = None,
    breakdown: str | None = None,
    group: str | None = None,
) -> ExplorerTable:
    """The pack's figures of one site, for one domain (or all), overall or by group.

    Parameters
    ----------
    context : dict
        The site's pack context (:func:`exports.packs.build_contexts`).
    domain : str, optional
        A domain key; None for every domain.
    breakdown : str, optional
        A grouping variable of :func:`breakdown_choices`; None for the whole site.
    group : str, optional
        One group heading of that breakdown; None for every group.
    """
    domains = _domains(context, domain)
    if breakdown:
        return _breakdown_table(context, domains, breakdown, group)
    keys = _item_columns(context)
    rows: list[Context] = []
    main: list[tuple[float, float | None, float | None] | None] = []
    bench: list[tuple[float, float | None, float | None] | None] = []
    for d in domains:
        for r in d["items"]:
            cells = [_flag(str(r.get(key, ""))) for key, _ in keys]
            rows.append(
                {"domain": d["title"], "item": r["item"], "label": r["label"], "cells": cells}
            )
            chart = r.get("chart")
            main.append((chart["pct"], chart["low"], chart["high"]) if chart else None)
            has_bench = chart and chart.get("bench") is not None
            bench.append((chart["bench"], None, None) if has_bench else None)
    series = [Series(dict(keys)["pct"].removesuffix(" %"), tuple(main))]
    if not context.get("whole_community") and any(bench):
        series.append(Series(context["benchmark_label"], tuple(bench)))
    return ExplorerTable(
        title=f"{context['site_name']}, {context['wave']}",
        columns=[heading for _, heading in keys],
        rows=rows,
        series=series,
    )


def _breakdown_table(
    context: Context, domains: Sequence[Context], var: str, group: str | None
) -> ExplorerTable:
    choices = {v: (title, groups) for v, title, groups in breakdown_choices(context)}
    if var not in choices:
        raise KeyError(var)
    title, groups = choices[var]
    if group and group not in groups:
        raise KeyError(group)
    wanted = [g for g in groups if group in (None, "", g)]
    rows: list[Context] = []
    for d in domains:
        table = next((t for t in d.get("breakdowns", []) if t["var"] == var), None)
        if table is None:
            continue
        by_label = {
            row["label"]: dict(zip(table["columns"], row["cells"], strict=True))
            for row in table["rows"]
        }
        # A group the pack left out of this domain's table was hidden in all of it.
        hidden_here = set(table.get("hidden", []))
        for r in d["items"]:
            cells = by_label.get(r["label"])
            if cells is None:
                continue
            texts = [cells.get(g, SUPPRESSED_MARKER if g in hidden_here else "") for g in wanted]
            rows.append(
                {"domain": d["title"], "item": r["item"], "label": r["label"], "cells": texts}
            )
    # As in the pack: a group hidden in every row is named in a note, not a column of [c].
    hidden = [
        g
        for i, g in enumerate(wanted)
        if all(row["cells"][i] in ("", SUPPRESSED_MARKER) for row in rows)
    ]
    keep = [i for i, g in enumerate(wanted) if g not in hidden]
    for row in rows:
        row["cells"] = [row["cells"][i] for i in keep]
    columns = [wanted[i] for i in keep]
    series = [
        Series(
            g,
            tuple(
                (number, None, None)
                if (number := shown_number(row["cells"][i])) is not None
                else None
                for row in rows
            ),
        )
        for i, g in enumerate(columns)
    ]
    notes = []
    if hidden:
        notes.append(
            f"{title}: not shown, because every figure would be [c] (too few people): "
            + ", ".join(hidden)
            + "."
        )
    return ExplorerTable(
        title=f"{context['site_name']}, {context['wave']}: by {title.lower()}",
        columns=columns,
        rows=rows,
        series=series,
        hidden=hidden,
        notes=notes,
    )


def _records(table: ExplorerTable, context: Context) -> list[list[str]]:
    header = ["wave", "site", "site_name", "domain", "item", "question", *table.columns]
    body = [
        [
            context["wave"],
            context["site"],
            context["site_name"],
            r["domain"],
            r["item"],
            r["label"],
            *r["cells"],
        ]
        for r in table.rows
    ]
    return [header, *body]


def table_csv(table: ExplorerTable, context: Context) -> bytes:
    """The table as UTF-8 CSV (with a byte-order mark, so Excel reads the accents)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(_records(table, context))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def table_xlsx(table: ExplorerTable, context: Context) -> bytes:
    """The table as an Excel workbook: one sheet, a bold header row, frozen panes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Results"
    for record in _records(table, context):
        sheet.append(record)
    for row in sheet.iter_rows():
        for cell in row:  # text, never a formula (a label could start with "=")
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    sheet.column_dimensions["F"].width = 60
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
