"""Produce the reference values in this folder with statsmodels and scipy.

Run from the repository root (the numbers are fixed; rerunning rewrites identical files):

    .venv/bin/python tests/analysis/reference/make_reference.py

Nothing here imports ``analysis``: these are the second, independent implementation
the tests compare against.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

HERE = Path(__file__).resolve().parent

# (count, nobs): edge cases (0, all, 1) and typical survey cells.
WILSON_CASES = [(0, 10), (10, 10), (1, 10), (5, 10), (8, 20), (37, 52), (3, 250), (612, 1000)]
# (count1, nobs1, count2, nobs2): a school against the other schools pooled.
ZTEST_CASES = [
    (30, 50, 120, 300),
    (12, 40, 1500, 3000),
    (45, 60, 2100, 4000),
    (8, 25, 800, 2000),
    (100, 100, 3900, 4000),
    (1, 12, 50, 600),
]
BH_P = [
    0.001,
    0.008,
    0.039,
    0.041,
    0.042,
    0.06,
    0.074,
    0.205,
    0.212,
    0.216,
    0.222,
    0.251,
    0.269,
    0.275,
    0.34,
    0.341,
    0.384,
    0.569,
    0.594,
    0.696,
    0.762,
    0.94,
    0.942,
    0.975,
    0.986,
]


def welch_samples() -> tuple[np.ndarray, np.ndarray]:
    """Two fixed samples of SWEMWBS-like metric scores."""
    rng = np.random.default_rng(20270301)
    a = np.round(rng.normal(23.5, 4.2, size=37), 2)
    b = np.round(rng.normal(21.9, 5.1, size=412), 2)
    return a, b


def main() -> None:
    with (HERE / "wilson.csv").open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["count", "nobs", "low", "high"])
        for count, nobs in WILSON_CASES:
            low, high = proportion_confint(count, nobs, alpha=0.05, method="wilson")
            out.writerow([count, nobs, repr(float(low)), repr(float(high))])
    with (HERE / "ztest.csv").open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["count1", "nobs1", "count2", "nobs2", "z", "p_value"])
        for x1, n1, x2, n2 in ZTEST_CASES:
            z, p = proportions_ztest([x1, x2], [n1, n2])
            out.writerow([x1, n1, x2, n2, repr(float(z)), repr(float(p))])
    a, b = welch_samples()
    welch = stats.ttest_ind(a, b, equal_var=False)
    bh = multipletests(BH_P, alpha=0.05, method="fdr_bh")[1]
    values = {
        "benjamini_hochberg": {
            "p": BH_P,
            "p_adjusted": [float(v) for v in bh],
            "produced_by": "statsmodels.stats.multitest.multipletests(p, method='fdr_bh')",
        },
        "welch": {
            "a": a.tolist(),
            "b": b.tolist(),
            "t": float(welch.statistic),
            "df": float(welch.df),
            "p_value": float(welch.pvalue),
            "produced_by": "scipy.stats.ttest_ind(a, b, equal_var=False)",
        },
    }
    (HERE / "reference_values.json").write_text(json.dumps(values, indent=2) + "\n")


if __name__ == "__main__":
    main()
