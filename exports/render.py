"""Pack HTML from a context, and PDF from the HTML with WeasyPrint.

The template, the stylesheet and WeasyPrint's font configuration are loaded once per
process (:func:`renderer`), so each pack costs only its own HTML and layout.

Packs are laid out with a trimmed copy of WeasyPrint's own HTML user-agent stylesheet
(:func:`lean_ua_css`): its universal ``::marker`` rule is narrowed to the elements that
can have a marker, and its footnote and note pseudo-element rules (packs have no
footnotes) are dropped. Those universal rules make WeasyPrint compute six pseudo-element
styles for every element of the document, a tenth of a pack's rendering time, for boxes
a pack never draws; the PDF is otherwise the same.
The PDF is tagged PDF/UA-1 (structure tree, /MarkInfo, title and language from the
HTML's ``<title>`` and ``lang``), A4, with the site's name and page numbers in the
page margins on every page.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from exports.charts import FLAG_TEXT, mark_svg, row_chart
from exports.packdata import Context
from exports.packdata.cells import COMPLEMENT_MARKER

__all__ = [
    "PDF_OPTIONS",
    "UNUSED_UA_RULES",
    "Renderer",
    "chart_domains",
    "lean_ua_css",
    "pack_html",
    "renderer",
    "write_atomically",
]

#: Options given to ``write_pdf`` for every pack (and to the WeasyPrint-alone benchmark).
PDF_OPTIONS: dict[str, Any] = {"pdf_variant": "pdf/ua-1", "pdf_tags": True}


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def chart_domains(context: Context) -> list[Context]:
    """The context's domains with each item row's chart drawn (``svg``; "" if hidden)."""
    domains = []
    for domain in context["domains"]:
        rows = []
        for row in domain["items"]:
            chart = row["chart"]
            if chart is not None and context.get("whole_community"):
                chart = {**chart, "bench": None}
            rows.append({**row, "svg": row_chart(chart, label=_alt(row, context))})
        areas = [a["area"] for a in rows[0].get("areas", [])] if rows else []
        domains.append(
            {**domain, "items": rows, "areas": areas, "combined": _combined(domain["breakdowns"])}
        )
    return domains


def _combined(tables: list[Context]) -> Context | None:
    """Every breakdown of a domain in one table: a column group per grouping variable.

    Breakdowns withheld whole (every group hidden) get no column group but stay listed
    in ``withheld``, so the pack always says which breakdowns it leaves out.
    """
    if not tables:
        return None
    shown = [t for t in tables if not t.get("withheld")]
    labels = list(dict.fromkeys(row["label"] for table in shown for row in table["rows"]))
    cells: dict[str, list[str]] = {label: [] for label in labels}
    for table in shown:
        by_label = {row["label"]: row["cells"] for row in table["rows"]}
        for label in labels:
            cells[label] += by_label.get(label, [""] * len(table["columns"]))
    flat = [cell for row in cells.values() for cell in row]
    return {
        "groups": [(t["title"], t["columns"]) for t in shown],
        "rows": [{"label": label, "cells": cells[label]} for label in labels],
        "hidden": [
            (t["title"], [h for h in t["hidden"] if h not in t.get("protecting", [])])
            for t in shown
            if set(t["hidden"]) - set(t.get("protecting", []))
        ],
        "protecting": [(t["title"], t["protecting"]) for t in shown if t.get("protecting")],
        "withheld": [(t["title"], t["hidden"]) for t in tables if t.get("withheld")],
        "complements": COMPLEMENT_MARKER in flat,
    }


def pack_html(context: Context) -> str:
    """The pack's HTML: charts drawn, every figure already a display string."""
    domains = chart_domains(context)
    adjusted = [
        r
        for d in context["domains"]
        for r in d["items"]
        if r["flag"] in ("higher", "lower") and not r["suppressed"]
    ]
    return (
        _environment()
        .get_template("pack.html")
        .render(
            c=context,
            domains=domains,
            marks={
                "school": mark_svg("school"),
                "benchmark": mark_svg("benchmark"),
                "similar": mark_svg("similar"),
            },
            flag_text=FLAG_TEXT,
            adjusted=adjusted,
        )
    )


def _alt(row: Context, context: Context) -> str:
    """Short text alternative of one chart row."""
    text = f"{row['label']}: {row['pct']} (95% CI {row['ci']})"
    if row.get("benchmark") and not context.get("whole_community"):
        text += f"; {context['benchmark_label'].lower()} {row['benchmark']}"
    return text


#: Rules of WeasyPrint's ``html5_ua.css`` that packs do not need: the footnote and note
#: pseudo-elements (packs have none), matched as whole rules.
UNUSED_UA_RULES = re.compile(r"^::(?:footnote|note)-[a-z]+ \{[^}]*\}\n", re.MULTILINE)
_UNIVERSAL_MARKER = re.compile(r"^::marker \{", re.MULTILINE)
#: Elements that can be list items, and so have a ``::marker``, in a pack.
_MARKER_ELEMENTS = "li::marker, summary::marker {"


def lean_ua_css(ua_text: str) -> str:
    """WeasyPrint's HTML user-agent stylesheet without the rules packs never use.

    Raises ``RuntimeError`` if the sheet no longer has the rules this expects (a new
    WeasyPrint changed it), rather than quietly rendering with a different sheet.
    """
    lean, dropped = UNUSED_UA_RULES.subn("", ua_text)
    lean, narrowed = _UNIVERSAL_MARKER.subn(_MARKER_ELEMENTS, lean)
    if dropped != 5 or narrowed != 1:
        raise RuntimeError(
            "WeasyPrint's html5_ua.css has changed: expected 5 footnote/note rules and one"
            f" universal ::marker rule, found {dropped} and {narrowed};"
            " update exports/render.py:lean_ua_css"
        )
    return lean


@cache
def _pack_html_class() -> type:
    """``weasyprint.HTML`` laid out with :func:`lean_ua_css` as its user-agent sheet."""
    from importlib.resources import files

    from weasyprint import CSS, HTML, css
    from weasyprint.css.counters import CounterStyle

    counters = CounterStyle()
    sheet = CSS(
        string=lean_ua_css((files(css) / "html5_ua.css").read_text("utf-8")),
        counter_style=counters,
    )

    class PackHTML(HTML):  # type: ignore[misc]
        # WeasyPrint's own test suite swaps the user-agent sheet the same way.
        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            return [sheet]

        def _ua_counter_style(self) -> list[Any]:
            return [counters.copy()]

    return PackHTML


@dataclass
class Renderer:
    """WeasyPrint with the pack stylesheet and fonts loaded once."""

    stylesheet: Any
    font_config: Any

    def pdf_bytes(self, html: str) -> bytes:
        """Render HTML to PDF bytes."""
        document = _pack_html_class()(string=html, base_url=str(Path(__file__).parent))
        data: bytes = document.write_pdf(
            stylesheets=[self.stylesheet], font_config=self.font_config, **PDF_OPTIONS
        )
        return data

    def write_pdf(self, html: str, path: Path) -> Path:
        """Render to ``path`` atomically (temp file, then rename)."""
        return write_atomically(path, self.pdf_bytes(html))


@cache
def renderer() -> Renderer:
    """This process's renderer."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    _pack_html_class()
    fonts = FontConfiguration()
    css_path = Path(__file__).with_name("templates") / "pack.css"
    return Renderer(stylesheet=CSS(filename=str(css_path), font_config=fonts), font_config=fonts)


def write_atomically(path: Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
