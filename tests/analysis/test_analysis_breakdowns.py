"""Breakdowns by year group, gender and extra grouping columns."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportions_ztest

from analysis import item_breakdowns
from analysis.breakdowns import grouping_columns
from analysis.errors import AnalysisError
from analysis.spec import BREAKDOWN_COLUMNS, NOT_STATED, ItemSpec

Simulate = Callable[..., tuple[pd.DataFrame, list[ItemSpec]]]
Naive = Callable[..., pd.DataFrame]

BIG = {"s1": 900, "s2": 700, "s3": 800}


def test_columns_and_groupings(simulate: Simulate) -> None:
    responses, items = simulate(BIG, n_items=2)
    out = item_breakdowns(responses, items, wave="w")
    assert tuple(out.columns) == BREAKDOWN_COLUMNS
    assert list(dict.fromkeys(out["group_var"])) == ["year_group", "gender", "fsm"]
    years = out.loc[
        (out["site"] == "s1") & (out["item"] == "q1") & (out["group_var"] == "year_group"),
        "group_value",
    ]
    assert years.tolist() == ["Year 7", "Year 8", "Year 9", "Year 10", "Year 11", NOT_STATED]


def test_cells_match_a_naive_count_and_add_up_to_the_site(simulate: Simulate, naive: Naive) -> None:
    responses, items = simulate(BIG, n_items=2, seed=4)
    out = item_breakdowns(responses, items, wave="w", by=["gender"], k=5)
    assert not out["suppressed"].any()
    grouped = responses.assign(gender=responses["gender"].astype(object).fillna(NOT_STATED))
    for item in items:
        counts = naive(grouped, item, by=("site", "gender")).set_index(["site", "gender"])
        rows = out[out["item"] == item.name].set_index(["site", "group_value"])
        for (site, gender), row in counts.iterrows():
            got = rows.loc[(site, gender)]
            assert (got["n"], got["n_positive"]) == (row["n"], row["n_positive"])
            assert got["n_missing"] == row["respondents"] - row["n"]
        site_totals = naive(responses, item).set_index("site")["n"]
        per_site = rows.drop(index="ALL", level="site")["n"].groupby(level="site").sum()
        assert per_site.to_dict() == site_totals.to_dict()


def test_benchmark_is_the_same_group_at_other_sites(simulate: Simulate, naive: Naive) -> None:
    responses, items = simulate(BIG, n_items=1, seed=8, effects={"s2": 0.4})
    item = items[0]
    out = item_breakdowns(responses, items, wave="w", by=["fsm"], k=5)
    counts = naive(responses, item, by=("site", "fsm")).set_index(["site", "fsm"])
    row = out[(out["site"] == "s2") & (out["group_value"] == "yes")].iloc[0]
    others = counts.loc[[("s1", "yes"), ("s3", "yes")]]
    assert row["benchmark_n"] == others["n"].sum()
    assert row["benchmark_pct"] == pytest.approx(
        100 * others["n_positive"].sum() / others["n"].sum()
    )
    _, p = proportions_ztest(
        [row["n_positive"], others["n_positive"].sum()], [row["n"], others["n"].sum()]
    )
    assert row["p_value"] == pytest.approx(p)
    whole = out[(out["site"] == "ALL") & (out["group_value"] == "yes")].iloc[0]
    assert whole["n"] == counts.xs("yes", level="fsm")["n"].sum()
    assert pd.isna(whole["benchmark_n"])


def test_grouping_columns_are_detected() -> None:
    frame = pd.DataFrame(
        columns=[
            "response_id",
            "site",
            "site_name",
            "area",
            "weight",
            "gender",
            "send",
            "year_group",
            "q1",
            "q2",
        ]
    )
    items = [ItemSpec("q1", positive={"y"}), ItemSpec("q2", kind="text")]
    assert grouping_columns(frame, items) == ["year_group", "gender", "send"]


def test_categorical_groups_keep_their_order_and_unknowns_are_not_stated() -> None:
    responses = pd.DataFrame(
        {
            "site": ["a"] * 40,
            "band": pd.Categorical(
                ["high", "low", None, "mid"] * 10, categories=["low", "mid", "high"]
            ),
            "q": ["yes", "no"] * 20,
        }
    )
    out = item_breakdowns(responses, [ItemSpec("q", positive={"yes"})], wave="w", by=["band"], k=5)
    site_rows = out[out["site"] == "a"]
    assert site_rows["group_value"].tolist() == ["low", "mid", "high", NOT_STATED]
    assert site_rows["n"].tolist() == [10, 10, 10, 10]


def test_small_groups_are_suppressed_with_a_complement() -> None:
    responses = pd.DataFrame(
        {
            "site": ["a"] * 43 + ["b"] * 50,
            "gender": ["girl"] * 20 + ["boy"] * 20 + ["other"] * 3 + ["girl", "boy"] * 25,
            "q": ["yes", "no"] * 46 + ["yes"],
        }
    )
    out = item_breakdowns(responses, [ItemSpec("q", positive={"yes"})], wave="w")
    a = out[out["site"] == "a"].set_index("group_value")
    assert a.loc["other", "suppressed"]
    assert a["suppressed"].sum() >= 2  # the 3 "other" pupils cannot be worked out
    assert a.loc[a["suppressed"], "n"].isna().all()


def test_unknown_grouping_column_and_no_groupings() -> None:
    responses = pd.DataFrame({"site": ["a"] * 12, "q": ["yes"] * 12})
    item = ItemSpec("q", positive={"yes"})
    with pytest.raises(AnalysisError, match="no column 'fsm'"):
        item_breakdowns(responses, [item], wave="w", by=["fsm"])
    empty = item_breakdowns(responses, [item], wave="w")
    assert empty.empty and tuple(empty.columns) == BREAKDOWN_COLUMNS
