"""summarise_wave, the package's rules of the road, and the docs that describe it."""

from __future__ import annotations

import ast
import io
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis import area_summary, item_summary, rake, summarise_wave
from analysis.spec import (
    AREA_COLUMNS,
    BREAKDOWN_COLUMNS,
    SCALE_COLUMNS,
    SUMMARY_COLUMNS,
    THEME_COLUMNS,
    TREND_COLUMNS,
    ItemSpec,
)

Simulate = Callable[..., tuple[pd.DataFrame, list[ItemSpec]]]
ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "analysis"


def test_school_summary_is_the_item_summary(simulate: Simulate) -> None:
    responses, items = simulate({"s1": 80, "s2": 7, "s3": 120}, n_items=3)
    out = summarise_wave(responses, items, wave="w", k=10)
    pd.testing.assert_frame_equal(out, item_summary(responses, items, wave="w", k=10))
    assert tuple(out.columns) == SUMMARY_COLUMNS
    assert out[out["site"] == "s2"]["suppressed"].all()


def test_area_summary_rakes_each_area_to_the_margins() -> None:
    rng = np.random.default_rng(1)
    n = 500
    residents = pd.DataFrame(
        {
            "site": rng.choice(["n1", "n2"], size=n),
            "age_band": rng.choice(["16-34", "35+"], size=n, p=[0.3, 0.7]),
            "sex": rng.choice(["female", "male"], size=n, p=[0.6, 0.4]),
            "q": rng.choice(["yes", "no"], size=n),
        }
    )
    margins = pd.DataFrame(
        {
            "variable": ["age_band", "age_band", "sex", "sex"],
            "category": ["16-34", "35+", "female", "male"],
            "proportion": [0.45, 0.55, 0.5, 0.5],
        }
    )
    items = [ItemSpec("q", positive={"yes"})]
    out = summarise_wave(residents, items, wave="w", level="area", margins=margins)
    assert tuple(out.columns) == AREA_COLUMNS
    weights = rake(residents, margins, by="site").weights
    expected = area_summary(residents.assign(weight=weights), items, wave="w")
    pd.testing.assert_frame_equal(out, expected)
    assert (out["design_effect"] > 1).all()


def test_area_summary_without_weights_is_unweighted() -> None:
    residents = pd.DataFrame({"site": ["n1"] * 30 + ["n2"] * 30, "q": ["yes", "no", "no"] * 20})
    out = summarise_wave(residents, [ItemSpec("q", positive={"yes"})], wave="w", level="area")
    assert out["design_effect"].to_numpy() == pytest.approx(1.0)
    assert out["weighted_pct"].to_numpy() == pytest.approx(out["pct_positive"].to_numpy())


def test_csv_written_from_the_summary(simulate: Simulate) -> None:
    responses, items = simulate({"s1": 80, "s2": 7, "s3": 120}, n_items=2)
    text = summarise_wave(responses, items, wave="Spring 2027").to_csv(index=False)
    back = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert back.columns.tolist() == list(SUMMARY_COLUMNS)
    hidden = back[back["site"] == "s2"]
    assert (hidden["suppressed"] == "True").all()
    assert (hidden[["n", "pct_positive", "p_value", "flag"]] == "").all().all()
    assert (hidden["wave"] == "Spring 2027").all() and (hidden["item"] != "").all()
    shown = back[back["suppressed"] == "False"]
    assert shown["n"].str.fullmatch(r"\d+").all()  # counts are whole numbers


def test_bad_level_and_k(simulate: Simulate) -> None:
    responses, items = simulate({"s1": 30})
    with pytest.raises(ValueError, match="level"):
        summarise_wave(responses, items, wave="w", level="district")
    with pytest.raises(ValueError, match="at least 5"):
        summarise_wave(responses, items, wave="w", k=2)


# --- the package's own rules ------------------------------------------------------------

MODULES = sorted(PACKAGE.glob("*.py"))
ALLOWED = {"pandas", "numpy", "scipy", "networkx", "analysis", "__future__"}
FORBIDDEN = {"flask", "sqlalchemy", "instruments", "surveys", "webapp", "exports", "statsmodels"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_modules_import_only_pandas_numpy_scipy_and_stdlib(path: Path) -> None:
    tree = ast.parse(path.read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    assert not roots & FORBIDDEN
    import sys

    third_party = {r for r in roots if r not in sys.stdlib_module_names}
    assert third_party <= ALLOWED, third_party


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_modules_are_small_and_declare_all(path: Path) -> None:
    text = path.read_text()
    assert text.count("\n") < 500
    assert "__all__" in text


def test_no_licensed_item_wording_is_shipped() -> None:
    # SWEMWBS statements are licensed: the package ships the scoring table only.
    text = " ".join(p.read_text().lower() for p in MODULES)
    for phrase in (
        "optimistic about the future",
        "feeling useful",
        "thinking clearly",
        "dealing with problems well",
        "feeling relaxed",
        "feeling close to other",
        "able to make up my own mind",
    ):
        assert phrase not in text


# --- the docs keep up ----------------------------------------------------------------

DOC = (
    (ROOT / "docs" / "analysis.md").read_text() if (ROOT / "docs" / "analysis.md").exists() else ""
)


@pytest.mark.parametrize("name", analysis.__all__)
def test_every_public_name_is_documented(name: str) -> None:
    assert re.search(rf"\b{re.escape(name)}\b", DOC), name


@pytest.mark.parametrize(
    "column",
    sorted(
        set(
            SUMMARY_COLUMNS
            + AREA_COLUMNS
            + BREAKDOWN_COLUMNS
            + SCALE_COLUMNS
            + TREND_COLUMNS
            + THEME_COLUMNS
        )
    ),
)
def test_every_output_column_is_documented(column: str) -> None:
    assert f"`{column}`" in DOC, column
