"""Raking against a hand-worked example and a plain second implementation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import kish_design_effect, rake
from analysis.errors import AnalysisError

HAND = json.loads((Path(__file__).parent / "reference" / "hand_worked.json").read_text())


def _margins(**variables: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"variable": var, "category": cat, "proportion": share}
            for var, shares in variables.items()
            for cat, share in shares.items()
        ]
    )


def _residents(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "site": rng.choice(["n1", "n2", "n3"], size=n, p=[0.5, 0.3, 0.2]),
            "age_band": rng.choice(["16-34", "35-54", "55+"], size=n, p=[0.2, 0.35, 0.45]),
            "sex": rng.choice(["female", "male"], size=n, p=[0.62, 0.38]),
            "tenure": rng.choice(["own", "social", "private"], size=n, p=[0.5, 0.3, 0.2]),
        }
    )


POPULATION = {
    "age_band": {"16-34": 0.38, "35-54": 0.34, "55+": 0.28},
    "sex": {"female": 0.51, "male": 0.49},
    "tenure": {"own": 0.35, "social": 0.4, "private": 0.25},
}


def plain_rake(
    frame: pd.DataFrame, margins: dict[str, dict[str, float]], cycles: int = 500
) -> np.ndarray:
    """Textbook raking: adjust each variable in turn, many times, no trimming."""
    w = pd.Series(1.0, index=frame.index)
    for _ in range(cycles):
        for var, shares in margins.items():
            totals = w.groupby(frame[var]).sum()
            factor = {c: shares[c] * w.sum() / totals[c] for c in shares}
            w = w * frame[var].map(factor)
    return (w / w.mean()).to_numpy()


def test_hand_worked_two_by_two() -> None:
    ref = HAND["raking_2x2"]
    rows = []
    for cell, count in ref["cells"].items():
        sex, age = cell.split("|")
        rows += [{"sex": sex, "age": age}] * count
    frame = pd.DataFrame(rows)
    result = rake(
        frame,
        _margins(sex={"female": 0.5, "male": 0.5}, age={"young": 0.5, "old": 0.5}),
        tol=1e-12,
        cap=None,
    )
    got = result.weights.groupby(frame["sex"] + "|" + frame["age"]).first()
    for cell, weight in ref["weights"].items():
        assert got[cell] == pytest.approx(weight, rel=1e-9)
    assert result.converged


def test_matches_a_plain_implementation() -> None:
    frame = _residents()
    result = rake(frame, _margins(**POPULATION), tol=1e-12, max_iter=1000, cap=None)
    assert result.converged
    assert result.weights.to_numpy() == pytest.approx(plain_rake(frame, POPULATION), rel=1e-8)


def test_weighted_shares_meet_the_margins_and_mean_is_one() -> None:
    frame = _residents(seed=1)
    result = rake(frame, _margins(**POPULATION))
    w = result.weights
    assert w.mean() == pytest.approx(1.0)
    for var, shares in POPULATION.items():
        got = w.groupby(frame[var]).sum() / w.sum()
        for cat, share in shares.items():
            assert got[cat] == pytest.approx(share, abs=1e-6)
    report = result.report.iloc[0]
    assert report["converged"] and report["max_error"] < 1e-6
    assert report["design_effect"] == pytest.approx(kish_design_effect(w))
    assert report["n"] == len(frame) and report["group"] == "ALL"


def test_counts_work_like_proportions() -> None:
    frame = _residents(seed=2)
    shares = _margins(**POPULATION)
    counts = shares.assign(count=shares["proportion"] * 12345).drop(columns="proportion")
    assert rake(frame, counts).weights.to_numpy() == pytest.approx(
        rake(frame, shares).weights.to_numpy()
    )


def test_cap_trims_and_re_rakes() -> None:
    frame = _residents(seed=3)
    skewed = {"age_band": {"16-34": 0.5, "35-54": 0.3, "55+": 0.2}, "sex": POPULATION["sex"]}
    free = rake(frame, _margins(**skewed), cap=None)
    assert free.weights.max() > 3
    capped = rake(frame, _margins(**skewed), cap=3.0, max_iter=500)
    assert capped.weights.max() <= 3.0 * (1 + 1e-6)
    assert capped.weights.mean() == pytest.approx(1.0)
    assert capped.converged  # feasible: margins still met with trimmed weights
    for var, shares in skewed.items():
        got = capped.weights.groupby(frame[var]).sum() / capped.weights.sum()
        for cat, share in shares.items():
            assert got[cat] == pytest.approx(share, abs=1e-6)


def test_an_impossible_cap_is_reported_not_hidden() -> None:
    frame = _residents(seed=3)
    skewed = {"age_band": {"16-34": 0.9, "35-54": 0.05, "55+": 0.05}}
    result = rake(frame, _margins(**skewed), cap=2.0)
    assert not result.converged
    assert result.report.iloc[0]["max_error"] > 0.01
    assert result.report.iloc[0]["iterations"] == 100


def test_crossed_variable_rakes_to_the_joint_distribution() -> None:
    frame = _residents(seed=4)
    joint = {
        f"{a}:{s}": pa * ps
        for a, pa in POPULATION["age_band"].items()
        for s, ps in POPULATION["sex"].items()
    }
    result = rake(frame, _margins(**{"age_band:sex": joint}))
    w = result.weights
    got = w.groupby([frame["age_band"], frame["sex"]]).sum() / w.sum()
    for key, share in joint.items():
        a, s = key.split(":")
        assert got[(a, s)] == pytest.approx(share, abs=1e-9)


def test_each_area_to_its_own_margins() -> None:
    frame = _residents(seed=5)
    rows = []
    for site, female in {"n1": 0.55, "n2": 0.45, "n3": 0.5}.items():
        rows += [
            {"site": site, "variable": "sex", "category": "female", "proportion": female},
            {"site": site, "variable": "sex", "category": "male", "proportion": 1 - female},
        ]
    result = rake(frame, pd.DataFrame(rows), by="site")
    w = result.weights
    for site, female in {"n1": 0.55, "n2": 0.45, "n3": 0.5}.items():
        mine = frame["site"] == site
        assert w[mine].mean() == pytest.approx(1.0)
        share = w[mine & (frame["sex"] == "female")].sum() / w[mine].sum()
        assert share == pytest.approx(female, abs=1e-9)
    assert result.report["group"].tolist() == ["n1", "n2", "n3"]
    shared = rake(frame, _margins(sex=POPULATION["sex"]), by="site")
    assert len(shared.report) == 3 and shared.converged


def test_unknown_categories_keep_their_weight_for_that_variable() -> None:
    frame = _residents(seed=6)
    frame.loc[:29, "sex"] = None
    frame.loc[30:39, "sex"] = "prefer not to say"
    result = rake(frame, _margins(sex=POPULATION["sex"]))
    w = result.weights
    known = frame["sex"].isin(["female", "male"])
    share = w[known & (frame["sex"] == "female")].sum() / w[known].sum()
    assert share == pytest.approx(0.51, abs=1e-9)
    assert w[~known].nunique() == 1  # untouched relative to each other


def test_starting_weights_are_used() -> None:
    frame = _residents(seed=7).assign(design=lambda f: np.where(f["site"] == "n1", 2.0, 1.0))
    result = rake(frame, _margins(sex=POPULATION["sex"]), weight_col="design")
    w = result.weights
    ratio = (
        w[(frame["site"] == "n1") & (frame["sex"] == "male")].iloc[0]
        / w[(frame["site"] != "n1") & (frame["sex"] == "male")].iloc[0]
    )
    assert ratio == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("margins", "kwargs", "message"),
    [
        (_margins(sex={"female": 0.5, "male": 0.3, "other": 0.2}), {}, "nobody in the sample"),
        (_margins(sex={"female": 0.5, "male": -0.5}), {}, "above 0"),
        (pd.DataFrame({"variable": ["sex"], "category": ["female"]}), {}, "'proportion' or"),
        (_margins(region={"north": 1.0}), {}, "no column 'region'"),
        (_margins(sex={"female": 0.5, "male": 0.5}), {"cap": 1.0}, "more than 1"),
        (_margins(sex={"female": 0.5, "male": 0.5}), {"weight_col": "nope"}, "no column"),
        (
            pd.concat([_margins(sex={"female": 0.5}), _margins(sex={"female": 0.5})]),
            {},
            "listed twice",
        ),
    ],
)
def test_bad_margins_and_settings(
    margins: pd.DataFrame, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(AnalysisError, match=message):
        rake(_residents(), margins, **kwargs)  # type: ignore[arg-type]


def test_bad_starting_weights() -> None:
    frame = _residents().assign(design=0.0)
    with pytest.raises(AnalysisError, match="above 0"):
        rake(frame, _margins(sex=POPULATION["sex"]), weight_col="design")
    with pytest.raises(AnalysisError, match="no margins for site 'n2'"):
        rake(frame, _margins(sex=POPULATION["sex"]).assign(site="n1"), by="site")
