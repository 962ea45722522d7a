"""Benchmark: analyse and draw a partnership network (docs/network.md).

Budget: 300 organisations with 5,000 ties, two waves compared, analysed (measures, Louvain
groups, tie changes) and drawn (shared layout, two SVG maps) in under 5 s. The script
prints each step's time (best of ``--repeat`` runs) and the total, for each size.

    .venv/bin/python bench/bench_network.py                    # 300 orgs, 5,000 ties
    .venv/bin/python bench/bench_network.py --sizes 100:1500 300:5000 --repeat 3
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from exports.network_report import build_report  # noqa: E402
from surveys.services.network import WaveNetwork  # noqa: E402

KINDS = ("school", "early_years", "service", "health", "voluntary", "residents", "other")


def network(n_orgs: int, n_ties: int, seed: int) -> tuple[WaveNetwork, WaveNetwork]:
    """Two waves: clustered ties among ``n_orgs``; the second keeps 85% and adds new ones."""
    rng = np.random.default_rng(seed)
    codes = [f"ORG{i:04d}" for i in range(n_orgs)]
    cluster = rng.integers(0, 12, n_orgs)
    ties: set[tuple[int, int]] = set()
    while len(ties) < n_ties:
        a = int(rng.integers(n_orgs))
        same = np.flatnonzero(cluster == cluster[a])
        b = int(rng.choice(same)) if rng.random() < 0.7 else int(rng.integers(n_orgs))
        if a != b:
            ties.add((a, b))
    first = sorted(ties)
    kept = [t for t in first if rng.random() < 0.85]
    later = set(kept)
    while len(later) < n_ties:
        a, b = (int(x) for x in rng.integers(n_orgs, size=2))
        if a != b:
            later.add((a, b))
    orgs = pd.DataFrame(
        {
            "code": codes,
            "name": [f"Organisation {c}" for c in codes],
            "kind": [KINDS[i % len(KINDS)] for i in range(n_orgs)],
            "responded": rng.random(n_orgs) < 0.9,
        }
    )

    def frame(pairs: Any) -> pd.DataFrame:
        pairs = sorted(pairs)
        return pd.DataFrame(
            {
                "source": [codes[a] for a, _ in pairs],
                "target": [codes[b] for _, b in pairs],
                "frequency": rng.integers(1, 5, len(pairs)).astype(float),
                "trust": rng.integers(1, 5, len(pairs)).astype(float),
                "value": rng.integers(1, 5, len(pairs)).astype(float),
            }
        )

    return WaveNetwork(orgs, frame(first), n_orgs), WaveNetwork(orgs, frame(later), n_orgs)


def best(func: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["300:5000"], help="ORGS:TIES ...")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("orgs   ties  analyse+draw (s)  svg (KB)  budget 5 s")
    for size in args.sizes:
        n_orgs, n_ties = (int(x) for x in size.split(":"))
        before, after = network(n_orgs, n_ties, seed=n_orgs)
        seconds, report = best(
            lambda before=before, after=after: build_report(
                wave_name="Spring 2027",
                network=after,
                previous_name="Spring 2026",
                previous=before,
            ),
            args.repeat,
        )
        size_kb = (len(report.svg) + len(report.previous_svg or "")) / 1024
        verdict = "ok" if seconds < 5 else "OVER"
        print(f"{n_orgs:4d} {n_ties:6d}  {seconds:16.2f}  {size_kb:8.0f}  {verdict}")


if __name__ == "__main__":
    main()
