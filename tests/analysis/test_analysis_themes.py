"""Theme counts and agreement between coders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import cohen_kappa, theme_agreement, theme_counts
from analysis.errors import AnalysisError
from analysis.spec import THEME_COLUMNS

HAND = json.loads((Path(__file__).parent / "reference" / "hand_worked.json").read_text())


def test_kappa_hand_worked_table() -> None:
    ref = HAND["cohen_kappa"]
    cells = ref["table"]
    a = (
        [True] * cells["A_present_B_present"]
        + [True] * cells["A_present_B_absent"]
        + [False] * (cells["A_absent_B_present"] + cells["A_absent_B_absent"])
    )
    b = (
        [True] * cells["A_present_B_present"]
        + [False] * cells["A_present_B_absent"]
        + [True] * cells["A_absent_B_present"]
        + [False] * cells["A_absent_B_absent"]
    )
    assert cohen_kappa(a, b) == pytest.approx(ref["kappa"], abs=1e-12)
    assert cohen_kappa(b, a) == pytest.approx(ref["kappa"], abs=1e-12)


def test_kappa_several_categories_by_formula() -> None:
    a = ["x", "x", "y", "y", "z", "z", "x", "y", "z", "x"]
    b = ["x", "y", "y", "y", "z", "x", "x", "y", "z", "z"]
    table = pd.crosstab(pd.Series(a), pd.Series(b)).to_numpy()
    po = np.trace(table) / table.sum()
    pe = (table.sum(axis=1) * table.sum(axis=0)).sum() / table.sum() ** 2
    assert cohen_kappa(a, b) == pytest.approx((po - pe) / (1 - pe))


def test_kappa_edge_cases() -> None:
    assert cohen_kappa([1, 0, 1], [1, 0, 1]) == pytest.approx(1.0)
    assert np.isnan(cohen_kappa([0, 0, 0], [0, 0, 0]))  # chance agreement is total
    assert cohen_kappa([1, 0], [0, 1]) == pytest.approx(-1.0)
    with pytest.raises(AnalysisError, match="different lengths"):
        cohen_kappa([1, 0], [1])
    with pytest.raises(AnalysisError, match="missing"):
        cohen_kappa([1, None], [1, 0])
    with pytest.raises(AnalysisError, match="no answers"):
        cohen_kappa([], [])


def test_theme_agreement_per_theme() -> None:
    a = pd.DataFrame(
        {
            "response_id": ["1", "1", "2", "3", "4", "5"],
            "theme": ["parks", "safety", "parks", None, "safety", "parks"],
        }
    )
    b = pd.DataFrame(
        {
            "response_id": ["1", "2", "3", "4", "4", "6"],
            "theme": ["parks", "safety", None, "safety", "parks", "parks"],
        }
    )
    out = theme_agreement(a, b).set_index("theme")
    # answers coded by both: 1, 2, 3, 4
    assert out.loc["parks", "n_answers"] == 4
    parks_a, parks_b = [True, True, False, False], [True, False, False, True]
    assert out.loc["parks", "kappa"] == pytest.approx(cohen_kappa(parks_a, parks_b))
    assert out.loc["parks", "agreement"] == pytest.approx(0.5)
    assert (out.loc["safety", "n_a"], out.loc["safety", "n_b"]) == (2, 2)


def _codings() -> pd.DataFrame:
    rows = []
    for i in range(40):  # site a: 40 answered
        rows.append({"response_id": f"a{i}", "site": "a", "theme": "parks" if i < 25 else None})
        if i < 12:
            rows.append({"response_id": f"a{i}", "site": "a", "theme": "safety"})
            rows.append({"response_id": f"a{i}", "site": "a", "theme": "safety"})  # twice
    for i in range(30):  # site b: 30 answered
        rows.append({"response_id": f"b{i}", "site": "b", "theme": "parks" if i < 11 else "bus"})
        if i < 6:
            rows.append({"response_id": f"b{i}", "site": "b", "theme": "safety"})
    return pd.DataFrame(rows).assign(site_name=lambda f: "Area " + f["site"])


def test_theme_counts() -> None:
    out = theme_counts(_codings(), k=5, wave="2027")
    assert tuple(out.columns) == THEME_COLUMNS
    table = out.set_index(["site", "theme"])
    assert table.loc[("a", "parks"), "n_respondents"] == 25
    assert table.loc[("a", "parks"), "n_answered"] == 40
    assert table.loc[("a", "safety"), "n_respondents"] == 12  # each respondent once
    assert table.loc[("a", "safety"), "pct"] == pytest.approx(30.0)
    assert table.loc[("a", "bus"), "n_respondents"] == 0  # zeros are shown
    assert table.loc[("ALL", "parks"), "n_respondents"] == 36
    assert table.loc[("ALL", "parks"), "n_answered"] == 70
    assert table.loc[("a", "parks"), "site_name"] == "Area a"
    assert set(out["wave"]) == {"2027"}


def test_theme_counts_are_suppressed() -> None:
    out = theme_counts(_codings(), k=10).set_index(["site", "theme"])
    assert out.loc[("b", "safety"), "suppressed"]  # 6 < 10
    assert pd.isna(out.loc[("b", "safety"), "pct"])
    # a's safety (12) must go too, or ALL (18) - 12 would give b's 6.
    assert out.loc[("a", "safety"), "suppressed"]
    assert not out.loc[("a", "parks"), "suppressed"]
    with pytest.raises(ValueError, match="at least 5"):
        theme_counts(_codings(), k=3)
