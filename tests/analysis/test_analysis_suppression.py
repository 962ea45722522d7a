"""Suppression: primary, secondary, the pack threshold, display; properties with hypothesis."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simwave import naive_counts, simulate_wave

from analysis import apply_suppression, item_breakdowns, item_summary
from analysis.errors import AnalysisError
from analysis.items import summary_table
from analysis.spec import ID_COLUMNS, ItemSpec
from analysis.suppression import (
    MAX_K,
    MIN_K,
    SUPPRESSED_MARKER,
    display_value,
    format_for_display,
    pack_eligibility,
    site_gets_pack,
)


def _breakdown(ns: list[int], k_site: str = "s1") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "wave": "w",
            "site": k_site,
            "item": "q",
            "group_var": "year_group",
            "group_value": [f"Y{i}" for i in range(len(ns))],
            "n": pd.array(ns, dtype="Int64"),
            "n_positive": pd.array([n // 2 for n in ns], dtype="Int64"),
            "pct_positive": [50.0] * len(ns),
            "flag": "similar",
        }
    )


@pytest.mark.parametrize("k", [4, 0, -10, 4.0, True, "10"])
def test_k_below_five_or_not_whole_is_refused(k: object) -> None:
    with pytest.raises(ValueError, match="at least 5"):
        apply_suppression(_breakdown([20]), k=k)  # type: ignore[arg-type]


@pytest.mark.parametrize("k", [5, 10, 15, np.int64(8)])
def test_primary_suppression(k: int) -> None:
    ns = [0, 1, int(k) - 1, int(k), 40]
    out = apply_suppression(_breakdown(ns), k=k, across_sites=False)
    hidden = out["suppressed"].tolist()
    assert hidden[:5] == [False, True, True, False, False]
    for column in ("n", "n_positive", "pct_positive", "flag"):
        assert out.loc[hidden, column].isna().all()
    # identifying columns are kept
    assert out["group_value"].tolist() == ["Y0", "Y1", "Y2", "Y3", "Y4"]
    assert out.loc[0, "n"] == 0  # nobody: nothing to protect


def test_secondary_hides_the_next_smallest_cell() -> None:
    out = apply_suppression(_breakdown([3, 0, 45, 12, 30]), k=10)
    assert out["suppressed"].tolist() == [True, False, False, True, False]


def test_two_primary_cells_need_no_secondary() -> None:
    out = apply_suppression(_breakdown([3, 4, 45, 12, 30]), k=10)
    assert out["suppressed"].tolist() == [True, True, False, False, False]


def test_secondary_across_sites() -> None:
    table = pd.DataFrame(
        {
            "site": ["a", "b", "c", "d", "ALL"],
            "item": "q",
            "n": [8, 50, 20, 30, 108],
            "pct_positive": [50.0, 60.0, 55.0, 40.0, 52.0],
        }
    )
    out = apply_suppression(table, k=10)
    assert out["suppressed"].tolist() == [True, False, True, False, False]
    only_within = apply_suppression(table, k=10, across_sites=False)
    assert only_within["suppressed"].tolist() == [True, False, False, False, False]


def test_suppression_is_idempotent() -> None:
    once = apply_suppression(_breakdown([3, 0, 45, 12, 30]), k=10)
    twice = apply_suppression(once, k=10)
    pd.testing.assert_frame_equal(once, twice)


def test_custom_count_columns_and_missing_ones() -> None:
    table = pd.DataFrame(
        {
            "site": ["a", "b"],
            "theme": "x",
            "n_answered": [40, 6],
            "n_respondents": [3, 2],
            "pct": [7.5, 33.3],
        }
    )
    out = apply_suppression(
        table, k=5, count_cols=("n_respondents", "n_answered"), across_sites=False
    )
    assert out["suppressed"].tolist() == [True, True]
    with pytest.raises(AnalysisError, match="no column 'n'"):
        apply_suppression(table, k=5)


def test_values_are_emptied_whatever_their_dtype() -> None:
    table = pd.DataFrame(
        {
            "site": ["a", "b"],
            "item": "q",
            "n": [3, 40],
            "mean": [1.0, 2.0],
            "flag": ["higher", "lower"],
            "ok": [True, False],
        }
    )
    out = apply_suppression(table, k=10, across_sites=False)
    assert str(out["n"].dtype) == "Int64" and out["n"].isna().tolist() == [True, False]
    assert out["ok"].isna().tolist() == [True, False]
    assert out["flag"].isna().tolist() == [True, False]


def test_csv_keeps_empty_cells_and_suppressed_true() -> None:
    out = apply_suppression(_breakdown([3, 0, 45, 12, 30]), k=10)
    text = out.to_csv(index=False)
    back = pd.read_csv(io.StringIO(text), keep_default_na=False, dtype=str)
    assert back.loc[0, "n"] == "" and back.loc[0, "pct_positive"] == ""
    assert back.loc[0, "suppressed"] == "True" and back.loc[0, "group_value"] == "Y0"
    assert SUPPRESSED_MARKER not in text


def test_display_shows_the_marker() -> None:
    out = apply_suppression(_breakdown([3, 0, 45, 12, 30]), k=10)
    shown = format_for_display(out)
    assert shown.loc[0, "n"] == "[c]" and shown.loc[0, "pct_positive"] == "[c]"
    assert shown.loc[0, "group_value"] == "Y0"
    assert shown.loc[2, "n"] == "45" and shown.loc[2, "pct_positive"] == "50"
    assert format_for_display(out, digits=1).loc[2, "pct_positive"] == "50.0"
    assert display_value(0.0123, digits=3) == "0.012"
    assert display_value(np.True_) == "yes" and display_value("lower") == "lower"


@pytest.mark.parametrize(("n", "pack"), [(0, False), (19, False), (20, True), (400, True)])
def test_pack_threshold(n: int, pack: bool) -> None:
    assert site_gets_pack(n) is pack


def test_pack_eligibility_table() -> None:
    responses = pd.DataFrame({"site": ["b"] * 19 + ["a"] * 20})
    out = pack_eligibility(responses)
    assert out.to_dict("list") == {
        "site": ["a", "b"],
        "site_name": ["a", "b"],
        "n_responses": [20, 19],
        "gets_pack": [True, False],
    }
    assert pack_eligibility(responses, min_responses=10)["gets_pack"].all()


# --- properties -----------------------------------------------------------------------

_sizes = st.lists(st.integers(1, 45), min_size=1, max_size=6)


def _random_wave(sizes: list[int], seed: int) -> tuple[pd.DataFrame, list[ItemSpec]]:
    responses, items = simulate_wave(
        {f"s{i}": n for i, n in enumerate(sizes)},
        n_items=2,
        seed=seed,
        skip_rate=0.3,
        pnts_rate=0.1,
        group_missing=0.1,
    )
    return responses, items


def _values(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in ID_COLUMNS and c != "suppressed"]


def _assert_no_lone_hidden_cell(
    true_n: pd.Series, hidden: pd.Series, keys: list[str], total_shown: pd.Series
) -> None:
    """Shown total - shown cells = one hidden cell would reveal it: never allowed.

    ``total_shown`` says, per partition (indexed by ``keys``), whether its total is
    published. n_positive has the same partitions, so this covers it too.
    """
    frame = pd.DataFrame({"n": true_n, "hidden": hidden}).reset_index()
    lone = frame[frame["hidden"] & (frame["n"] > 0)].groupby(keys).size()
    lone = lone[lone == 1]
    revealed = [key for key in lone.index if total_shown.get(key, True)]
    assert not revealed, revealed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=_sizes, seed=st.integers(0, 2**32 - 1), k=st.integers(MIN_K, MAX_K))
def test_item_summary_never_shows_a_small_cell_nor_lets_one_be_worked_out(
    sizes: list[int], seed: int, k: int
) -> None:
    responses, items = _random_wave(sizes, seed)
    out = item_summary(responses, items, wave="w", k=k)
    truth = summary_table(responses, items, wave="w").set_index(["site", "item"])
    out = out.set_index(["site", "item"])
    for item in items:  # the reference counts agree with a naive count
        naive = naive_counts(responses, item).set_index("site")["n"]
        assert truth.xs(item.name, level="item")["n"].drop("ALL").astype(int).to_dict() == (
            naive.to_dict()
        )
    small = (truth["n"] > 0) & (truth["n"] < k)
    assert out.loc[small, "suppressed"].all()
    hidden = out["suppressed"]
    assert out.loc[hidden, _values(out)].isna().all().all()
    assert ((out.loc[~hidden, "n"] >= k) | (out.loc[~hidden, "n"] == 0)).all()
    # Sites of one item add up to the ALL row (and each site's benchmark reveals it).
    sites = truth.drop(index="ALL", level="site")
    all_shown = ~out.xs("ALL", level="site")["suppressed"]
    _assert_no_lone_hidden_cell(
        sites["n"], hidden.drop(index="ALL", level="site"), ["item"], all_shown
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=_sizes, seed=st.integers(0, 2**32 - 1), k=st.integers(MIN_K, MAX_K))
def test_breakdowns_never_show_a_small_cell_nor_let_one_be_worked_out(
    sizes: list[int], seed: int, k: int
) -> None:
    responses, items = _random_wave(sizes, seed)
    out = item_breakdowns(responses, items, wave="w", by=["year_group", "gender"], k=k)
    out = out.set_index(["site", "item", "group_var", "group_value"])
    rows = []
    for item in items:
        for var in ("year_group", "gender"):
            grouped = responses.assign(_g=responses[var].astype(object).fillna("not stated"))
            counts = naive_counts(grouped, item, by=("site", "_g"))
            whole = naive_counts(grouped, item, by=("_g",)).assign(site="ALL")
            rows.append(
                pd.concat([counts, whole])
                .rename(columns={"_g": "group_value"})
                .assign(item=item.name, group_var=var)
            )
    truth = pd.concat(rows).set_index(["site", "item", "group_var", "group_value"])
    assert sorted(truth.index) == sorted(out.index)
    truth = truth.loc[out.index]
    small = (truth["n"] > 0) & (truth["n"] < k)
    assert out.loc[small, "suppressed"].all()
    hidden = out["suppressed"]
    assert out.loc[hidden, _values(out)].isna().all().all()
    # The group values of a breakdown add up to the site's total (shown in the summary):
    # n and n_positive of a hidden cell must not be total minus the shown cells.
    summary = item_summary(responses, items, wave="w", k=k).set_index(["site", "item"])
    site_shown = {
        (site, item, var): not summary.loc[(site, item), "suppressed"]
        for site, item in summary.index
        for var in ("year_group", "gender")
    }
    _assert_no_lone_hidden_cell(
        truth["n"], hidden, ["site", "item", "group_var"], pd.Series(site_shown)
    )
    # The same group across sites adds up to the whole-wave group.
    not_all = truth.index.get_level_values("site") != "ALL"
    group_shown = ~out.xs("ALL", level="site")["suppressed"]
    _assert_no_lone_hidden_cell(
        truth.loc[not_all, "n"],
        hidden[not_all],
        ["item", "group_var", "group_value"],
        group_shown,
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    extra=st.lists(st.integers(0, 35), min_size=1, max_size=6),
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(MIN_K, MAX_K),
)
def test_breakdown_cells_cannot_be_solved_for_from_all_margins_together(
    extra: list[int], seed: int, k: int
) -> None:
    """Exact check: no hidden cell follows from every published total at once.

    Sites have at least k respondents here. (With sites smaller than k a breakdown can
    be fully hidden while the summary still publishes totals that pin down a
    whole-wave cell; see docs/analysis.md, "What suppression does not cover".)
    """
    responses, items = _random_wave([k + e for e in extra], seed)
    out = item_breakdowns(responses, items, wave="w", by=["year_group", "gender"], k=k)
    summary = item_summary(responses, items, wave="w", k=k).set_index(["site", "item"])
    for (item, var), cells in out.groupby(["item", "group_var"]):
        table = cells[["site", "group_value", "suppressed"]].reset_index(drop=True)
        grouped = responses.assign(_g=responses[var].astype(object).fillna("not stated"))
        spec = next(i for i in items if i.name == item)
        counts = pd.concat(
            [
                naive_counts(grouped, spec, by=("site", "_g")),
                naive_counts(grouped, spec, by=("_g",)).assign(site="ALL"),
            ]
        ).set_index(["site", "_g"])["n"]
        table["n"] = [
            counts[(s, g)] for s, g in zip(table["site"], table["group_value"], strict=True)
        ]
        shown = {s: not summary.loc[(s, item), "suppressed"] for s in table["site"]}
        assert not _solvable_hidden_cells(table, shown), (item, var, table)


def _solvable_hidden_cells(table: pd.DataFrame, total_shown: dict[str, bool]) -> list[int]:
    """Hidden non-zero cells a reader can compute from every published equation.

    Unknowns are the hidden cells (the whole-wave row's cells included). Equations:
    each site's cells add up to its total (when the summary shows it), each group's
    site cells add up to the whole-wave cell of that group, and the whole-wave cells
    add up to the whole-wave total (when shown). A cell is determined exactly when its
    unit vector lies in the row space of the equations.
    """
    unknown = table.index[table["suppressed"]].tolist()
    if not unknown:
        return []
    position = {row: j for j, row in enumerate(unknown)}
    equations = []
    for site, cells in table.groupby("site"):
        if total_shown.get(str(site), True):
            eq = np.zeros(len(unknown))
            for row in cells.index:
                if row in position:
                    eq[position[row]] = 1
            equations.append(eq)
    for _, cells in table.groupby("group_value"):
        eq = np.zeros(len(unknown))
        for row, site in cells["site"].items():
            if row in position:
                eq[position[row]] = -1 if site == "ALL" else 1
        equations.append(eq)
    a = np.array(equations)
    rank = np.linalg.matrix_rank(a)
    solvable = []
    for row, j in position.items():
        unit = np.zeros(len(unknown))
        unit[j] = 1
        if table.loc[row, "n"] > 0 and np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            solvable.append(row)
    return solvable
