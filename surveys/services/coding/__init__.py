"""Participatory thematic coding of open answers.

Residents and the core team build a codebook of themes as they go, tag each open answer
(or a highlighted part of it) with themes, and code a sample twice, independently, so
agreement can be measured with Cohen's kappa per theme. Disagreements are reconciled
into agreed codes. Quotes are cleared for reports only after PII screening.

An *open answer* is the answer to a ``text`` item with the ``multiline`` appearance,
in a submitted or approved response. A *unit* is one open answer: (response, item).

The modules: :mod:`.units` (open answers, the next one to code), :mod:`.codebook`,
:mod:`.codes` (tagging), :mod:`.agreement` (kappa, reconciliation, final themes) and
:mod:`.quotes`.
"""

from __future__ import annotations

from surveys.services.coding.agreement import (
    Agreement,
    agreement,
    disagreements,
    final_themes,
    reconcile,
    theme_codings,
)
from surveys.services.coding.codebook import add_theme, themes, update_theme
from surveys.services.coding.codes import (
    add_span_coding,
    codes_by_coder,
    remove_coding,
    save_unit_codes,
)
from surveys.services.coding.quotes import approve_quote, school_names, screen_quote
from surveys.services.coding.units import (
    CODABLE_STATUSES,
    CodingError,
    Unit,
    get_unit,
    in_double_sample,
    next_unit,
    open_items,
    open_units,
)

__all__ = [
    "CODABLE_STATUSES",
    "Agreement",
    "CodingError",
    "Unit",
    "add_span_coding",
    "add_theme",
    "agreement",
    "approve_quote",
    "codes_by_coder",
    "disagreements",
    "final_themes",
    "get_unit",
    "in_double_sample",
    "next_unit",
    "open_items",
    "open_units",
    "reconcile",
    "remove_coding",
    "save_unit_codes",
    "school_names",
    "screen_quote",
    "theme_codings",
    "themes",
    "update_theme",
]
