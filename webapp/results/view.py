"""Pack contexts made ready for a web page (charts drawn, flags spelled out)."""

from __future__ import annotations

from exports.charts import FLAG_TEXT, mark_svg
from exports.packdata import Context
from exports.render import chart_domains

__all__ = ["FLAG_TEXT", "MARKS", "page_context"]

#: Legend marks, the same as the PDF's.
MARKS = {"school": mark_svg("school"), "benchmark": mark_svg("benchmark")}


def page_context(context: Context) -> Context:
    """A copy of a pack context with each domain's chart rows drawn."""
    return {**context, "domains": chart_domains(context)}
