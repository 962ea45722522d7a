"""Fixtures for the analysis tests: simulated waves and a naive second implementation."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from simwave import naive_counts, simulate_wave

from analysis.spec import ItemSpec


@pytest.fixture
def simulate() -> Callable[..., tuple[pd.DataFrame, list[ItemSpec]]]:
    """Factory: ``simulate({"s1": 60, "s2": 40}, n_items=3, seed=1)``."""
    return simulate_wave


@pytest.fixture
def naive() -> Callable[..., pd.DataFrame]:
    """The naive counter: ``naive(responses, item, by=("site",))``."""
    return naive_counts
