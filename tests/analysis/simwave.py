"""Simulated waves and a naive second implementation of the counts, for the tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.spec import ItemSpec

YEAR_GROUPS = ("Year 7", "Year 8", "Year 9", "Year 10", "Year 11")
GENDERS = ("girl", "boy", "other")


def simulate_wave(
    sizes: Mapping[str, int],
    *,
    n_items: int = 4,
    seed: int = 0,
    base_p: float = 0.6,
    effects: Mapping[str, float] | None = None,
    skip_rate: float = 0.05,
    pnts_rate: float = 0.03,
    group_missing: float = 0.03,
    categorical: bool = False,
) -> tuple[pd.DataFrame, list[ItemSpec]]:
    """Responses for sites of the given sizes; ``effects`` shifts a site's log-odds."""
    rng = np.random.default_rng(seed)
    sites = np.repeat(list(sizes), list(sizes.values()))
    n = len(sites)
    shift = np.array([(effects or {}).get(s, 0.0) for s in sites])
    logit = np.log(base_p / (1 - base_p)) + shift
    p = 1 / (1 + np.exp(-logit))
    frame: dict[str, Any] = {
        "response_id": [f"r{i:06d}" for i in range(n)],
        "site": sites,
        "site_name": [f"School {s}" for s in sites],
        "year_group": np.where(
            rng.random(n) < group_missing, None, rng.choice(YEAR_GROUPS, size=n)
        ),
        "gender": np.where(rng.random(n) < group_missing, None, rng.choice(GENDERS, size=n)),
        "fsm": rng.choice(["yes", "no"], size=n, p=[0.3, 0.7]),
    }
    items = []
    for i in range(n_items):
        name = f"q{i + 1}"
        answer = np.where(rng.random(n) < p, "yes", "no").astype(object)
        answer[rng.random(n) < pnts_rate] = "pnts"
        answer[rng.random(n) < skip_rate] = None
        frame[name] = answer
        items.append(ItemSpec(name, domain=f"d{i % 2}", positive={"yes"}, missing={"pnts"}))
    responses = pd.DataFrame(frame)
    for column in ("year_group", "gender", *[item.name for item in items]):
        responses[column] = responses[column].astype("category" if categorical else "str")
    return responses, items


def naive_counts(
    responses: pd.DataFrame, item: ItemSpec, by: Sequence[str] = ("site",)
) -> pd.DataFrame:
    """Respondents, answered and positive per group, the slow obvious way."""
    rows = []
    for key, group in responses.groupby(list(by), dropna=False, observed=True):
        values = [None if pd.isna(v) else str(v) for v in group[item.name]]
        answered = [v for v in values if v is not None and v not in item.missing]
        rows.append(
            {
                **dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True)),
                "respondents": len(values),
                "n": len(answered),
                "n_positive": sum(v in item.positive for v in answered),
            }
        )
    return pd.DataFrame(rows)
