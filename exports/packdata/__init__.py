"""What goes in each pack: a wave's summaries computed once, then cut per site.

:func:`school_contexts` and :func:`area_contexts` run the analysis for the whole wave in
one go (summaries, breakdowns, scales, trends, themes, suppression) and return one small,
picklable context per pack: plain dicts of display strings and the unsuppressed numbers
the charts need. Every figure passes through :func:`analysis.suppression.display_value`,
so a suppressed cell can only ever read ``[c]``; suppressed rows carry no numbers at all.

The modules: :mod:`.cells` (display cells, item rows, tables, headlines),
:mod:`.schools` (school feedback packs) and :mod:`.areas` (neighbourhood reports).
"""

from __future__ import annotations

from exports.packdata.areas import area_contexts
from exports.packdata.cells import DOMAIN_TITLES, Context, domain_title, slugify
from exports.packdata.schools import school_contexts

__all__ = [
    "DOMAIN_TITLES",
    "Context",
    "area_contexts",
    "domain_title",
    "school_contexts",
    "slugify",
]
