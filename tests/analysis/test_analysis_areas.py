"""Weighted neighbourhood summaries against hand computation and statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from analysis import area_summary, item_summary
from analysis.areas import area_table
from analysis.errors import AnalysisError
from analysis.spec import AREA_COLUMNS, ItemSpec

ITEMS = [
    ItemSpec("belong", positive={"agree", "strongly_agree"}, missing={"dk"}),
    ItemSpec("safe_night", positive={"very", "fairly"}),
]


def _residents(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sites = np.repeat(["n1", "n2", "n3", "n4"], [180, 140, 220, 90])
    n = sites.size
    belong = rng.choice(
        ["strongly_agree", "agree", "disagree", "dk"], size=n, p=[0.2, 0.4, 0.3, 0.1]
    ).astype(object)
    belong[rng.random(n) < 0.05] = None
    return pd.DataFrame(
        {
            "site": sites,
            "site_name": [f"Area {s}" for s in sites],
            "belong": belong,
            "safe_night": rng.choice(["very", "fairly", "not_very", "not_at_all"], size=n),
            "weight": rng.lognormal(0, 0.45, size=n),
        }
    )


def test_weighted_figures_match_hand_computation() -> None:
    responses = _residents()
    out = area_summary(responses, ITEMS, wave="w", k=10)
    assert tuple(out.columns) == AREA_COLUMNS
    assert set(out["level"]) == {"area"}
    for item in ITEMS:
        values = responses[item.name]
        answered = values.notna() & ~values.isin(item.missing)
        positive = values.isin(item.positive)
        w = responses["weight"]
        for site in ["n1", "n2", "n3", "n4"]:
            row = out[(out["site"] == site) & (out["item"] == item.name)].iloc[0]
            mine = answered & (responses["site"] == site)
            other = answered & (responses["site"] != site)
            wm, wo = w[mine], w[other]
            pct = 100 * w[mine & positive].sum() / wm.sum()
            bench = 100 * w[other & positive].sum() / wo.sum()
            n_eff = wm.sum() ** 2 / (wm**2).sum()
            b_eff = wo.sum() ** 2 / (wo**2).sum()
            assert row["n"] == mine.sum() and row["benchmark_n"] == other.sum()
            assert row["pct_positive"] == pytest.approx(100 * (mine & positive).sum() / mine.sum())
            assert row["weighted_pct"] == pytest.approx(pct)
            assert row["n_effective"] == pytest.approx(n_eff)
            assert row["design_effect"] == pytest.approx(mine.sum() / n_eff)
            cv2 = wm.var(ddof=0) / wm.mean() ** 2
            assert row["design_effect"] == pytest.approx(1 + cv2)
            low, high = proportion_confint(pct / 100 * n_eff, n_eff, method="wilson")
            assert (row["ci_low"], row["ci_high"]) == pytest.approx((100 * low, 100 * high))
            assert row["benchmark_pct"] == pytest.approx(bench)
            assert row["diff"] == pytest.approx(pct - bench)
            _, p = proportions_ztest([pct / 100 * n_eff, bench / 100 * b_eff], [n_eff, b_eff])
            assert row["p_value"] == pytest.approx(p, rel=1e-9)


def test_design_effect_widens_the_interval() -> None:
    responses = _residents()
    weighted = area_summary(responses, ITEMS, wave="w").query("site != 'ALL'")
    assert (weighted["design_effect"] > 1).all()
    plain = area_summary(responses.assign(weight=1.0), ITEMS, wave="w").query("site != 'ALL'")
    assert plain["design_effect"].to_numpy() == pytest.approx(1.0)
    assert plain["n_effective"].to_numpy() == pytest.approx(plain["n"].astype(float).to_numpy())
    width = (weighted["ci_high"] - weighted["ci_low"]).to_numpy()
    plain_width = (plain["ci_high"] - plain["ci_low"]).to_numpy()
    assert np.mean(width > plain_width) > 0.75


def test_equal_weights_reproduce_the_unweighted_summary() -> None:
    responses = _residents().assign(weight=3.0)
    area = area_table(responses, ITEMS, wave="w")
    plain = item_summary(responses, ITEMS, wave="w", level="area", k=5)
    assert area["weighted_pct"].to_numpy() == pytest.approx(plain["pct_positive"].to_numpy())
    assert area["ci_low"].to_numpy() == pytest.approx(plain["ci_low"].to_numpy())
    assert area["p_value"].to_numpy() == pytest.approx(plain["p_value"].to_numpy(), nan_ok=True)


def test_whole_wave_rows_are_weighted_without_benchmark() -> None:
    responses = _residents()
    out = area_summary(responses, ITEMS, wave="w").set_index(["site", "item"])
    row = out.loc[("ALL", "safe_night")]
    w = responses["weight"]
    assert row["weighted_pct"] == pytest.approx(
        100 * w[responses["safe_night"].isin(["very", "fairly"])].sum() / w.sum()
    )
    assert row["n_effective"] == pytest.approx(w.sum() ** 2 / (w**2).sum())
    assert np.isnan(row["benchmark_pct"]) and pd.isna(row["flag"])


def test_bad_weights() -> None:
    responses = _residents()
    with pytest.raises(AnalysisError, match="no column 'weight'"):
        area_summary(responses.drop(columns="weight"), ITEMS, wave="w")
    with pytest.raises(AnalysisError, match="0 or more"):
        area_summary(responses.assign(weight=-1.0), ITEMS, wave="w")
    with pytest.raises(AnalysisError, match="0 or more"):
        area_summary(responses.assign(weight=np.nan), ITEMS, wave="w")
