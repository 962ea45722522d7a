"""Load test: 600 pupils in 20 classes take the whole pupil survey, page by page, at once.

The product runs as in production (``placevoice serve``: gunicorn, several workers) on
SQLite, then on PostgreSQL. Each simulated pupil is a browser without JavaScript (see
``bench/pupil_client.py``): it enters its class code, follows every page's form and
submits. Afterwards the database is compared with what the server acknowledged:

* errors: pupils that hit an unexpected status or a dead end (must be 0);
* lost: acknowledged submissions missing from the database (must be 0);
* duplicated: submitted rows beyond the acknowledged ones (must be 0);
* p50/p95/p99 latency of every request, requests/s and submits/s.

Only 127.0.0.1 is used. The run is bounded: at most ``--pupils`` pupils, each with at
most 200 requests, and ``--time-limit`` seconds per database.

    .venv/bin/python bench/load_pupils.py [--pupils 600] [--classes 20] [--workers 4]
        [--threads 8] [--clients 4] [--backends sqlite postgres] [--time-limit 900]

PostgreSQL: ``$PLACEVOICE_BENCH_POSTGRES_URL``, else the local test cluster
(postgresql://postgres:placevoice-test@127.0.0.1:5432/postgres); a scratch database
``placevoice_bench`` is created there and dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pupil_client import (
    Outcome,
    free_port,
    kill_server,
    percentile,
    set_up,
    start_server,
    stored_ids,
    take_survey,
)

DEFAULT_POSTGRES = "postgresql://postgres:placevoice-test@127.0.0.1:5432/postgres"


def _client_batch(args: tuple[int, list[tuple[str, int]], bool, float]) -> list[Outcome]:
    """One client process: its pupils all at once, one thread each."""
    port, pupils, retry, budget = args
    with ThreadPoolExecutor(max_workers=max(1, len(pupils))) as pool:
        futures = [
            pool.submit(take_survey, port, code, seed, retry=retry, budget_s=budget)
            for code, seed in pupils
        ]
        return [f.result() for f in futures]


def run_pupils(
    port: int, codes: list[str], pupils: int, clients: int, *, retry: bool, budget: float
) -> tuple[list[Outcome], float]:
    """All pupils at once, spread over ``clients`` processes; returns outcomes and seconds."""
    plan = [(codes[i % len(codes)], i) for i in range(pupils)]
    batches = [plan[i::clients] for i in range(clients)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=clients) as pool:
        results = pool.map(_client_batch, [(port, b, retry, budget) for b in batches])
        outcomes = [o for batch in results for o in batch]
    return outcomes, time.perf_counter() - started


def report(name: str, db_url: str, outcomes: list[Outcome], seconds: float) -> dict[str, object]:
    """Compare the database with what was acknowledged; print and return the figures."""
    acked = {o.rid for o in outcomes if o.acknowledged}
    stored, rows = stored_ids(db_url)
    latencies = [t for o in outcomes for t in o.latencies]
    errors = [o.error for o in outcomes if o.error]
    figures: dict[str, object] = {
        "database": name,
        "pupils": len(outcomes),
        "acknowledged": len(acked),
        "stored": rows,
        "errors": len(errors),
        "lost": len(acked - stored),
        # Each pupil has its own response id, so any submitted row that was not
        # acknowledged is a second copy of somebody's answers (or a silent failure).
        "duplicated": len(stored - acked),
        "requests": len(latencies),
        "retries": sum(o.retries for o in outcomes),
        "seconds": round(seconds, 1),
        "requests_per_s": round(len(latencies) / seconds, 1),
        "submits_per_s": round(len(acked) / seconds, 2),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "max_ms": round(max(latencies, default=0) * 1000, 1),
    }
    print(f"\n== {name}: {len(outcomes)} pupils ==")
    for key, value in figures.items():
        print(f"  {key:>22}: {value}")
    for message in sorted(set(errors))[:10]:
        print(f"  error: {message}")
    return figures


def postgres_scratch(base: str) -> str:
    """A fresh ``placevoice_bench`` database next to ``base``; returns its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from surveys.db import database_url

    url = make_url(database_url(base))
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "placevoice_bench" WITH (FORCE)'))
        conn.execute(text('CREATE DATABASE "placevoice_bench"'))
    admin.dispose()
    return url.set(database="placevoice_bench").render_as_string(hide_password=False)


def drop_postgres_scratch(base: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from surveys.db import database_url

    admin = create_engine(
        make_url(database_url(base)).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "placevoice_bench" WITH (FORCE)'))
    admin.dispose()


def run_backend(name: str, db_url: str, options: argparse.Namespace) -> dict[str, object]:
    codes = set_up(db_url, schools=options.schools, classes=options.classes, pupils_per_class=30)
    port = free_port()
    server = start_server(db_url, port, workers=options.workers, threads=options.threads)
    try:
        outcomes, seconds = run_pupils(
            port, codes, options.pupils, options.clients, retry=False, budget=options.time_limit
        )
    finally:
        kill_server(server)
    return report(name, db_url, outcomes, seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pupils", type=int, default=600)
    parser.add_argument("--classes", type=int, default=20)
    parser.add_argument("--schools", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker")
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--time-limit", type=float, default=900.0, help="seconds per pupil at most")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    options = parser.parse_args()
    results = []
    for backend in options.backends:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                results.append(run_backend("sqlite", f"sqlite:///{tmp}/bench.db", options))
        else:
            base = os.environ.get("PLACEVOICE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
            url = postgres_scratch(base)
            try:
                results.append(run_backend("postgresql", url, options))
            finally:
                drop_postgres_scratch(base)
    if options.json:
        options.json.write_text(json.dumps(results, indent=2))
    bad = [r for r in results if r["errors"] or r["lost"] or r["duplicated"]]
    print("\nresult:", "FAIL" if bad else "ok (zero errors, zero lost, zero duplicated)")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
