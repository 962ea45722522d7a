"""Benchmark: all school summaries for a city-region wave (DESIGN section 8).

Budget: 100,000 pupils x 40 items in under 3 s and under 1 GB, growing linearly.

Each size runs in its own subprocess so peak memory is that size's alone. For each size
the script prints the time of ``summarise_wave`` (best and median of several runs), the
peak memory Python allocated during it (tracemalloc, in a separate run because tracing
slows NumPy), the process's peak resident set size (data included), and how time and
memory grow with the number of pupils.

    .venv/bin/python bench/bench_analysis.py                 # 10k, 30k, 100k pupils
    .venv/bin/python bench/bench_analysis.py --sizes 100000 --categorical
    .venv/bin/python bench/bench_analysis.py --breakdowns    # also time item_breakdowns
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis import item_breakdowns, summarise_wave  # noqa: E402
from analysis.spec import ItemSpec  # noqa: E402

N_ITEMS = 40
N_SCHOOLS = 190
AGREE = ("strongly_disagree", "disagree", "neither", "agree", "strongly_agree")
YEARS = ("Year 7", "Year 8", "Year 9", "Year 10", "Year 11")
TIME_BUDGET_S = 3.0
MEMORY_BUDGET_MB = 1024.0


def synthetic_wave(
    n_pupils: int, *, seed: int = 2027, categorical: bool = False
) -> tuple[pd.DataFrame, list[ItemSpec]]:
    """A wave like #BeeWell's: ~190 schools of uneven size, 40 five-point items."""
    rng = np.random.default_rng(seed)
    size = rng.lognormal(0, 0.6, N_SCHOOLS)
    school = rng.choice(N_SCHOOLS, size=n_pupils, p=size / size.sum())
    school_effect = rng.normal(0, 0.35, N_SCHOOLS)[school]
    frame: dict[str, object] = {
        "response_id": [f"r{i:07d}" for i in range(n_pupils)],
        "site": [f"sch{s:03d}" for s in school],
        "site_name": [f"School {s:03d}" for s in school],
        "year_group": np.array(YEARS, dtype=object)[rng.integers(0, 5, n_pupils)],
        "gender": rng.choice(["girl", "boy", "other"], size=n_pupils, p=[0.49, 0.49, 0.02]),
        "fsm": rng.choice(["yes", "no"], size=n_pupils, p=[0.25, 0.75]),
    }
    choices = np.array([*AGREE, "pnts"], dtype=object)
    items = []
    for i in range(N_ITEMS):
        latent = rng.normal(school_effect + rng.normal(0, 0.3), 1.0, n_pupils)
        answer = choices[np.digitize(latent, [-1.2, -0.4, 0.3, 1.1])]
        answer[rng.random(n_pupils) < 0.02] = "pnts"
        answer[rng.random(n_pupils) < 0.04] = None
        frame[f"item{i:02d}"] = answer
        items.append(
            ItemSpec(
                f"item{i:02d}",
                domain=f"domain{i // 8}",
                positive={"agree", "strongly_agree"},
                missing={"pnts"},
            )
        )
    responses = pd.DataFrame(frame)
    dtype = "category" if categorical else "str"
    for item in items:
        responses[item.name] = responses[item.name].astype(dtype)
    for column in ("response_id", "site", "site_name", "year_group", "gender", "fsm"):
        responses[column] = responses[column].astype("str")
    return responses, items


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def worker(n_pupils: int, repeat: int, categorical: bool, breakdowns: bool) -> dict[str, float]:
    """Measure one size (runs inside its own process)."""
    responses, items = synthetic_wave(n_pupils, categorical=categorical)
    data_mb = responses.memory_usage(deep=True).sum() / 2**20
    rss_before = _rss_mb()
    summarise_wave(responses, items, wave="bench")  # warm-up (imports, caches)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        table = summarise_wave(responses, items, wave="bench")
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    summarise_wave(responses, items, wave="bench")
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result = {
        "n_pupils": n_pupils,
        "rows": len(table),
        "best_s": min(times),
        "median_s": statistics.median(times),
        "traced_peak_mb": traced_peak / 2**20,
        "data_mb": data_mb,
        "rss_before_mb": rss_before,
        "rss_peak_mb": _rss_mb(),
    }
    if breakdowns:
        start = time.perf_counter()
        cells = item_breakdowns(responses, items, wave="bench")
        result["breakdowns_s"] = time.perf_counter() - start
        result["breakdown_rows"] = len(cells)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--categorical",
        action="store_true",
        help="item columns as pandas categoricals instead of strings",
    )
    parser.add_argument(
        "--breakdowns",
        action="store_true",
        help="also time item_breakdowns (year group, gender, FSM)",
    )
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.repeat, args.categorical, args.breakdowns)))
        return

    kind = "categorical" if args.categorical else "string"
    print(
        f"summarise_wave, school level: {N_ITEMS} items, ~{N_SCHOOLS} schools, "
        f"{kind} item columns, best/median of {args.repeat}"
    )
    header = (
        f"{'pupils':>8} {'rows':>6} {'best s':>7} {'median s':>8} {'alloc MB':>9} "
        f"{'data MB':>8} {'RSS MB':>7}"
    )
    if args.breakdowns:
        header += f" {'breakdowns s':>13}"
    print(header)
    results = []
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--worker", str(n), "--repeat", str(args.repeat)]
        cmd += ["--categorical"] * args.categorical + ["--breakdowns"] * args.breakdowns
        out = subprocess.run(cmd, check=True, capture_output=True, text=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(r)
        line = (
            f"{n:>8,} {r['rows']:>6} {r['best_s']:>7.3f} {r['median_s']:>8.3f} "
            f"{r['traced_peak_mb']:>9.1f} {r['data_mb']:>8.1f} {r['rss_peak_mb']:>7.0f}"
        )
        if args.breakdowns:
            line += f" {r['breakdowns_s']:>13.2f}"
        print(line)
    print()
    for a, b in itertools.pairwise(results):
        scale = b["n_pupils"] / a["n_pupils"]
        print(
            f"{a['n_pupils']:,} -> {b['n_pupils']:,} pupils (x{scale:.1f}): "
            f"time x{b['median_s'] / a['median_s']:.2f}, "
            f"allocated memory x{b['traced_peak_mb'] / a['traced_peak_mb']:.2f}"
        )
    for r in results:
        per = 1e6 * r["median_s"] / r["n_pupils"]
        print(f"{r['n_pupils']:>8,} pupils: {per:.1f} µs per pupil")
    biggest = results[-1]
    if biggest["n_pupils"] >= 100_000:
        ok_time = biggest["median_s"] < TIME_BUDGET_S
        ok_mem = biggest["rss_peak_mb"] < MEMORY_BUDGET_MB
        print(
            f"\nbudget at {biggest['n_pupils']:,} pupils: time {biggest['median_s']:.2f} s "
            f"(< {TIME_BUDGET_S:.0f} s: {'met' if ok_time else 'MISSED'}), peak RSS "
            f"{biggest['rss_peak_mb']:.0f} MB (< {MEMORY_BUDGET_MB:.0f} MB: "
            f"{'met' if ok_mem else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
