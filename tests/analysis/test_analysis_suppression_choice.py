"""Which cells complementary suppression hides, and why each hidden cell is hidden."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import apply_suppression
from analysis.spec import NOT_STATED
from analysis.suppression import COMPLEMENT, MAX_K, MIN_K, REASON_COLUMN, SMALL

GENDERS = ["girl", "boy", "another_way", NOT_STATED]


def _gender_grid(counts: dict[str, list[int]], items: int = 3) -> pd.DataFrame:
    """Sites (and the whole-wave row) x gender, for ``items`` items with the same counts."""
    rows = []
    whole = np.sum(list(counts.values()), axis=0)
    for item in range(items):
        for site, ns in [*counts.items(), ("ALL", list(whole))]:
            for value, n in zip(GENDERS, ns, strict=True):
                rows.append(
                    {
                        "wave": "w",
                        "site": site,
                        "item": f"q{item}",
                        "group_var": "gender",
                        "group_value": value,
                        "n": n,
                        "pct_positive": 50.0,
                    }
                )
    return pd.DataFrame(rows)


def test_a_small_primary_keeps_its_boys_column_when_not_stated_protects_as_well() -> None:
    # "Another way" (3) is too small; in its row, Boys (11) is the smallest real group,
    # but hiding "not stated" (12) protects it just as well and loses less.
    table = _gender_grid({"P": [14, 11, 3, 12], "S1": [80, 85, 12, 20], "S2": [70, 72, 15, 25]})
    out = apply_suppression(table, k=10, reasons=True)
    mine = out[out["site"] == "P"].set_index(["item", "group_value"])
    assert not mine.xs("boy", level="group_value")["suppressed"].any()
    assert not mine.xs("girl", level="group_value")["suppressed"].any()
    assert mine.xs("another_way", level="group_value")["suppressed"].all()
    assert (mine.xs("another_way", level="group_value")[REASON_COLUMN] == SMALL).all()
    assert mine.xs(NOT_STATED, level="group_value")["suppressed"].all()
    assert (mine.xs(NOT_STATED, level="group_value")[REASON_COLUMN] == COMPLEMENT).all()


def test_without_a_residual_group_one_real_group_is_hidden_not_two() -> None:
    table = _gender_grid({"P": [14, 11, 3, 0], "S1": [80, 85, 12, 0], "S2": [70, 72, 15, 0]})
    out = apply_suppression(table, k=10, reasons=True)
    mine = out[out["site"] == "P"].set_index(["item", "group_value"])["suppressed"]
    assert mine.xs("boy", level="group_value").all()  # the only protection there is
    assert not mine.xs("girl", level="group_value").any()


def test_reasons_are_blank_for_shown_rows_and_kept_when_applied_again() -> None:
    table = _gender_grid({"P": [14, 11, 3, 12], "S1": [80, 85, 12, 20]}, items=1)
    once = apply_suppression(table, k=10, reasons=True)
    assert set(once.loc[~once["suppressed"], REASON_COLUMN]) == {""}
    assert set(once.loc[once["suppressed"], REASON_COLUMN]) <= {SMALL, COMPLEMENT}
    pd.testing.assert_frame_equal(once, apply_suppression(once, k=10, reasons=True))
    assert REASON_COLUMN not in apply_suppression(table, k=10).columns


def _solvable(cells: pd.DataFrame) -> list[tuple[str, str]]:
    """Hidden non-zero cells a reader can compute from the row and column totals.

    Row totals: each site's total (published in the summary) and the whole-wave
    total; column totals: the whole-wave row's cells, which are cells of the table.
    A cell is determined exactly when its unit vector is in the equations' row space.
    """
    hidden = cells[cells["suppressed"]].reset_index(drop=True)
    if hidden.empty:
        return []
    position = {
        (s, g): j for j, (s, g) in enumerate(zip(hidden.site, hidden.group_value, strict=True))
    }
    equations = []
    for site in cells["site"].unique():
        eq = np.zeros(len(position))
        for (s, _), j in position.items():
            if s == site:
                eq[j] = 1
        equations.append(eq)
    for value in cells["group_value"].unique():
        eq = np.zeros(len(position))
        for (s, g), j in position.items():
            if g == value:
                eq[j] = -1 if s == "ALL" else 1
        equations.append(eq)
    a = np.array(equations)
    rank = np.linalg.matrix_rank(a)
    found = []
    for (s, g), j in position.items():
        n = cells.loc[(cells.site == s) & (cells.group_value == g), "true_n"].iloc[0]
        unit = np.zeros(len(position))
        unit[j] = 1
        if n > 0 and np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            found.append((s, g))
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    counts=st.lists(
        st.tuples(*(st.integers(0, 60) for _ in GENDERS)), min_size=2, max_size=6
    ).filter(lambda rows: all(sum(r) > 0 for r in rows)),
    k=st.integers(MIN_K, MAX_K),
)
def test_no_hidden_cell_follows_from_row_and_column_totals_for_every_k(
    counts: list[tuple[int, ...]], k: int
) -> None:
    # Sites with at least k answers (a smaller site's total is hidden in the summary).
    counts = [tuple(n + (k if j == 0 else 0) for j, n in enumerate(row)) for row in counts]
    table = _gender_grid({f"s{i}": list(row) for i, row in enumerate(counts)}, items=1)
    out = apply_suppression(table, k=k, reasons=True)
    out["true_n"] = table["n"]
    small = (table["n"] > 0) & (table["n"] < k)
    assert out.loc[small, "suppressed"].all()
    assert (out.loc[small, REASON_COLUMN] == SMALL).all()
    assert out.loc[out["suppressed"], "n"].isna().all()
    assert not _solvable(out)
