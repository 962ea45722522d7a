"""Linking codes across waves: the rules, one-to-one, ambiguity, school and year, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.linkage import CodeTable, link_codes


def table(rows: list[tuple[str, int, int, str, int]]) -> CodeTable:
    """Rows of (id, site, year, code as characters, missing parts); one digest per char."""
    return CodeTable(
        ids=np.array([r[0] for r in rows], dtype=object),
        site=np.array([r[1] for r in rows], dtype=np.int64),
        year=np.array([r[2] for r in rows], dtype=np.int64),
        digests=np.array([[ord(ch) for ch in r[3]] for r in rows], dtype=np.uint64).reshape(
            len(rows), len(rows[0][3]) if rows else 0
        ),
        missing=np.array([r[4] for r in rows], dtype=np.int64),
    )


def outcome(result, rid: str) -> str:
    frame = result.outcomes
    return str(frame.loc[frame["response_id"] == rid, "outcome"].iloc[0])


def test_exact_then_one_then_two_differences_each_says_its_rule() -> None:
    previous = table([("a", 1, 7, "M071H", 0), ("b", 1, 7, "S142B", 0), ("c", 1, 7, "K233W", 0)])
    current = table([("x", 1, 8, "M071H", 0), ("y", 1, 8, "S142C", 0), ("z", 1, 8, "K933V", 0)])
    result = link_codes(previous, current)
    links = {
        r.response_id: (r.previous_response_id, r.rule, r.distance)
        for r in result.links.itertuples()
    }
    assert links == {"x": ("a", "exact", 0), "y": ("b", "fuzzy1", 1), "z": ("c", "fuzzy2", 2)}


def test_three_differences_never_link_and_max_distance_limits_the_rules() -> None:
    previous = table([("a", 1, 7, "M071H", 0), ("b", 1, 7, "S142B", 0)])
    current = table([("x", 1, 8, "Q981H", 0), ("y", 1, 8, "S142C", 0)])
    assert list(link_codes(previous, current).links["response_id"]) == ["y"]
    exact_only = link_codes(previous, current, max_distance=0)
    assert exact_only.links.empty
    assert set(exact_only.outcomes["outcome"]) == {"unmatched"}


def test_same_school_and_one_year_group_up_only() -> None:
    previous = table([("a", 1, 7, "M071H", 0), ("b", 2, 7, "S142B", 0), ("c", 1, 8, "K233W", 0)])
    current = table(
        [
            ("x", 2, 8, "M071H", 0),  # other school
            ("y", 2, 9, "S142B", 0),  # two years up
            ("z", 1, 8, "K233W", 0),  # same year as before
        ]
    )
    result = link_codes(previous, current)
    assert result.links.empty
    assert set(result.outcomes["outcome"]) == {"unmatched"}


def test_two_candidates_are_ambiguous_and_left_unlinked_not_tried_again() -> None:
    # x matches a and b exactly: ambiguous. y's only candidate at one difference is b,
    # but b was set aside with x, so y is not linked either.
    previous = table([("a", 1, 7, "M071H", 0), ("b", 1, 7, "M071H", 0)])
    current = table([("x", 1, 8, "M071H", 0), ("y", 1, 8, "M071J", 0)])
    result = link_codes(previous, current)
    assert result.links.empty
    assert outcome(result, "x") == "ambiguous"
    assert outcome(result, "y") == "unmatched"


def test_two_pupils_wanting_one_previous_pupil_are_both_ambiguous() -> None:
    previous = table([("a", 1, 7, "M071H", 0)])
    current = table([("x", 1, 8, "M071J", 0), ("y", 1, 8, "M071K", 0)])
    result = link_codes(previous, current)
    assert result.links.empty
    assert {outcome(result, "x"), outcome(result, "y")} == {"ambiguous"}


def test_links_are_one_to_one_and_a_closer_rule_wins() -> None:
    # x is exact to a and one away from b; y is one away from b only.
    previous = table([("a", 1, 7, "M071H", 0), ("b", 1, 7, "M071J", 0)])
    current = table([("x", 1, 8, "M071H", 0), ("y", 1, 8, "M071K", 0)])
    result = link_codes(previous, current)
    pairs = dict(
        zip(result.links["response_id"], result.links["previous_response_id"], strict=True)
    )
    assert pairs == {"x": "a", "y": "b"}
    assert result.links["previous_response_id"].is_unique
    assert result.links["response_id"].is_unique


def test_incomplete_codes_and_unknown_year_groups_link_nothing_and_are_counted() -> None:
    previous = table([("a", 1, 7, "M071H", 0), ("b", 1, 7, "S142B", 1), ("c", 1, 7, "K233W", 0)])
    current = table([("x", 1, 8, "M071H", 1), ("y", 1, 8, "S142B", 0), ("z", 1, -1, "K233W", 0)])
    result = link_codes(previous, current)
    assert result.links.empty
    assert [outcome(result, r) for r in "xyz"] == ["incomplete", "unmatched", "no_year"]


def test_codes_of_different_lengths_are_refused_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match="positions"):
        link_codes(table([("a", 1, 7, "M071H", 0)]), table([("x", 1, 8, "M071", 0)]))
    with pytest.raises(ValueError, match="different lengths"):
        CodeTable.build(["a", "b"], [1, 1], [7, 7], [bytes(16), bytes(24)], [0, 0])


def test_empty_waves_link_nothing() -> None:
    empty = CodeTable.build([], [], [], [], [])
    result = link_codes(empty, empty)
    assert result.links.empty and result.outcomes.empty


def test_a_planted_panel_is_recovered_at_the_planted_rates() -> None:
    rng = np.random.default_rng(5)
    n, positions = 3000, 6
    site = rng.integers(0, 20, n)
    year = rng.integers(5, 10, n)
    codes = rng.integers(0, 1 << 62, size=(n, positions), dtype=np.int64).astype(np.uint64)
    retyped = codes.copy()
    kind = rng.choice(3, size=n, p=[0.8, 0.15, 0.05])  # 0, 1 or 2 characters retyped
    for i in np.flatnonzero(kind):
        for pos in rng.choice(positions, size=kind[i], replace=False):
            retyped[i, pos] = rng.integers(0, 1 << 62, dtype=np.int64)
    ids_prev = np.array([f"p{i}" for i in range(n)], dtype=object)
    ids_now = np.array([f"n{i}" for i in range(n)], dtype=object)
    zeros = np.zeros(n, dtype=np.int64)
    previous = CodeTable(ids_prev, site, year, codes, zeros)
    current = CodeTable(ids_now, site, year + 1, retyped, zeros)
    result = link_codes(previous, current)
    counts = result.links["rule"].value_counts().to_dict()
    assert counts == {
        "exact": int((kind == 0).sum()),
        "fuzzy1": int((kind == 1).sum()),
        "fuzzy2": int((kind == 2).sum()),
    }
    truth = {f"n{i}": f"p{i}" for i in range(n)}
    assert all(
        truth[a] == b
        for a, b in zip(
            result.links["response_id"], result.links["previous_response_id"], strict=True
        )
    )
