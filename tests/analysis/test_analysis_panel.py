"""Paired change within linked pupils, checked against statsmodels and scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar

from analysis.panel import PANEL_COLUMNS, mcnemar_exact, paired_changes, wilcoxon_signed_rank
from analysis.spec import ItemSpec

AGREE = ("strongly_agree", "agree", "not_sure", "disagree", "strongly_disagree")
SCORES = {"strongly_agree": 5, "agree": 4, "not_sure": 3, "disagree": 2, "strongly_disagree": 1}
BELONG = ItemSpec("belong", domain="belonging", positive={"agree", "strongly_agree"}, scores=SCORES)
LEFT_OUT = ItemSpec(
    "left_out",
    domain="belonging",
    positive={"disagree", "strongly_disagree"},
    scores=SCORES,
    reverse=True,
)
ADULT = ItemSpec(
    "adult",
    domain="relationships",
    positive={"yes"},
    missing={"pnts"},
    scores={"yes": 3, "not_sure": 2, "no": 1},
)


def synthetic_panel(seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three schools of linked pupils; 'belong' and 'adult' rise within pupils (planted)."""
    rng = np.random.default_rng(seed)
    n = 600
    site = rng.choice(["S1", "S2", "S3"], size=n, p=[0.5, 0.4, 0.1])
    belong_before = rng.choice(AGREE, size=n, p=[0.15, 0.3, 0.25, 0.2, 0.1])
    up = rng.random(n) < 0.4
    index = np.array([AGREE.index(v) for v in belong_before])
    belong_after = np.where(up, np.array(AGREE)[np.maximum(index - 1, 0)], belong_before)
    left_before = rng.choice(AGREE, size=n)
    left_after = rng.choice(AGREE, size=n)
    adult_before = rng.choice(["yes", "not_sure", "no", "pnts"], size=n, p=[0.5, 0.2, 0.2, 0.1])
    adult_after = np.where(
        (adult_before != "yes") & (adult_before != "pnts") & (rng.random(n) < 0.5),
        "yes",
        adult_before,
    )
    skipped = rng.random(n) < 0.05
    belong_after = np.where(skipped, None, belong_after)
    before = pd.DataFrame({"belong": belong_before, "left_out": left_before, "adult": adult_before})
    after = pd.DataFrame(
        {"site": site, "belong": belong_after, "left_out": left_after, "adult": adult_after}
    )
    for frame in (before, after):
        for column in ("belong", "left_out"):
            frame[column] = pd.Categorical(frame[column], categories=AGREE)
    return before, after


def reference(item: ItemSpec, before: pd.Series, after: pd.Series) -> dict[str, float]:
    """The same figures from statsmodels (McNemar) and scipy (Wilcoxon)."""
    b = before.astype(object)
    a = after.astype(object)
    ok = b.notna() & a.notna() & ~b.isin(item.missing) & ~a.isin(item.missing)
    pb, pa = b[ok].isin(item.positive), a[ok].isin(item.positive)
    table = pd.crosstab(pb, pa).reindex(index=[True, False], columns=[True, False], fill_value=0)
    scores = {k: v for k, v in item.scores.items() if k not in item.missing}
    if item.reverse:
        scores = {k: 6 - v for k, v in scores.items()}
    sb, sa = b[ok].map(scores).astype(float), a[ok].map(scores).astype(float)
    diff = (sa - sb).to_numpy()
    return {
        "n_pairs": int(ok.sum()),
        "pct_before": 100 * pb.mean(),
        "pct_after": 100 * pa.mean(),
        "p_value": mcnemar(table.to_numpy(), exact=True).pvalue,
        "score_before": sb.mean(),
        "score_after": sa.mean(),
        "score_p_value": stats.wilcoxon(
            diff, zero_method="wilcox", correction=False, method="approx"
        ).pvalue,
    }


def test_paired_changes_match_statsmodels_and_scipy_for_every_site_and_item() -> None:
    before, after = synthetic_panel()
    out = paired_changes(
        before, after, [BELONG, LEFT_OUT, ADULT], wave="2027", previous_wave="2026", k=10
    )
    assert tuple(out.columns) == PANEL_COLUMNS
    checked = 0
    for site in ("ALL", "S1", "S2", "S3"):
        rows = np.arange(len(after)) if site == "ALL" else np.flatnonzero(after["site"] == site)
        for item in (BELONG, LEFT_OUT, ADULT):
            got = out[(out["site"] == site) & (out["item"] == item.name)].iloc[0]
            want = reference(item, before[item.name].iloc[rows], after[item.name].iloc[rows])
            assert not got["suppressed"]
            for column, value in want.items():
                assert float(got[column]) == pytest.approx(value, rel=1e-9, abs=1e-12), (
                    site,
                    item.name,
                    column,
                )
            checked += 1
    assert checked == 12


def test_planted_change_is_found_and_unplanted_is_not() -> None:
    before, after = synthetic_panel()
    out = paired_changes(before, after, [BELONG, LEFT_OUT, ADULT], wave="b", previous_wave="a")
    whole = out[out["site"] == "ALL"].set_index("item")
    assert whole.loc["belong", "flag"] == "improved"
    assert 6 < whole.loc["belong", "change"] < 14  # planted: 40% of the 25% not sure
    assert whole.loc["adult", "flag"] == "improved"
    assert whole.loc["left_out", "flag"] == "similar"
    assert whole.loc["left_out", "p_value"] > 0.05


def test_fewer_pairs_than_k_are_suppressed_with_identifiers_kept() -> None:
    before, after = synthetic_panel()
    after.loc[after.index[:5], "site"] = "TINY"
    out = paired_changes(before, after, [BELONG], wave="b", previous_wave="a", k=10)
    tiny = out[out["site"] == "TINY"].iloc[0]
    assert tiny["suppressed"]
    assert tiny["item"] == "belong" and tiny["wave"] == "b"
    assert all(pd.isna(tiny[c]) for c in ("n_pairs", "pct_before", "pct_after", "p_value", "flag"))
    # The smallest other school is hidden too, so the tiny one cannot be worked out.
    assert out[out["site"] != "ALL"]["suppressed"].sum() == 2


def test_k_below_five_is_refused() -> None:
    before, after = synthetic_panel()
    with pytest.raises(ValueError, match="at least 5"):
        paired_changes(before, after, [BELONG], wave="b", previous_wave="a", k=3)


def test_frames_of_different_lengths_are_refused() -> None:
    before, after = synthetic_panel()
    with pytest.raises(ValueError, match="one row per pair"):
        paired_changes(before.iloc[:10], after, [BELONG], wave="b", previous_wave="a")


@pytest.mark.parametrize("b,c", [(0, 0), (3, 0), (7, 2), (12, 30), (40, 41)])
def test_mcnemar_exact_matches_statsmodels(b: int, c: int) -> None:
    want = mcnemar([[20, b], [c, 15]], exact=True).pvalue
    assert mcnemar_exact(b, c) == pytest.approx(want, rel=1e-12)


def test_wilcoxon_matches_scipy_with_ties_and_zeros() -> None:
    rng = np.random.default_rng(3)
    diff = rng.integers(-2, 4, size=80)
    want = stats.wilcoxon(diff, zero_method="wilcox", correction=False, method="approx").pvalue
    assert wilcoxon_signed_rank(diff) == pytest.approx(want, rel=1e-12)
    assert np.isnan(wilcoxon_signed_rank([0, 0, 0]))
