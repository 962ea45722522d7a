"""Item summaries against a naive second implementation and statsmodels."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from analysis import item_summary
from analysis.errors import AnalysisError
from analysis.items import summary_table
from analysis.spec import SUMMARY_COLUMNS, ItemSpec

Simulate = Callable[..., tuple[pd.DataFrame, list[ItemSpec]]]
Naive = Callable[..., pd.DataFrame]

SIZES = {"s1": 160, "s2": 95, "s3": 240, "s4": 60}


def test_columns_are_exactly_the_summary_csv_columns(simulate: Simulate) -> None:
    responses, items = simulate(SIZES)
    out = item_summary(responses, items, wave="Spring 2027")
    assert tuple(out.columns) == SUMMARY_COLUMNS
    assert len(out) == (len(SIZES) + 1) * len(items)
    assert set(out["wave"]) == {"Spring 2027"} and set(out["level"]) == {"school"}
    assert out["site"].tolist()[-len(items) :] == ["ALL"] * len(items)
    assert out["suppressed"].dtype == bool


def test_counts_and_benchmarks_match_a_naive_computation(simulate: Simulate, naive: Naive) -> None:
    responses, items = simulate(SIZES, n_items=3, seed=7)
    out = item_summary(responses, items, wave="w").set_index(["site", "item"])
    for item in items:
        counts = naive(responses, item).set_index("site")
        for site, row in counts.iterrows():
            got = out.loc[(site, item.name)]
            others = counts.drop(index=site)
            assert got["n"] == row["n"]
            assert got["n_missing"] == row["respondents"] - row["n"]
            assert got["n_positive"] == row["n_positive"]
            assert got["pct_positive"] == pytest.approx(100 * row["n_positive"] / row["n"])
            assert got["benchmark_n"] == others["n"].sum()
            bench = 100 * others["n_positive"].sum() / others["n"].sum()
            assert got["benchmark_pct"] == pytest.approx(bench)
            assert got["diff"] == pytest.approx(got["pct_positive"] - bench)
        whole = out.loc[("ALL", item.name)]
        assert whole["n"] == counts["n"].sum()
        assert whole["n_positive"] == counts["n_positive"].sum()
        assert whole["n_missing"] == len(responses) - counts["n"].sum()
        assert pd.isna(whole["benchmark_n"]) and np.isnan(whole["p_value"])
        assert pd.isna(whole["flag"])


def test_intervals_and_tests_match_statsmodels(simulate: Simulate) -> None:
    responses, items = simulate(SIZES, n_items=5, seed=3, effects={"s3": 0.5})
    out = item_summary(responses, items, wave="w")
    sites = out[out["site"] != "ALL"]
    for _, row in out.iterrows():
        low, high = proportion_confint(row["n_positive"], row["n"], method="wilson")
        assert row["ci_low"] == pytest.approx(100 * low, abs=1e-10)
        assert row["ci_high"] == pytest.approx(100 * high, abs=1e-10)
    for _, row in sites.iterrows():
        bench_pos = round(row["benchmark_pct"] * row["benchmark_n"] / 100)
        _, p = proportions_ztest([row["n_positive"], bench_pos], [row["n"], row["benchmark_n"]])
        assert row["p_value"] == pytest.approx(p, rel=1e-9, abs=1e-15)
    for _, group in sites.groupby("site"):
        ref = multipletests(group["p_value"], method="fdr_bh")[1]
        assert group["p_adjusted"].to_numpy() == pytest.approx(ref, rel=1e-12)


def test_flag_follows_the_rule(simulate: Simulate) -> None:
    responses, items = simulate(SIZES, n_items=6, seed=11, effects={"s1": 0.6, "s4": -0.6})
    out = item_summary(responses, items, wave="w")
    sites = out[out["site"] != "ALL"]
    expected = np.where(
        (sites["p_value"] < 0.05) & (sites["diff"] >= 5),
        "higher",
        np.where((sites["p_value"] < 0.05) & (sites["diff"] <= -5), "lower", "similar"),
    )
    assert sites["flag"].tolist() == expected.tolist()


def test_a_site_with_a_real_effect_is_flagged_and_null_sites_mostly_are_not(
    simulate: Simulate,
) -> None:
    sizes = {f"s{i:02d}": 300 for i in range(20)}
    responses, items = simulate(sizes, n_items=20, seed=2027, effects={"s00": 1.0})
    out = item_summary(responses, items, wave="w")
    effect = out[out["site"] == "s00"]
    null = out[~out["site"].isin(["s00", "ALL"])]
    # +1 on the log-odds is about +20 points: flagged on every item, even after BH.
    assert (effect["flag"] == "higher").mean() >= 0.95
    assert (effect["p_adjusted"] < 0.05).mean() >= 0.95
    # No real difference: flags are rare. (About 7% expected here: the effect school is
    # in every other school's benchmark and pulls it up by about 1 point, so null
    # schools lean towards "lower"; without it the rate is under 5%.)
    assert (null["flag"] != "similar").mean() <= 0.12
    assert (null["flag"] == "higher").mean() <= 0.03


def test_with_no_effect_anywhere_false_flags_are_under_five_percent(simulate: Simulate) -> None:
    sizes = {f"s{i:02d}": 300 for i in range(20)}
    responses, items = simulate(sizes, n_items=20, seed=99)
    sites = item_summary(responses, items, wave="w").query("site != 'ALL'")
    assert (sites["flag"] != "similar").mean() <= 0.05
    assert (sites["p_adjusted"] < 0.05).mean() <= 0.02


def test_significant_but_small_and_large_but_uncertain_are_similar() -> None:
    # 52.6% vs 50% on big samples: p < 0.05 but under 5 points.
    big = pd.DataFrame(
        {
            "site": ["a"] * 20000 + ["b"] * 20000,
            "q": ["yes"] * 10520 + ["no"] * 9480 + ["yes"] * 10000 + ["no"] * 10000,
        }
    )
    row = item_summary(big, [ItemSpec("q", positive={"yes"})], wave="w").iloc[0]
    assert row["p_value"] < 0.05 and row["diff"] < 5 and row["flag"] == "similar"
    # 70% vs 50% on 12 pupils: 20 points but p > 0.05.
    small = pd.DataFrame(
        {"site": ["a"] * 12 + ["b"] * 400, "q": ["yes"] * 8 + ["no"] * 4 + ["yes", "no"] * 200}
    )
    row = item_summary(small, [ItemSpec("q", positive={"yes"})], wave="w").iloc[0]
    assert row["p_value"] > 0.05 and row["diff"] > 5 and row["flag"] == "similar"


def test_categorical_and_string_columns_give_the_same_table(simulate: Simulate) -> None:
    plain, items = simulate(SIZES, seed=5)
    cats, _ = simulate(SIZES, seed=5, categorical=True)
    pd.testing.assert_frame_equal(
        item_summary(plain, items, wave="w"), item_summary(cats, items, wave="w")
    )


def test_unreported_text_and_unscored_items_are_skipped(simulate: Simulate) -> None:
    responses, items = simulate(SIZES, n_items=2)
    responses["comment"] = "text"
    responses["hidden"] = "yes"
    extra = [
        ItemSpec("comment", kind="text", positive={"text"}),
        ItemSpec("hidden", positive={"yes"}, report=False),
        ItemSpec("q1_again_without_positive"),
    ]
    out = item_summary(responses, [*items, *extra], wave="w")
    assert set(out["item"]) == {"q1", "q2"}


def test_prefer_not_to_say_counts_as_missing() -> None:
    responses = pd.DataFrame(
        {"site": ["a"] * 12, "q": ["yes"] * 6 + ["no"] * 3 + ["pnts"] * 2 + [None]}
    )
    row = item_summary(
        responses, [ItemSpec("q", positive={"yes"}, missing={"pnts"})], wave="w", k=5
    ).iloc[0]
    assert (row["n"], row["n_missing"], row["n_positive"]) == (9, 3, 6)


def test_a_single_site_has_no_benchmark() -> None:
    responses = pd.DataFrame({"site": ["a"] * 30, "q": ["yes", "no", "no"] * 10})
    row = item_summary(responses, [ItemSpec("q", positive={"yes"})], wave="w").iloc[0]
    assert row["benchmark_n"] == 0 and np.isnan(row["benchmark_pct"]) and pd.isna(row["flag"])


def test_an_item_nobody_answered_at_a_site_has_n_zero_and_is_shown() -> None:
    responses = pd.DataFrame(
        {"site": ["a"] * 30 + ["b"] * 30, "q": ["yes", "no"] * 15 + [None] * 30}
    )
    out = item_summary(responses, [ItemSpec("q", positive={"yes"})], wave="w")
    row = out[out["site"] == "b"].iloc[0]
    assert row["n"] == 0 and row["n_missing"] == 30 and not row["suppressed"]
    assert np.isnan(row["pct_positive"]) and pd.isna(row["flag"])


def test_site_name_defaults_to_the_site_id() -> None:
    responses = pd.DataFrame({"site": ["a"] * 12, "q": ["yes"] * 12})
    out = summary_table(responses, [ItemSpec("q", positive={"yes"})], wave="w", level="area")
    assert out["site_name"].tolist() == ["a", "All areas"]
    assert set(out["level"]) == {"area"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"level": "county"}, "level must be 'school' or 'area'"),
        ({"k": 4}, "at least 5"),
        ({"k": 7.5}, "at least 5"),
    ],
)
def test_bad_settings(simulate: Simulate, change: dict[str, object], message: str) -> None:
    responses, items = simulate(SIZES)
    with pytest.raises(ValueError, match=message):
        item_summary(responses, items, wave="w", **change)  # type: ignore[arg-type]


def test_bad_data_is_reported(simulate: Simulate) -> None:
    responses, items = simulate(SIZES)
    with pytest.raises(AnalysisError, match="responses has no column 'nope'"):
        item_summary(responses, [ItemSpec("nope", positive={"yes"})], wave="w")
    with pytest.raises(AnalysisError, match="1 response"):
        item_summary(responses.assign(site=[None, *responses["site"][1:]]), items, wave="w")
    with pytest.raises(AnalysisError, match="reserved"):
        item_summary(responses.assign(site="ALL"), items, wave="w")
