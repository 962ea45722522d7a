"""Scale scores (75% rule, reverse scoring, SWEMWBS table) and scale summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis import scale_scores, scale_summary
from analysis.errors import AnalysisError
from analysis.scales import MIN_STD_DIFF, score_scale
from analysis.spec import SCALE_COLUMNS, SWEMWBS_TABLE, ItemSpec, ScaleSpec, swemwbs_scale

FIVE = {str(s): float(s) for s in range(1, 6)}
SW_ITEMS = [ItemSpec(f"sw{i}", scores={**FIVE, "pnts": 0}, missing={"pnts"}) for i in range(7)]
SWEMWBS = swemwbs_scale([item.name for item in SW_ITEMS])


def _frame(rows: list[list[str | None]], prefix: str = "sw") -> pd.DataFrame:
    return pd.DataFrame(
        {f"{prefix}{i}": [r[i] for r in rows] for i in range(len(rows[0]))}
        | {"site": ["a"] * len(rows)}
    )


def test_swemwbs_sum_is_converted_with_the_table() -> None:
    rows = [["1"] * 7, ["5"] * 7, ["3", "3", "3", "3", "3", "3", "4"], ["2"] * 7]
    score, answered, raw = score_scale(_frame(rows), SW_ITEMS, SWEMWBS)
    assert raw.tolist() == [7.0, 35.0, 22.0, 14.0]
    assert score.tolist() == [SWEMWBS_TABLE[7.0], 35.0, SWEMWBS_TABLE[22.0], SWEMWBS_TABLE[14.0]]
    assert answered.tolist() == [7, 7, 7, 7]


def test_swemwbs_with_one_missing_item_is_prorated_and_rounded_half_up() -> None:
    # 6 answered summing 9: 9 * 7/6 = 10.5 -> 11. Summing 25: 29.17 -> 29.
    rows = [["1", "1", "1", "2", "2", "2", None], ["5", "5", "5", "4", "3", "3", "pnts"]]
    score, answered, raw = score_scale(_frame(rows), SW_ITEMS, SWEMWBS)
    assert raw == pytest.approx([10.5, 25 * 7 / 6])
    assert score.tolist() == [SWEMWBS_TABLE[11.0], SWEMWBS_TABLE[29.0]]
    assert answered.tolist() == [6, 6]


def test_75_percent_rule() -> None:
    rows = [["3"] * 5 + [None, None], ["3"] * 6 + [None]]
    score, answered, _ = score_scale(_frame(rows), SW_ITEMS, SWEMWBS)
    assert np.isnan(score[0]) and not np.isnan(score[1])
    assert answered.tolist() == [5, 6]


def test_mean_scale_with_reverse_scoring() -> None:
    items = [
        ItemSpec("b1", scores={"no": 0, "sometimes": 1, "yes": 2}),
        ItemSpec("b2", scores={"no": 0, "sometimes": 1, "yes": 2}, reverse=True),
        ItemSpec("b3", scores={"no": 0, "sometimes": 1, "yes": 2, "dk": 9}, missing={"dk"}),
        ItemSpec("b4", scores={"no": 0, "sometimes": 1, "yes": 2}),
    ]
    scale = ScaleSpec("belonging", ("b1", "b2", "b3", "b4"))
    frame = pd.DataFrame(
        {
            "b1": ["yes", "no", "yes"],
            "b2": ["no", "yes", None],
            "b3": ["yes", "dk", "dk"],
            "b4": ["sometimes", "no", "yes"],
        }
    )
    score, answered, _ = score_scale(frame, items, scale)
    # reversed b2: (0 + 2) - score
    assert score[0] == pytest.approx((2 + 2 + 2 + 1) / 4)
    assert score[1] == pytest.approx((0 + 0 + 0) / 3)
    assert np.isnan(score[2]) and answered.tolist() == [4, 3, 2]


def test_scale_scores_long_table() -> None:
    rows = [["4"] * 7, ["2"] * 7]
    frame = _frame(rows).assign(response_id=["r1", "r2"])
    out = scale_scores(frame, SW_ITEMS, [SWEMWBS])
    assert out.columns.tolist() == [
        "response_id",
        "site",
        "scale",
        "n_items",
        "n_answered",
        "raw",
        "score",
    ]
    assert out["score"].tolist() == [SWEMWBS_TABLE[28.0], SWEMWBS_TABLE[14.0]]


def test_unknown_item_in_a_scale() -> None:
    with pytest.raises(AnalysisError, match="lists item 'zz'"):
        score_scale(_frame([["1"] * 7]), SW_ITEMS, ScaleSpec("s", ("sw0", "zz")))


def _scored_wave(seed: int = 0) -> tuple[pd.DataFrame, list[ItemSpec], list[ScaleSpec]]:
    rng = np.random.default_rng(seed)
    sizes = {"a": 140, "b": 90, "c": 200, "d": 60}
    sites = np.repeat(list(sizes), list(sizes.values()))
    lift = np.where(sites == "a", 0.8, 0.0)
    frame = {"site": sites}
    for i in range(7):
        value = np.clip(np.round(rng.normal(3.2 + lift, 1.0)), 1, 5).astype(int).astype(str)
        value = value.astype(object)
        value[rng.random(sites.size) < 0.06] = None
        frame[f"sw{i}"] = value
    belong = [ItemSpec(f"b{i}", scores={"no": 0, "yes": 1}) for i in range(4)]
    for item in belong:
        frame[item.name] = rng.choice(["no", "yes"], size=sites.size)
    scales = [SWEMWBS, ScaleSpec("belonging", tuple(i.name for i in belong))]
    return pd.DataFrame(frame), [*SW_ITEMS, *belong], scales


def test_scale_summary_matches_scipy() -> None:
    responses, items, scales = _scored_wave()
    out = scale_summary(responses, items, scales, wave="w", k=10)
    assert tuple(out.columns) == SCALE_COLUMNS
    scores = scale_scores(responses, items, scales)
    for scale in scales:
        mine = scores[scores["scale"] == scale.name]
        all_sd = mine["score"].std(ddof=1)
        for site in ["a", "b", "c", "d"]:
            row = out[(out["site"] == site) & (out["scale"] == scale.name)].iloc[0]
            x = mine.loc[mine["site"] == site, "score"].dropna().to_numpy()
            y = mine.loc[mine["site"] != site, "score"].dropna().to_numpy()
            assert row["n"] == x.size and row["benchmark_n"] == y.size
            assert row["n_missing"] == (responses["site"] == site).sum() - x.size
            assert row["mean"] == pytest.approx(x.mean(), rel=1e-12)
            assert row["sd"] == pytest.approx(x.std(ddof=1), rel=1e-9)
            assert row["benchmark_mean"] == pytest.approx(y.mean(), rel=1e-12)
            low, high = stats.t.interval(0.95, x.size - 1, loc=x.mean(), scale=stats.sem(x))
            assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), rel=1e-9)
            ref = stats.ttest_ind(x, y, equal_var=False)
            assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-7, abs=1e-300)
            assert row["std_diff"] == pytest.approx((x.mean() - y.mean()) / all_sd, rel=1e-9)
    for _, group in out[out["site"] != "ALL"].groupby("site"):
        ref = multipletests(group["p_value"], method="fdr_bh")[1]
        assert group["p_adjusted"].to_numpy() == pytest.approx(ref)


def test_scale_flags_use_p_and_a_small_standardised_effect() -> None:
    responses, items, scales = _scored_wave(seed=3)
    out = scale_summary(responses, items, scales, wave="w")
    rows = out[out["site"] != "ALL"]
    expected = np.where(
        (rows["p_value"] < 0.05) & (rows["std_diff"] >= MIN_STD_DIFF),
        "higher",
        np.where(
            (rows["p_value"] < 0.05) & (rows["std_diff"] <= -MIN_STD_DIFF), "lower", "similar"
        ),
    )
    assert rows["flag"].tolist() == expected.tolist()
    # Site a was simulated 0.8 points higher on every SWEMWBS item.
    assert rows.set_index(["site", "scale"]).loc[("a", "swemwbs"), "flag"] == "higher"
    whole = out[out["site"] == "ALL"]
    assert whole["p_value"].isna().all() and whole["n"].sum() > 0


def test_small_sites_are_suppressed_in_scale_summaries() -> None:
    responses, items, scales = _scored_wave()
    small = pd.concat([responses, responses[responses["site"] == "d"].head(6).assign(site="e")])
    out = scale_summary(small, items, scales, wave="w", k=10)
    e = out[out["site"] == "e"]
    assert e["suppressed"].all() and e["mean"].isna().all()
    # ... and one other site per scale too, or ALL minus the rest would give e.
    assert (out[out["site"] != "ALL"].groupby("scale")["suppressed"].sum() >= 2).all()
