"""Statistics against statsmodels, scipy and hand-worked values."""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from analysis.stats import (
    Z_95,
    benjamini_hochberg,
    classify_difference,
    effective_n,
    kish_design_effect,
    t_interval,
    two_proportion_ztest,
    welch_ttest,
    wilson_interval,
)

REFERENCE = Path(__file__).parent / "reference"


def _rows(name: str) -> list[dict[str, str]]:
    with (REFERENCE / name).open(newline="") as fh:
        return list(csv.DictReader(fh))


VALUES = json.loads((REFERENCE / "reference_values.json").read_text())
HAND = json.loads((REFERENCE / "hand_worked.json").read_text())


def test_z_95_is_the_normal_quantile() -> None:
    assert Z_95 == pytest.approx(stats.norm.ppf(0.975), abs=1e-15)


@pytest.mark.parametrize("row", _rows("wilson.csv"), ids=lambda r: f"{r['count']}/{r['nobs']}")
def test_wilson_matches_recorded_statsmodels(row: dict[str, str]) -> None:
    low, high = wilson_interval(int(row["count"]), int(row["nobs"]))
    assert float(low) == pytest.approx(float(row["low"]), abs=1e-12)
    assert float(high) == pytest.approx(float(row["high"]), abs=1e-12)


@given(nobs=st.integers(1, 5000), share=st.floats(0, 1))
def test_wilson_matches_statsmodels(nobs: int, share: float) -> None:
    count = round(share * nobs)
    low, high = wilson_interval(count, nobs)
    ref_low, ref_high = proportion_confint(count, nobs, alpha=0.05, method="wilson")
    assert float(low) == pytest.approx(max(ref_low, 0.0), abs=1e-12)
    assert float(high) == pytest.approx(min(ref_high, 1.0), abs=1e-12)


@given(n_eff=st.floats(1.5, 3000), share=st.floats(0, 1))
def test_wilson_on_a_fractional_effective_n_matches_statsmodels(n_eff: float, share: float) -> None:
    low, high = wilson_interval(share * n_eff, n_eff)
    ref_low, ref_high = proportion_confint(share * n_eff, n_eff, alpha=0.05, method="wilson")
    assert float(low) == pytest.approx(max(ref_low, 0.0), abs=1e-12)
    assert float(high) == pytest.approx(min(ref_high, 1.0), abs=1e-12)


def test_wilson_is_vectorised_and_empty_cells_are_nan() -> None:
    low, high = wilson_interval([0, 5, 0], [10, 10, 0])
    assert low.shape == (3,)
    assert np.isnan(low[2]) and np.isnan(high[2])
    assert low[0] == 0.0 and 0 < high[0] < 1


@pytest.mark.parametrize(
    "row",
    _rows("ztest.csv"),
    ids=lambda r: f"{r['count1']}/{r['nobs1']}-{r['count2']}/{r['nobs2']}",
)
def test_ztest_matches_recorded_statsmodels(row: dict[str, str]) -> None:
    z, p = two_proportion_ztest(
        int(row["count1"]), int(row["nobs1"]), int(row["count2"]), int(row["nobs2"])
    )
    assert float(z) == pytest.approx(float(row["z"]), abs=1e-10)
    assert float(p) == pytest.approx(float(row["p_value"]), abs=1e-12)


@given(
    n1=st.integers(1, 400),
    n2=st.integers(1, 5000),
    s1=st.floats(0, 1),
    s2=st.floats(0, 1),
)
def test_ztest_matches_statsmodels(n1: int, n2: int, s1: float, s2: float) -> None:
    x1, x2 = round(s1 * n1), round(s2 * n2)
    assume(0 < x1 + x2 < n1 + n2)
    z, p = two_proportion_ztest(x1, n1, x2, n2)
    ref_z, ref_p = proportions_ztest([x1, x2], [n1, n2])
    assert float(z) == pytest.approx(float(ref_z), rel=1e-9, abs=1e-9)
    assert float(p) == pytest.approx(float(ref_p), rel=1e-9, abs=1e-12)


def test_ztest_is_the_chi_square_without_continuity_correction() -> None:
    z, p = two_proportion_ztest(30, 50, 120, 300)
    chi2, chi_p, _, _ = stats.chi2_contingency([[30, 20], [120, 180]], correction=False)
    assert float(z) ** 2 == pytest.approx(chi2, rel=1e-12)
    assert float(p) == pytest.approx(chi_p, rel=1e-12)


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "p"),
    [(0, 10, 0, 90, 1.0), (10, 10, 90, 90, 1.0)],
    ids=["all-negative", "all-positive"],
)
def test_ztest_degenerate_identical_groups_give_p_one(
    x1: int, n1: int, x2: int, n2: int, p: float
) -> None:
    z, pv = two_proportion_ztest(x1, n1, x2, n2)
    assert float(z) == 0.0 and float(pv) == p


def test_ztest_empty_group_is_nan() -> None:
    z, p = two_proportion_ztest([0, 5], [0, 10], [3, 0], [10, 0])
    assert np.isnan(z).all() and np.isnan(p).all()


def test_bh_matches_recorded_statsmodels() -> None:
    ref = VALUES["benjamini_hochberg"]
    assert benjamini_hochberg(ref["p"]) == pytest.approx(ref["p_adjusted"], abs=1e-15)


@given(st.lists(st.floats(0, 1), min_size=1, max_size=60))
def test_bh_matches_statsmodels(p: list[float]) -> None:
    ref = multipletests(p, method="fdr_bh")[1]
    assert benjamini_hochberg(p) == pytest.approx(ref, abs=1e-12)


