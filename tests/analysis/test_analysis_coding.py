"""Item metadata and the coding of answers into answered/positive flags and scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.coding import answer_flags, choice_name, item_scores
from analysis.errors import AnalysisError
from analysis.spec import SWEMWBS_TABLE, ItemSpec, ScaleSpec, swemwbs_scale

AGREE = ItemSpec(
    "safe",
    positive={"agree", "strongly_agree"},
    missing={"pnts"},
    scores={"strongly_disagree": 1, "disagree": 2, "agree": 3, "strongly_agree": 4, "pnts": 9},
)


@pytest.mark.parametrize("dtype", ["str", "category", "object"])
def test_select_one_flags_do_not_depend_on_the_column_dtype(dtype: str) -> None:
    values = pd.Series(["agree", "disagree", "pnts", None, "strongly_agree", ""], dtype=dtype)
    answered, positive = answer_flags(values, AGREE)
    assert answered.tolist() == [True, True, False, False, True, False]
    assert positive.tolist() == [True, False, False, False, True, False]


def test_categorical_with_unused_categories() -> None:
    values = pd.Series(pd.Categorical(["agree", None], categories=["pnts", "agree", "disagree"]))
    answered, positive = answer_flags(values, AGREE)
    assert answered.tolist() == [True, False] and positive.tolist() == [True, False]


def test_numeric_choice_names_read_back_from_floats() -> None:
    item = ItemSpec("n", positive={"1"}, missing={"9"})
    answered, positive = answer_flags(pd.Series([1.0, 2.0, 9.0, np.nan]), item)
    assert answered.tolist() == [True, True, False, False]
    assert positive.tolist() == [True, False, False, False]
    assert choice_name(3) == "3" and choice_name(pd.NA) is None


@pytest.mark.parametrize(
    ("answer", "answered", "positive"),
    [
        ("football music", True, True),
        ("art", True, False),
        ("pnts", False, False),
        ("pnts music", True, True),  # a real choice was made as well
        (None, False, False),
        ("  ", False, False),
    ],
)
def test_select_multiple(answer: str | None, answered: bool, positive: bool) -> None:
    item = ItemSpec(
        "clubs", kind="select_multiple", positive={"football", "music"}, missing={"pnts"}
    )
    got = answer_flags(pd.Series([answer], dtype=object), item)
    assert (bool(got[0][0]), bool(got[1][0])) == (answered, positive)


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ({">=7"}, [False, False, True, True, False]),
        ({">7"}, [False, False, False, True, False]),
        ({"<3"}, [True, False, False, False, False]),
        ({"<=3", "10"}, [True, True, False, True, False]),
        ({"=7"}, [False, False, True, False, False]),
    ],
)
def test_numeric_positive_rules(rules: set[str], expected: list[bool]) -> None:
    item = ItemSpec("life", kind="integer", positive=frozenset(rules), missing={"-1"})
    answered, positive = answer_flags(pd.Series([0.0, 3.0, 7.0, 10.0, -1.0]), item)
    assert answered.tolist() == [True, True, True, True, False]
    assert positive.tolist() == expected


def test_bad_numeric_rule_is_a_clear_error() -> None:
    item = ItemSpec("life", kind="decimal", positive={"high"})
    with pytest.raises(AnalysisError, match="'high' is not a number or a comparison"):
        answer_flags(pd.Series([1.0]), item)


def test_scores_and_reverse_scores() -> None:
    values = pd.Series(["strongly_disagree", "agree", "pnts", None, "unknown"])
    assert item_scores(values, AGREE).tolist() == pytest.approx(
        [1, 3, np.nan, np.nan, np.nan], nan_ok=True
    )
    reverse = ItemSpec(**{**AGREE.__dict__, "reverse": True})
    # reversed = (min + max) - score over non-missing scores: (1 + 4) - s
    assert item_scores(values, reverse).tolist() == pytest.approx(
        [4, 2, np.nan, np.nan, np.nan], nan_ok=True
    )


def test_numeric_item_scores() -> None:
    plain = ItemSpec("life", kind="integer", missing={"99"})
    assert item_scores(pd.Series([3.0, 99.0]), plain).tolist() == pytest.approx(
        [3.0, np.nan], nan_ok=True
    )
    reverse = ItemSpec("worry", kind="integer", reverse=True, scores={"0": 0, "10": 10})
    assert item_scores(pd.Series([2.0, 10.0]), reverse).tolist() == [8.0, 0.0]
    with pytest.raises(AnalysisError, match="reverse-scored"):
        item_scores(pd.Series([2.0]), ItemSpec("worry", kind="integer", reverse=True))


def test_select_multiple_cannot_be_scored() -> None:
    with pytest.raises(AnalysisError, match="cannot be scored"):
        item_scores(pd.Series(["a b"]), ItemSpec("m", kind="select_multiple"))


def test_item_spec_normalises_and_validates() -> None:
    item = ItemSpec("q", positive="yes maybe", scores={"yes": 1})  # type: ignore[arg-type]
    assert item.positive == frozenset({"yes", "maybe"})
    assert item.scores["yes"] == 1.0
    with pytest.raises(AnalysisError, match="both positive and missing"):
        ItemSpec("q", positive={"yes"}, missing={"yes"})


@pytest.mark.parametrize(
    ("item", "summarised"),
    [
        (ItemSpec("q", positive={"yes"}), True),
        (ItemSpec("q", positive={"yes"}, report=False), False),
        (ItemSpec("q", kind="text", positive={"yes"}), False),
        (ItemSpec("q"), False),  # nothing counts as positive
        (ItemSpec("q", kind="range", positive={">=5"}), True),
    ],
)
def test_which_items_are_summarised(item: ItemSpec, summarised: bool) -> None:
    assert item.summarised is summarised


@pytest.mark.parametrize(("n_items", "needed"), [(1, 1), (2, 2), (4, 3), (5, 4), (7, 6), (8, 6)])
def test_scale_needs_75_percent_of_items(n_items: int, needed: int) -> None:
    scale = ScaleSpec("s", tuple(f"i{j}" for j in range(n_items)))
    assert scale.min_items == needed


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"items": ()}, "no items"),
        ({"items": ("a", "a")}, "listed twice"),
        ({"items": ("a",), "min_answered": 0}, "min_answered"),
        ({"items": ("a",), "min_answered": 1.5}, "min_answered"),
    ],
)
def test_bad_scales(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(AnalysisError, match=message):
        ScaleSpec("s", **kwargs)  # type: ignore[arg-type]


def test_swemwbs_table_is_the_published_conversion() -> None:
    assert sorted(SWEMWBS_TABLE) == [float(r) for r in range(7, 36)]
    values = [SWEMWBS_TABLE[k] for k in sorted(SWEMWBS_TABLE)]
    assert values == sorted(values) and len(set(values)) == 29
    assert (SWEMWBS_TABLE[7.0], SWEMWBS_TABLE[21.0], SWEMWBS_TABLE[28.0]) == (7.0, 19.25, 25.03)
    assert SWEMWBS_TABLE[35.0] == 35.0
    scale = swemwbs_scale([f"w{i}" for i in range(7)])
    assert scale.table == SWEMWBS_TABLE and scale.min_items == 6
