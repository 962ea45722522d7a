"""Trends between two waves."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportions_ztest

from analysis import area_summary, item_breakdowns, item_summary, item_trends
from analysis.errors import AnalysisError
from analysis.items import summary_table
from analysis.spec import TREND_COLUMNS, ItemSpec

Simulate = Callable[..., tuple[pd.DataFrame, list[ItemSpec]]]
SIZES = {"s1": 400, "s2": 350, "s3": 300}


def _waves(simulate: Simulate) -> tuple[pd.DataFrame, pd.DataFrame]:
    before, items = simulate(SIZES, n_items=3, seed=1)
    after, _ = simulate(SIZES, n_items=3, seed=2, effects={"s1": 0.9, "s3": -0.9})
    return (
        item_summary(after, items, wave="Spring 2027"),
        item_summary(before, items, wave="Spring 2026"),
    )


def test_change_and_test_match_statsmodels(simulate: Simulate) -> None:
    now, before = _waves(simulate)
    out = item_trends(now, before)
    assert tuple(out.columns) == TREND_COLUMNS
    assert set(out["previous_wave"]) == {"Spring 2026"}
    merged = now.merge(before, on=["site", "item"], suffixes=("", "_prev"))
    for (_, row), (_, ref) in zip(out.iterrows(), merged.iterrows(), strict=True):
        assert row["change"] == pytest.approx(ref["pct_positive"] - ref["pct_positive_prev"])
        _, p = proportions_ztest(
            [ref["n_positive"], ref["n_positive_prev"]], [ref["n"], ref["n_prev"]]
        )
        assert row["p_value"] == pytest.approx(p, rel=1e-9)
        assert row["previous_n"] == ref["n_prev"]


def test_change_flag(simulate: Simulate) -> None:
    now, before = _waves(simulate)
    out = item_trends(now, before).set_index(["site", "item"])
    assert (out.xs("s1", level="site")["change_flag"] == "improved").all()
    assert (out.xs("s3", level="site")["change_flag"] == "declined").all()
    rows = out.reset_index()
    expected = np.where(
        (rows["p_value"] < 0.05) & (rows["change"] >= 5),
        "improved",
        np.where((rows["p_value"] < 0.05) & (rows["change"] <= -5), "declined", "similar"),
    )
    assert rows["change_flag"].tolist() == expected.tolist()


def test_new_sites_and_suppressed_rows_have_no_trend(simulate: Simulate) -> None:
    now, before = _waves(simulate)
    before = before[before["site"] != "s2"]
    out = item_trends(now, before).set_index(["site", "item"])
    s2 = out.xs("s2", level="site")
    assert s2["previous_pct"].isna().all() and s2["change_flag"].isna().all()
    assert not s2["suppressed"].any() and s2["pct_positive"].notna().all()


def test_previous_small_cells_are_not_used_even_if_unsuppressed() -> None:
    items = [ItemSpec("q", positive={"yes"})]
    now = summary_table(
        pd.DataFrame({"site": ["a"] * 30 + ["b"] * 30, "q": ["yes", "no"] * 30}), items, wave="2"
    )
    before = summary_table(
        pd.DataFrame({"site": ["a"] * 6 + ["b"] * 30, "q": ["yes", "no"] * 18}), items, wave="1"
    )
    out = item_trends(now, before).set_index("site")
    assert np.isnan(out.loc["a", "previous_pct"]) and pd.isna(out.loc["a", "previous_n"])
    assert out.loc["b", "previous_n"] == 30


def test_suppressed_current_rows_stay_suppressed(simulate: Simulate) -> None:
    responses, items = simulate({"s1": 300, "s2": 6, "s3": 250}, n_items=2, seed=5)
    now = item_summary(responses, items, wave="2")
    out = item_trends(now, now.assign(wave="1"))
    hidden = out[out["suppressed"]]
    assert set(hidden["site"]) >= {"s2"}
    assert hidden[["n", "pct_positive", "change", "p_value"]].isna().all().all()


def test_breakdown_trends_keep_the_groups(simulate: Simulate) -> None:
    before, items = simulate(SIZES, n_items=1, seed=1)
    after, _ = simulate(SIZES, n_items=1, seed=2)
    out = item_trends(
        item_breakdowns(after, items, wave="2", by=["gender"]),
        item_breakdowns(before, items, wave="1", by=["gender"]),
    )
    assert out.columns[7:9].tolist() == ["group_var", "group_value"]
    assert out["previous_pct"].notna().any()


def test_area_trends_use_weighted_shares_and_effective_sizes() -> None:
    rng = np.random.default_rng(0)

    def wave(p: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "site": np.repeat(["n1", "n2"], 200),
                "q": np.where(rng.random(400) < p, "yes", "no"),
                "weight": rng.uniform(0.5, 2.0, 400),
            }
        )

    items = [ItemSpec("q", positive={"yes"})]
    now = area_summary(wave(0.7), items, wave="2")
    before = area_summary(wave(0.5), items, wave="1")
    out = item_trends(now, before)
    row, ref_now, ref_before = out.iloc[0], now.iloc[0], before.iloc[0]
    assert row["pct_positive"] == pytest.approx(ref_now["weighted_pct"])
    _, p = proportions_ztest(
        [
            ref_now["weighted_pct"] / 100 * ref_now["n_effective"],
            ref_before["weighted_pct"] / 100 * ref_before["n_effective"],
        ],
        [ref_now["n_effective"], ref_before["n_effective"]],
    )
    assert row["p_value"] == pytest.approx(p, rel=1e-9)


def test_bad_inputs() -> None:
    table = pd.DataFrame(
        {"wave": "1", "site": ["a", "a"], "item": "q", "n": [20, 20], "pct_positive": [50.0, 60.0]}
    )
    with pytest.raises(AnalysisError, match="more than one row"):
        item_trends(table, table)
    with pytest.raises(AnalysisError, match="no column 'pct_positive'"):
        item_trends(table.drop(columns="pct_positive"), table)