@given(st.lists(st.one_of(st.floats(0, 1), st.just(float("nan"))), min_size=1, max_size=40))
def test_bh_leaves_nan_out_of_the_family(p: list[float]) -> None:
    values = np.array(p)
    got = benjamini_hochberg(values)
    known = ~np.isnan(values)
    assert np.isnan(got[~known]).all()
    if known.any():
        ref = multipletests(values[known], method="fdr_bh")[1]
        assert got[known] == pytest.approx(ref, abs=1e-12)


def test_bh_adjusts_each_row_separately() -> None:
    grid = np.array([[0.01, 0.02, 0.03, 0.5], [0.04, 0.001, np.nan, 0.2]])
    got = benjamini_hochberg(grid, axis=1)
    for row, out in zip(grid, got, strict=True):
        known = ~np.isnan(row)
        assert out[known] == pytest.approx(multipletests(row[known], method="fdr_bh")[1])
    assert benjamini_hochberg(grid.T, axis=0) == pytest.approx(got.T, nan_ok=True)


def test_welch_matches_recorded_scipy() -> None:
    ref = VALUES["welch"]
    a, b = np.array(ref["a"]), np.array(ref["b"])
    t, df, p = welch_ttest(a.mean(), a.var(ddof=1), a.size, b.mean(), b.var(ddof=1), b.size)
    assert float(t) == pytest.approx(ref["t"], rel=1e-10)
    assert float(df) == pytest.approx(ref["df"], rel=1e-10)
    assert float(p) == pytest.approx(ref["p_value"], rel=1e-9)


@settings(max_examples=60)
@given(
    a=st.lists(st.floats(0, 35, allow_subnormal=False), min_size=2, max_size=40),
    b=st.lists(st.floats(0, 35, allow_subnormal=False), min_size=2, max_size=200),
)
def test_welch_matches_scipy(a: list[float], b: list[float]) -> None:
    x, y = np.array(a), np.array(b)
    assume(x.var(ddof=1) > 1e-6 and y.var(ddof=1) > 1e-6)
    t, df, p = welch_ttest(x.mean(), x.var(ddof=1), x.size, y.mean(), y.var(ddof=1), y.size)
    ref = stats.ttest_ind(x, y, equal_var=False)
    assert float(t) == pytest.approx(float(ref.statistic), rel=1e-8, abs=1e-9)
    assert float(df) == pytest.approx(float(ref.df), rel=1e-8)
    assert float(p) == pytest.approx(float(ref.pvalue), rel=1e-7, abs=1e-12)


def test_welch_edge_cases() -> None:
    _, _, p = welch_ttest(
        [5, 5, 5, 3], [0, 0, 1, 1], [1, 10, 10, 10], [4, 4, 4, 3], [1, 0, 1, 1], [10, 10, 10, 10]
    )
    assert np.isnan(p[0])  # one respondent: no variance
    assert p[1] == 0.0  # both constant, different means
    assert np.isfinite(p[2]) and np.isfinite(p[3])
    _, _, same = welch_ttest(4.0, 0.0, 5, 4.0, 0.0, 9)
    assert float(same) == 1.0


def test_t_interval_matches_scipy() -> None:
    low, high = t_interval(21.3, 4.4, 37)
    ref = stats.t.interval(0.95, df=36, loc=21.3, scale=4.4 / np.sqrt(37))
    assert (float(low), float(high)) == pytest.approx(ref, rel=1e-12)
    nan_low, _ = t_interval(3.0, 0.0, 1)
    assert np.isnan(nan_low)


def test_design_effect_hand_worked() -> None:
    ref = HAND["design_effect"]
    assert kish_design_effect(ref["weights"]) == pytest.approx(ref["design_effect"], rel=1e-15)
    assert effective_n(ref["weights"]) == pytest.approx(ref["effective_n"], rel=1e-15)


@given(st.lists(st.floats(0.01, 50), min_size=1, max_size=100))
def test_design_effect_is_one_plus_cv_squared(weights: list[float]) -> None:
    w = np.array(weights)
    cv2 = w.var(ddof=0) / w.mean() ** 2
    assert kish_design_effect(w) == pytest.approx(1 + cv2, rel=1e-9)
    assert effective_n(w) == pytest.approx(w.size / (1 + cv2), rel=1e-9)


def test_design_effect_of_equal_weights_is_one_and_empty_is_nan() -> None:
    assert kish_design_effect([2.0] * 7) == pytest.approx(1.0)
    assert np.isnan(kish_design_effect([])) and np.isnan(effective_n([]))


@pytest.mark.parametrize(
    ("diff", "p", "flag"),
    [
        (5.0, 0.049, "higher"),
        (-5.0, 0.049, "lower"),
        (4.9999999999999, 0.01, "higher"),  # 5 points computed with rounding error
        (4.99, 0.001, "similar"),  # significant but too small to matter
        (12.0, 0.05, "similar"),  # big but not significant (p < 0.05 is strict)
        (-30.0, 0.2, "similar"),
        (float("nan"), 0.01, None),
        (6.0, float("nan"), None),
    ],
)
def test_flag_rule(diff: float, p: float, flag: str | None) -> None:
    assert classify_difference([diff], [p])[0] == flag


def test_flag_rule_labels_are_configurable() -> None:
    got = classify_difference([6, -6], [0.01, 0.01], labels=("improved", "declined", "similar"))
    assert got.tolist() == ["improved", "declined"]


def test_reference_script_reproduces_the_recorded_files(tmp_path: Path) -> None:
    """The recorded numbers are what the script in reference/ prints today."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_reference", REFERENCE / "make_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' 0/0 for two equal proportions
        spec.loader.exec_module(module)
        module.HERE = tmp_path
        module.main()
    for name in ("wilson.csv", "ztest.csv", "reference_values.json"):
        assert (tmp_path / name).read_text() == (REFERENCE / name).read_text()
