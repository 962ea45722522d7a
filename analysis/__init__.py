"""placevoice analysis: pure functions from a wave's responses to tidy result tables.

DataFrame in, long DataFrame out, one scalar per cell, nothing rounded. The rules are
DESIGN section 5 and are written out in ``docs/analysis.md``. Every output passes
through :func:`apply_suppression`.
"""

from analysis.areas import area_summary
from analysis.breakdowns import item_breakdowns
from analysis.errors import AnalysisError
from analysis.items import item_summary
from analysis.scales import scale_scores, scale_summary
from analysis.spec import SWEMWBS_TABLE, ItemSpec, ScaleSpec, swemwbs_scale
from analysis.stats import (
    benjamini_hochberg,
    effective_n,
    kish_design_effect,
    two_proportion_ztest,
    welch_ttest,
    wilson_interval,
)
from analysis.summary import summarise_wave
from analysis.suppression import (
    apply_suppression,
    display_value,
    format_for_display,
    pack_eligibility,
    site_gets_pack,
)
from analysis.themes import cohen_kappa, theme_agreement, theme_counts
from analysis.trends import item_trends
from analysis.weighting import RakeResult, rake

__all__ = [
    "SWEMWBS_TABLE",
    "AnalysisError",
    "ItemSpec",
    "RakeResult",
    "ScaleSpec",
    "apply_suppression",
    "area_summary",
    "benjamini_hochberg",
    "cohen_kappa",
    "display_value",
    "effective_n",
    "format_for_display",
    "item_breakdowns",
    "item_summary",
    "item_trends",
    "kish_design_effect",
    "pack_eligibility",
    "rake",
    "scale_scores",
    "scale_summary",
    "site_gets_pack",
    "summarise_wave",
    "swemwbs_scale",
    "theme_agreement",
    "theme_counts",
    "two_proportion_ztest",
    "welch_ttest",
    "wilson_interval",
]
